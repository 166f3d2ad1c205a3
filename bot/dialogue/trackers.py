"""Reading the conversation from the tracker an action receives: the latest message (its text,
id, intent, entities, channel), what was asked before, and when a form started.

Duck-typed over rasa_sdk's Tracker, so nothing here imports Rasa: `tracker.events` are Rasa's
JSON events (dicts, oldest first) and `tracker.latest_message` the latest message's parse data.
The functions that take `events` work on any list of such dicts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from bot.dialogue.digression import OFFER_PREFIX

if TYPE_CHECKING:  # only for the hints: the action server passes its own Tracker
    from rasa_sdk import Tracker

Event = Mapping[str, Any]

SMS_CHANNEL = "twilio"  # the input channel of text messages (bot.channels.twilio.CHANNEL)


def user_events(events: Iterable[Event]) -> list[Event]:
    """The person's messages, oldest first."""
    return [event for event in events if event.get("event") == "user"]


def intent_of(event: Event) -> str | None:
    """The intent a user event was read as."""
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the person's latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, name: str) -> str | None:
    """The first value of entity `name` in the latest message, if it has one."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def has_entity(tracker: Tracker, name: str, value: str) -> bool:
    """Whether the latest message carries entity `name` with this value."""
    return any(e.get("entity") == name and e.get("value") == value for e in (tracker.latest_message or {}).get("entities") or [])


def latest_text(tracker: Tracker) -> str:
    """What the person last typed (or the button payload they sent)."""
    users = user_events(tracker.events)
    return str(users[-1].get("text") or "") if users else ""


def latest_message_id(tracker: Tracker) -> str:
    """The id of the person's latest message: a retried message has the same one."""
    message_id = (tracker.latest_message or {}).get("message_id")
    if not message_id:
        users = user_events(tracker.events)
        message_id = users[-1].get("message_id") if users else None
    return str(message_id or "")


def request_key(tracker: Tracker) -> str:
    """A key for what the latest message asks for (a call back, a live chat): the same when the
    message comes again, so a retry never makes a second case. It is the end of the turn before it
    (the last action_listen's time), not the message's id: a Rasa server that dies while the case
    is stored never saves that turn, so the person's "yes" sent again (a new message id) follows
    the same conversation and gets the same key; any later request follows a later turn. (An SMS
    that Twilio retries is also taken once by its MessageSid, bot/channels/twilio.py.)"""
    listens = [e["timestamp"] for e in tracker.events
               if e.get("event") == "action" and e.get("name") == "action_listen" and e.get("timestamp") is not None]
    if listens:
        return f"{tracker.sender_id}:{listens[-1]!r}"
    return f"{tracker.sender_id}:{latest_message_id(tracker)}"


def user_intents(tracker: Tracker) -> list[str | None]:
    """The intent of every message in the conversation, oldest first."""
    return [intent_of(event) for event in user_events(tracker.events)]


def input_channel(tracker: Tracker) -> str:
    """The channel the latest message came in on ("" when Rasa does not say)."""
    return tracker.get_latest_input_channel() or ""


def on_sms(tracker: Tracker) -> bool:
    """Whether the person is texting: the conversation is then the number they text from."""
    return input_channel(tracker) == SMS_CHANNEL


def attempts_at(events: Iterable[Event], slot: str) -> int:
    """How many messages the person has sent since the form started asking for `slot`.

    Counted from the conversation's events rather than kept in a slot, so running the
    validation twice in one turn (rasa#11595) cannot count one answer twice.
    """
    asking = None
    count = 0
    for event in events:
        kind = event.get("event")
        if kind == "action" and str(event.get("name", "")).startswith(OFFER_PREFIX):
            # A question was answered and the form offered to carry on: the question was not
            # an attempt, and neither is the reply to the offer ("carry on").
            count = -1
        elif kind == "slot" and event.get("name") == "requested_slot":
            if event.get("value") != asking:
                asking, count = event.get("value"), 0
        elif kind in ("restart", "session_started") or (kind == "active_loop" and event.get("name") is None):
            asking, count = None, 0
        elif kind == "user" and asking == slot:
            count += 1
    return count


def form_started_at(events: Sequence[Event], form: str) -> float | None:
    """Rasa's timestamp of the person's message that started the latest run of `form` (so
    that what they typed into it can be found again), or None if it never ran."""
    active = None
    last_user: float | None = None
    started: float | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            last_user = event.get("timestamp")
        elif kind == "active_loop":
            name = event.get("name")
            if name == form and active != form:
                started = last_user if last_user is not None else event.get("timestamp")
            active = name
        elif kind in ("restart", "session_started"):
            active = None
    return started
