"""One conversation's summary, folded event by event from Rasa's tracker events (bot.insights.summary
reads the events in id order and keeps the rows). Everything a later read needs is carried in
`state` (JSON in the row), so reading in many small batches gives exactly what one read of
everything gives. What each column means is in bot.insights.summary's docstring.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.conversations import event_time
from bot.dialogue.follow_up import is_reread
from bot.insights.reading import count_question, is_topic, read_slot
from bot.nlp.safety import SAFETY_RESPONSES
from bot.referrals.counts import monday

# A message is not understood when the classifier fell back, or when the assistant answered it
# with the fallback reply or the "that's outside what I can help with" reply.
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_REPLIES = frozenset({"action_default_fallback", "utter_default", "utter_out_of_scope"})
# Asking for a person: these intents, a live chat starting, or the call-back form starting.
PERSON_INTENTS = frozenset({"ask_human", "ask_live_chat", "request_callback"})
PERSON_ACTIONS = frozenset({"action_handoff"})
FORM = "referral_form"
SUBMIT, STOP = "action_submit_referral", "action_stop_referral"
SENT = "utter_referral_sent"  # what action_submit_referral says once the case is stored
SAFETY_REPLIES = frozenset(name for names in SAFETY_RESPONSES.values() for name in names)
HELPFUL, NOT_HELPFUL = "feedback_helpful", "feedback_not_helpful"
# A conversation has ended when nothing happened in it for this long (then `contained` is decided).
ENDED_AFTER = timedelta(minutes=30)
# A call-back form still open with nothing happening for this long was left unfinished.
FORM_LEFT_AFTER = timedelta(hours=1)


def new_state() -> dict[str, Any]:
    """The state of a conversation before its first event."""
    return {
        "topics": {},  # questions per topic so far
        "last_topic": None,  # the topic of the latest message (for a message read again)
        "context": "",  # the topic being talked about: the latest topic asked, "" before any
        "fallbacks": 0,  # messages not understood, before the latest one
        "not_understood": {},  # ... by the topic being talked about then
        "current": None,  # the latest message: {"nu": not understood, "context": the topic before it}
        "form": None,  # the call-back form: None, "open", "closing" (ended, not sent yet), "submitting"
        "sent": False,  # while submitting: the case was stored
        "abandoned": 0,  # forms that ended without a case
    }


@dataclass
class Event:
    """One row of Rasa's events table, its JSON read."""

    id: int
    type_name: str
    timestamp: float | None
    intent: str | None
    action: str | None
    data: dict[str, Any]


