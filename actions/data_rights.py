""""Delete my details": erase the person's cases now and their conversation moments later; "what do you
know about me?": what the conversation holds. Thin glue over bot.referrals and bot.profile."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import db
from bot.actions_support import guarded
from bot.profile import known_facts
from bot.referrals import cases
from bot.referrals.models import KIND_CALLBACK
from bot.settings import Settings


@guarded
class ActionDeleteMyData(Action):
    """After they confirmed: delete their cases, queue the conversation's erasure, forget every slot."""

    def name(self) -> Text:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            await db.run(
                lambda session: cases.request_erasure(tracker.sender_id, session=session),
                what="record an erasure request", write=True,
            )
        except db.Unavailable:
            dispatcher.utter_message(response="utter_delete_my_data_failed")
            return []
        dispatcher.utter_message(response="utter_delete_my_data_done")
        return [AllSlotsReset()]


@guarded
class ActionWhatYouKnow(Action):
    """"What do you know about me?": what this conversation holds (bot.profile.known_facts), whether a
    call back is open, and how to change or delete it."""

    def name(self) -> Text:
        return "action_what_you_know"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        has_callback = await db.run(
            lambda session: bool(cases.open_cases_for(tracker.sender_id, session=session, kind=KIND_CALLBACK)),
            what="look up open call backs", otherwise=False,  # the rest still answers the question
        )
        parts = known_facts(tracker.slots, domain.get("responses") or {}, has_callback=has_callback)
        if parts:
            dispatcher.utter_message(response="utter_what_you_know", known="; ".join(parts))
        else:
            dispatcher.utter_message(response="utter_what_you_know_nothing")
        dispatcher.utter_message(response="utter_what_you_know_2", retention_days=Settings.from_env().conversation_retention_days)
        return []
