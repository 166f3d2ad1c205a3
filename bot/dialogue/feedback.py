""""Was that helpful?": asked once a conversation, at its natural end (the person says thanks or
goodbye) and only after the assistant answered a question about a topic. Never after a safety
reply in the same conversation: someone in crisis is not asked to rate an answer.

The answer is a message like any other (buttons send /feedback_helpful or /feedback_not_helpful;
by text message, "1" or "2"; typed words are read by the NLU), so it stays in the tracker store
and the measures count it from there (bot.insights.summary).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from bot.nlp.safety import SAFETY_INTENTS
from bot.referrals.form import topic_intents

FEEDBACK_INTENTS = ("feedback_helpful", "feedback_not_helpful")
ASKED_SLOT = "feedback_asked"
ASK = "utter_ask_feedback"

Event = Mapping[str, Any]


def _this_session(events: Iterable[Event]) -> list[Event]:
    events = list(events)
    starts = [i for i, event in enumerate(events) if event.get("event") == "session_started"]
    return events[starts[-1]:] if starts else events


def _intent(event: Event) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def should_ask(events: Iterable[Event]) -> bool:
    """Whether to ask "did I help?" now: a topic was answered in this session, nothing was asked
    or said about it yet, and no safety reply was needed."""
    topics, answered = set(topic_intents()), False
    for event in _this_session(events):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == ASKED_SLOT and event.get("value"):
            return False
        if kind != "user":
            continue
        intent = _intent(event)
        if intent in SAFETY_INTENTS or intent in FEEDBACK_INTENTS:
            return False
        answered = answered or intent in topics
    return answered
