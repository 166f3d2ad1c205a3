"""The conversation itself: a short follow-up read against what came before. Thin glue over bot.dialogue."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions_support import guarded
from bot.dialogue import feedback, follow_up, trackers
from bot.nlp.follow_up import FACETS


@guarded
class ActionFollowUp(Action):
    """Says the latest message again as what it means here ("what about my daughter?" after the ID
    answer: children on visits), so that intent's own rules answer it. Predicted by
    bot.dialogue.policy.FormRulePolicy for messages the NLU marked as follow-ups."""

    def name(self) -> Text:
        return "action_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        guess = trackers.latest_intent(tracker)
        facet = follow_up.facet_of(tracker.latest_message or {})
        if facet not in FACETS:
            reading = follow_up.Reading(guess or "nlu_fallback")  # nothing to lean on: as the classifier read it
        else:
            reading = follow_up.resolve(
                facet,
                follow_up.last_topic(reversed(tracker.applied_events())),
                tracker.slots,
                guess=guess,
                own_need=trackers.latest_entity(tracker, "need"),
            )
        return follow_up.reread_events(tracker.applied_events(), reading)


@guarded
class ActionAskFeedback(Action):
    """At thanks or goodbye: "Did I help today?" once, after a topic answer (bot.dialogue.feedback)."""

    def name(self) -> Text:
        return "action_ask_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if not feedback.should_ask(tracker.events):
            return []
        dispatcher.utter_message(response=feedback.ASK)
        return [SlotSet(feedback.ASKED_SLOT, True)]
