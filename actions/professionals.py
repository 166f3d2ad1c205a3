"""action_refer_family: a professional asking where to refer or signpost a family in a place
gets the directory's local services first (as action_search_services finds them), then
where to go when a child may be at risk. Thin glue over bot.directory."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.directory import ActionSearchServices
from bot.actions_support import guarded

# What action_search_services sends when it has listed services (not when it asks for the place
# or has none: then the safeguarding line would interrupt a question).
_LISTED = frozenset({"utter_directory_result"})


@guarded
class ActionReferFamily(ActionSearchServices):
    """Local services for the family, then children's social care and early help."""

    def name(self) -> Text:
        return "action_refer_family"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        before = len(dispatcher.messages)
        # Ranked as for a family: the services the family can be referred to come first (with
        # audience "professional", search ranks services for professionals, such as training, first).
        as_family = tracker.copy()
        as_family.slots["audience"] = "family"
        events = await super().run(dispatcher, as_family, domain)
        sent = {m.get("response") for m in dispatcher.messages[before:]}
        if sent & _LISTED:
            dispatcher.utter_message(response="utter_refer_family_safeguarding")
        return events
