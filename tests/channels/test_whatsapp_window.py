"""bot/channels/whatsapp_window.py: WhatsApp conversation ids, and the 24-hour window as every
process reads it from Rasa's events: from a tracker's events, and from the tracker store's
table as Rasa's own SQL tracker store writes it (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import db
from bot.channels import whatsapp_window as window
from bot.endpoints import tracker_store_endpoint

HOUR = 3600.0
NOW = 1_800_000_000.0


def user(text: str, at: float, channel: str = "whatsapp") -> dict:
    return UserUttered(text, timestamp=at, input_channel=channel).as_dict()


def bot(text: str, at: float) -> dict:
    return BotUttered(text, timestamp=at).as_dict()


def newest_first(*events: dict) -> list[dict]:
    return list(reversed(events))


def test_conversation_ids_carry_the_channel_and_give_twilios_address():
    assert window.sender_id("whatsapp:+447700900123") == window.sender_id("+447700900123") == "wa:+447700900123"
    assert window.address("wa:+447700900123") == "whatsapp:+447700900123"
    assert window.is_whatsapp("wa:+447700900123")
    assert not window.is_whatsapp("sms:+447700900123") and not window.is_whatsapp(None)


@pytest.mark.parametrize("hours_ago, is_open", [(0.1, True), (23.5, True), (23.95, False), (24.5, False), (72, False)])
def test_the_window_is_24_hours_from_their_last_message_closed_a_few_minutes_early(hours_ago, is_open):
    seen = window.from_newest(newest_first(user("hi", NOW - hours_ago * HOUR), bot("hello", NOW - hours_ago * HOUR)), NOW)
    assert seen.open is is_open
    assert seen.hours_since == pytest.approx(hours_ago)
    assert seen.held == ()  # the answer went within the window


def test_only_the_persons_own_whatsapp_messages_count():
    external = UserUttered.create_external("EXTERNAL_handoff_timeout", input_channel="whatsapp").as_dict()
    external["timestamp"] = NOW - 60
    events = newest_first(user("hi", NOW - 30 * HOUR), user("by sms", NOW - HOUR, "twilio"), external)
    seen = window.from_newest(events, NOW)
    assert seen.last_inbound == NOW - 30 * HOUR and not seen.open


def test_what_was_said_after_the_window_closed_is_held_oldest_first():
    events = newest_first(
        user("hi", NOW - 30 * HOUR), bot("answer", NOW - 30 * HOUR), bot("a worker joined", NOW - 20 * HOUR),
        bot("Hello, I'm Sam", NOW - 3 * HOUR), bot("Are you there?", NOW - HOUR),
    )
    seen = window.from_newest(events, NOW)
    assert [e["text"] for e in seen.held] == ["Hello, I'm Sam", "Are you there?"] and seen.invited
    assert not window.from_newest(events[2:], NOW).invited


def test_a_conversation_they_never_wrote_in_is_closed_with_nothing_held():
    seen = window.from_newest(newest_first(bot("hello", NOW - HOUR)), NOW)
    assert (seen.open, seen.last_inbound, seen.held, seen.hours_since) == (False, None, (), None)


def test_the_console_reads_the_window_from_the_tracker_store_rasa_writes(empty_database_url):
    store = create_tracker_store(EndpointConfig.from_dict(tracker_store_endpoint(empty_database_url)), Domain.empty())
    now = time.time()
    tracker = DialogueStateTracker("wa:+447700900123", slots=[])
    for event in (
        ActionExecuted("action_session_start", timestamp=now - 30 * HOUR), SessionStarted(timestamp=now - 30 * HOUR),
        UserUttered("hi", timestamp=now - 30 * HOUR, input_channel="whatsapp"), BotUttered("hello", timestamp=now - 30 * HOUR),
        BotUttered("Hello, I'm Sam", timestamp=now - 2 * HOUR, metadata={"staff": "Sam"}),
    ):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    other = DialogueStateTracker("sms:+447700900123", slots=[])
    other.update(UserUttered("hi", timestamp=now - 60, input_channel="twilio"))
    asyncio.run(store.save(other))

    seen = window.read("wa:+447700900123", engine=db.engine_for(empty_database_url))
    assert not seen.open and seen.hours_since == pytest.approx(30, abs=0.01)
    assert [e["text"] for e in seen.held] == ["Hello, I'm Sam"]
    unknown = window.read("wa:+447700900999", engine=db.engine_for(empty_database_url))
    assert unknown.last_inbound is None and not unknown.open
