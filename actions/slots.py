"""Fills the slots whose values are worked out rather than copied from an entity."""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot import profile

ASK_CHILD_AGE = "utter_ask_child_age"


def _entities(tracker: Tracker) -> list[dict]:
    return tracker.latest_message.get("entities") or []


def _last_bot_utterance(tracker: Tracker) -> str | None:
    """The response the bot gave just before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event.get("name")
    return None


class ValidatePredefinedSlots(ValidationAction):
    """action_validate_slot_mappings: runs after every user message."""

    def extract_audience(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        audience = profile.audience_from(_entities(tracker))
        return {"audience": audience} if audience else {}

    def extract_child_age_group(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        asked = _last_bot_utterance(tracker) == ASK_CHILD_AGE
        group = profile.child_age_group_from(_entities(tracker), asked_for_age=asked)
        return {"child_age_group": group} if group else {}

    def extract_prison_address(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        prisons = [e["value"] for e in _entities(tracker) if e.get("entity") == "prison"]
        if not prisons:
            return {}
        return {"prison_address": profile.prison_address(prisons[0])}

    def extract_last_noted(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        noted = profile.last_noted_from(_entities(tracker))
        if noted is None and tracker.get_slot("last_noted") is None:
            return {}
        return {"last_noted": noted}

    def extract_helpline_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return {}  # set from the domain's initial value; never from what users type