@dataclass
class Conversation:
    """A summary row's values while reading (the time-dependent flags come from `columns(now)`)."""

    channel: str = ""
    started_at: datetime | None = None
    last_at: datetime | None = None
    council_code: str = ""
    audience: str = ""
    messages: int = 0
    helpful: int = 0
    not_helpful: int = 0
    asked_for_person: bool = False
    safety: bool = False
    last_event_id: int = 0
    state: dict[str, Any] = field(default_factory=new_state)

    def apply(self, event: Event, councils: dict[str, str]) -> None:
        """Fold one event in (events of one conversation, in id order)."""
        if event.type_name == "user":
            self._user(event)
        elif self.started_at is None:
            return  # nothing before the person's first message counts (session start, greeting)
        elif event.type_name == "action":
            self._action(event.action or event.data.get("name"))
        elif event.type_name == "bot":
            self._bot((event.data.get("metadata") or {}).get("utter_action"))
        elif event.type_name == "slot":
            self.council_code, self.audience = read_slot(
                event.data.get("name"), event.data.get("value"), self.council_code, self.audience, councils,
            )
        elif event.type_name == "active_loop":
            self._loop(event.data.get("name"))
        at = event_time(event.timestamp)
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        self.last_event_id = event.id

    def _user(self, event: Event) -> None:
        state, intent = self.state, event.intent
        reread = is_reread(event.data)
        self._form_after_turn()
        self.started_at = self.started_at or event_time(event.timestamp)
        if not self.channel:
            self.channel = event.data.get("input_channel") or ""
        current = state["current"]
        if reread and current is not None:
            state["context"] = current["context"]  # the same message read anew: its first reading is undone
        else:
            if current is not None and current["nu"]:
                state["fallbacks"] += 1
                topics = state["not_understood"]
                topics[current["context"]] = topics.get(current["context"], 0) + 1
            self.messages += 1
            self.helpful += intent == HELPFUL
            self.not_helpful += intent == NOT_HELPFUL
        context = state["context"]
        state["last_topic"] = count_question(state["topics"], state["last_topic"], intent, reread)
        if is_topic(intent) and intent != "out_of_scope":
            state["context"] = intent
        state["current"] = {"nu": intent in FALLBACK_INTENTS, "context": context}
        self.asked_for_person |= intent in PERSON_INTENTS

    def _not_understood(self) -> None:
        if self.state["current"] is not None:
            self.state["current"]["nu"] = True

    def _action(self, name: str | None) -> None:
        state = self.state
        if state["form"] == "submitting":
            self._form_after_turn()  # the turn after sending: was a case stored?
        if state["form"] in ("open", "closing") and name == SUBMIT:
            state["form"], state["sent"] = "submitting", False
        elif state["form"] == "closing" or (state["form"] == "open" and name == STOP):
            self._form_ended(sent=False)  # stopped, cancelled, or moved on without sending
        if name in FALLBACK_REPLIES:
            self._not_understood()
        self.safety |= name in SAFETY_REPLIES
        self.asked_for_person |= name in PERSON_ACTIONS

    def _bot(self, response: str | None) -> None:
        if response == SENT and self.state["form"] == "submitting":
            self.state["sent"] = True
        if response in FALLBACK_REPLIES:
            self._not_understood()
        self.safety |= response in SAFETY_REPLIES

    def _loop(self, name: str | None) -> None:
        if name == FORM:
            self.state["form"] = "open"
            self.asked_for_person = True
        elif name is None and self.state["form"] == "open":
            self.state["form"] = "closing"

    def _form_after_turn(self) -> None:
        """A new turn began: a form that ended or was sent in the turn before is settled."""
        if self.state["form"] == "submitting":
            self._form_ended(sent=self.state["sent"])
        elif self.state["form"] == "closing":
            self._form_ended(sent=False)

    def _form_ended(self, *, sent: bool) -> None:
        self.state["form"], self.state["sent"] = None, False
        self.state["abandoned"] += not sent

    def columns(self, now: datetime) -> dict[str, Any]:
        """The summary row's columns as of `now` (the flags that depend on time included)."""
        state = self.state
        current = state["current"] or {"nu": False, "context": ""}
        not_understood = dict(state["not_understood"])
        if current["nu"]:
            not_understood[current["context"]] = not_understood.get(current["context"], 0) + 1
        idle = now - self.last_at
        form_left = state["form"] in ("open", "closing") or (state["form"] == "submitting" and not state["sent"])
        return {
            "channel": self.channel, "started_at": self.started_at, "last_at": self.last_at,
            "week": monday_of(self.started_at), "council_code": self.council_code, "audience": self.audience,
            "messages": self.messages, "questions": sum(state["topics"].values()),
            "fallbacks": state["fallbacks"] + current["nu"], "asked_for_person": self.asked_for_person,
            "form_abandoned": state["abandoned"] > 0 or (form_left and idle > FORM_LEFT_AFTER),
            "safety": self.safety, "last_unanswered": current["nu"],
            "contained": idle > ENDED_AFTER and not self.asked_for_person and not current["nu"],
            "helpful": self.helpful, "not_helpful": self.not_helpful,
            "not_understood_topics": json.dumps(not_understood, sort_keys=True),
            "last_event_id": self.last_event_id, "state": json.dumps(state, sort_keys=True),
        }

    @classmethod
    def from_row(cls, row: Any) -> "Conversation":
        """The conversation as a summary row left it."""
        return cls(
            channel=row.channel, started_at=row.started_at, last_at=row.last_at, council_code=row.council_code,
            audience=row.audience, messages=row.messages, helpful=row.helpful, not_helpful=row.not_helpful,
            asked_for_person=row.asked_for_person, safety=row.safety, last_event_id=row.last_event_id,
            state={**new_state(), **json.loads(row.state or "{}")},
        )


def monday_of(day: datetime) -> str:
    """The ISO date of the Monday of `day`'s week."""
    return monday(day.date())


def read_event(row: Any) -> Event:
    """An Event from a row of the events table (id, sender_id, type_name, timestamp, intent_name, action_name, data)."""
    wanted = row.type_name in ("user", "bot", "slot", "active_loop") or (row.type_name == "action" and not row.action_name)
    return Event(row.id, row.type_name, row.timestamp, row.intent_name, row.action_name,
                 json.loads(row.data or "{}") if wanted else {})
