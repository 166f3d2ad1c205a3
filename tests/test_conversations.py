"""Transcripts, erasure, retention and usage counts over conversations saved by Rasa's own
SQLTrackerStore (the same table the running assistant writes)."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import conversations, db, retention
from bot.referrals import cases
from bot.referrals.models import ErasureRequest, UsageCount
from bot.settings import Settings


@pytest.fixture
def tracker_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def save_conversation(tracker_url: str, sender: str, turns: list[tuple], started: float | None = None) -> None:
    """Save a conversation through Rasa's SQLTrackerStore. Turns: ("user", text, intent),
    ("bot", text), ("slot", name, value), ("pause",), ("resume",), ("reread", text, intent): the
    message before said again as action_follow_up does (a rewind, then the same words read anew)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        BotUttered, ConversationPaused, ConversationResumed, SlotSet, UserUttered, UserUtteranceReverted,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    at = started or time.time()
    events = []
    for i, turn in enumerate(turns):
        stamp = at + i
        if turn[0] == "user":
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": 1.0}, timestamp=stamp))
        elif turn[0] == "bot":
            events.append(BotUttered(turn[1], metadata=turn[2] if len(turn) > 2 else {}, timestamp=stamp))
        elif turn[0] == "slot":
            events.append(SlotSet(turn[1], turn[2], timestamp=stamp))
        elif turn[0] == "reread":
            events.append(UserUtteranceReverted(timestamp=stamp))
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": 1.0}, timestamp=stamp,
                                      metadata={"reread": "follow_up"}))
        elif turn[0] == "pause":
            events.append(ConversationPaused(timestamp=stamp))
        else:
            events.append(ConversationResumed(timestamp=stamp))
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tracker_url[len("sqlite:///"):])
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def engine(url):
    return db.engine_for(url)


def test_transcript_in_order_with_the_worker_marked(tracker_url):
    save_conversation(tracker_url, "chat-1", [
        ("user", "<script>alert(1)</script> can i visit", "ask_visit_booking"),
        ("bot", "You can book online."),
        ("pause",),
        ("bot", "Hello, I'm Sam from the helpline.", {"staff": "Sam"}),
        ("resume",),
    ])
    lines = conversations.transcript("chat-1", engine=engine(tracker_url))
    assert [(line.who, line.text) for line in lines] == [
        ("user", "<script>alert(1)</script> can i visit"),
        ("bot", "You can book online."),
        ("system", "The assistant was paused for a worker."),
        ("worker", "Hello, I'm Sam from the helpline."),
        ("system", "The assistant took over again."),
    ]
    assert lines[3].worker == "Sam"
    assert conversations.transcript("nobody", engine=engine(tracker_url)) == []


def test_a_follow_up_read_again_in_context_is_shown_and_counted_once(tracker_url, session_for):
    save_conversation(tracker_url, "chat-1", [
        ("user", "what id do i need", "ask_visit_rules"),
        ("bot", "Bring photo ID."),
        ("user", "what about the kids", "ask_child_feelings"),
        ("reread", "what about the kids", "ask_visit_children"),
        ("bot", "Children under 16 don't need their own ID."),
    ])
    lines = conversations.transcript("chat-1", engine=engine(tracker_url))
    assert [line.text for line in lines if line.who == "user"] == ["what id do i need", "what about the kids"]
    with session_for() as s:
        rows = conversations.usage(tracker_engine=engine(tracker_url), session=s)
    topics = {r.topic: r.questions for r in rows if r.topic}
    assert topics == {"ask_visit_rules": 1, "ask_visit_children": 1}


def test_paused_state_follows_the_latest_event(tracker_url):
    save_conversation(tracker_url, "chat-1", [("user", "a person please", "ask_human"), ("pause",)])
    save_conversation(tracker_url, "chat-2", [("user", "hi", "greet"), ("pause",), ("resume",)])
    assert conversations.is_paused("chat-1", engine=engine(tracker_url))
    assert not conversations.is_paused("chat-2", engine=engine(tracker_url))


def test_erase_removes_only_that_conversation(tracker_url):
    save_conversation(tracker_url, "chat-1", [("user", "hi", "greet"), ("bot", "Hello")])
    save_conversation(tracker_url, "chat-2", [("user", "hi", "greet")])
    assert conversations.erase("chat-1", engine=engine(tracker_url)) > 0
    assert conversations.transcript("chat-1", engine=engine(tracker_url)) == []
    assert len(conversations.transcript("chat-2", engine=engine(tracker_url))) == 1


