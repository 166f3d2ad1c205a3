"""Offering a person, and live handoff to a helpline worker. Thin glue over bot.handoff and bot.referrals."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot import db
from bot.actions_support import guarded
from bot.dialogue import trackers
from bot.directory import areas
from bot.handoff import staff_on_shift
from bot.referrals import cases, form, priority


@guarded
class ActionOfferHelpFromPerson(Action):
    """A person now (when someone is on shift), a call back, or the helpline's number."""

    def name(self) -> Text:
        return "action_offer_help_from_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        # If the database can't say whether a worker could join now, nobody can.
        on_shift = await db.run(lambda session: staff_on_shift(session=session), what="check who is on shift", otherwise=False)
        dispatcher.utter_message(response="utter_offer_person_on_shift" if on_shift else "utter_offer_person_off_shift")
        # A plain "yes" to this offer means what was offered (data/rules/referral.yml).
        return [SlotSet("person_offer", "live" if on_shift else "callback")]


@guarded
class ActionHandoff(Action):
    """Queue the conversation for a worker and go quiet; if nobody is on, offer a call back."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        level, reason = priority.assess(tracker.events)

        def queue(session: Session) -> bool:
            if not staff_on_shift(session=session):
                return False
            cases.open_live(
                sender_id=tracker.sender_id,
                channel=trackers.input_channel(tracker),
                request_key=trackers.request_key(tracker),
                topic=form.main_topic(trackers.user_intents(tracker)),
                audience=tracker.get_slot("audience"),
                council_code=areas.council_code(tracker.get_slot("area")),
                priority=level,
                priority_reason=reason,
                session=session,
            )
            return True

        if not await db.run(queue, what="queue a live chat", write=True, otherwise=False):
            dispatcher.utter_message(response="utter_handoff_nobody")
            return []
        # Committed: the worker's queue has it. Rasa now only records what the person writes.
        dispatcher.utter_message(response="utter_handoff_waiting")
        return [ConversationPaused()]


@guarded
class ActionHandoffTimedOut(Action):
    """Nobody claimed the live chat in time (or the last shift ended): the sweep in
    bot/handoff.py closed the case, resumed the conversation and triggered this. Offer a call
    back; a plain "yes" then starts the form (data/rules/referral.yml)."""

    def name(self) -> Text:
        return "action_handoff_timed_out"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_timeout_offer_callback")
        return [SlotSet("person_offer", "callback")]
