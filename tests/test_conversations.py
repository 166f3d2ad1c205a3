"""Transcripts and erasing one conversation, over conversations saved by Rasa's own
SQLTrackerStore (the same table the running assistant writes)."""
from __future__ import annotations

from bot import conversations, usage
from tests.support.conversations import engine, save_conversation


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
        rows = usage.usage(tracker_engine=engine(tracker_url), session=s)
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