def test_usage_counts_conversations_questions_and_referrals_anonymously(tracker_url, session_for):
    monday = datetime(2026, 11, 23, 10).timestamp()
    save_conversation(tracker_url, "a", [
        ("user", "hi", "greet"),
        ("slot", "audience", "family"),
        ("slot", "area", "Stockton-on-Tees"),
        ("user", "how do i book a visit", "ask_visit_booking"),
        ("user", "and the cost", "ask_visit_costs"),
        ("user", "booking again?", "ask_visit_booking"),
    ], started=monday)
    save_conversation(tracker_url, "b", [("user", "what can the school do", "ask_school"), ("slot", "audience", "professional")],
                      started=monday + 86400 * 8)
    with session_for() as s, s.begin():
        cases.create_callback(cases.CallbackRequest(
            sender_id="a", channel="webchat", request_key="a:1", consent_version="v1", consent_at=datetime.utcnow(),
            phone="+447700900123", safe_to_call=True, safe_to_leave_message=True, topic="ask_visit_costs",
            audience="family", council_code="STT"), session=s)
    with session_for() as s:
        rows = conversations.usage(tracker_engine=engine(tracker_url), session=s)
    found = {(r.week, r.council_code, r.topic, r.audience): (r.conversations, r.questions, r.referrals) for r in rows}
    assert found[("2026-11-23", "STT", "", "family")] == (1, 0, 0)
    assert found[("2026-11-23", "STT", "ask_visit_booking", "family")] == (1, 2, 0)
    assert found[("2026-11-23", "STT", "ask_visit_costs", "family")] == (1, 1, 0)
    assert found[("2026-11-30", "", "ask_school", "professional")] == (1, 1, 0)
    referral_week = (datetime.utcnow().date() - timedelta(days=datetime.utcnow().weekday())).isoformat()
    assert found[(referral_week, "STT", "ask_visit_costs", "family")][2] == 1
    assert not any("greet" in key for key in found)


def test_purge_erases_old_conversations_and_keeps_their_counts(tracker_url, session_for):
    old = time.time() - 100 * 86400
    save_conversation(tracker_url, "old", [("user", "visits?", "ask_visit_booking"), ("slot", "area", "Durham")], started=old)
    save_conversation(tracker_url, "new", [("user", "visits?", "ask_visit_booking")])
    with session_for() as s:
        before = conversations.usage(tracker_engine=engine(tracker_url), session=s)
        assert conversations.purge_conversations(90, tracker_engine=engine(tracker_url), session=s) == 1
    assert conversations.transcript("old", engine=engine(tracker_url)) == []
    assert conversations.transcript("new", engine=engine(tracker_url)) != []
    with session_for() as s:
        after = conversations.usage(tracker_engine=engine(tracker_url), session=s)
        kept = s.execute(select(UsageCount).where(UsageCount.topic == "ask_visit_booking")).scalar_one()
    assert kept.council_code == "DUR" and kept.questions == 1
    assert before == after  # both sorted by week, council, topic, audience


def test_erasure_request_is_carried_out_after_rasa_has_saved(tracker_url, session_for, database_url, tmp_path):
    save_conversation(tracker_url, "me", [("user", "delete my details", "delete_my_data"), ("bot", "Done.")])
    save_conversation(tracker_url, "you", [("user", "hi", "greet")])
    with session_for() as s, s.begin():
        cases.request_erasure("me", session=s)
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "database_url": database_url, "tracker_store_url": tracker_url})
    # Too soon: Rasa may still be saving the turn that asked.
    assert retention.run_once(settings, settle_seconds=60).erasures == 0
    assert retention.run_once(settings, settle_seconds=0).erasures == 1
    assert conversations.transcript("me", engine=engine(tracker_url)) == []
    assert conversations.transcript("you", engine=engine(tracker_url)) != []
    # Rasa's locks are in memory here: the request is done once a later pass finds nothing
    # written back (tests/test_retention.py has the lock and the write-back).
    later = datetime.utcnow() + timedelta(minutes=settings.erasure_verify_minutes + 1)
    assert retention.run_once(settings, settle_seconds=0, now=later).erasures == 0
    with session_for() as s:
        done = s.execute(select(ErasureRequest)).scalar_one()
        assert done.done_at is not None and done.sender_id == "erased"
    assert retention.run_once(settings, settle_seconds=0).erasures == 0


def test_retention_runs_before_rasa_has_made_its_table(tmp_path, database_url):
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "database_url": database_url,
                                 "tracker_store_url": f"sqlite:///{tmp_path / 'none.db'}"})
    assert retention.run_once(settings) == retention.Purged(0, 0, 0)
