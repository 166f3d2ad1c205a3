"""A concern for someone inside: after the Safer Custody reply, the offer of a call back marked
as a concern, and starting the call-back form as one. Thin glue over bot.referrals (the
form's concern questions are validated with the rest of it, in actions/referral.py)."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import db
from bot.actions_support import guarded
from bot.referrals import cases, concern_form
from bot.referrals.models import KIND_CALLBACK


@guarded
class ActionOfferConcernCallback(Action):
    """Offer a call back about the worry, unless this chat has one waiting already."""

    def name(self) -> Text:
        return "action_offer_concern_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        waiting = await db.run(
            lambda session: [c.reference for c in cases.open_cases_for(tracker.sender_id, session=session, kind=KIND_CALLBACK)
                             if c.concern],
            what="look for an open concern", otherwise=[],
        )
        if waiting:
            dispatcher.utter_message(response="utter_concern_already", reference=waiting[-1])
            return [SlotSet("person_offer", None)]
        dispatcher.utter_message(response="utter_offer_concern_callback")
        # A plain "yes" to this offer starts the form as a concern (data/rules/concern.yml).
        return [SlotSet("person_offer", "concern")]


@guarded
class ActionStartConcern(Action):
    """They said yes: the call-back form runs as a concern, with the prison already named if there is one."""

    def name(self) -> Text:
        return "action_start_concern"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SlotSet(concern_form.CONCERN, True)]
        known = concern_form.known_prison(tracker.get_slot("prison"))
        if known:
            events.append(SlotSet(concern_form.PRISON, known))
        return events
