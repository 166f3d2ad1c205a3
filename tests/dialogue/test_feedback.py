"""bot/dialogue/feedback.py: "Did I help today?" is asked once a session, after a topic answer,
never after a safety reply nor once the person has said whether it helped."""
from __future__ import annotations

from bot.dialogue.feedback import ASKED_SLOT, should_ask


def user(intent: str) -> dict:
    return {"event": "user", "text": "(text)", "parse_data": {"intent": {"name": intent}}}


def test_asked_after_a_topic_answer():
    assert should_ask([user("greet"), user("ask_visit_booking"), user("thank")])


def test_not_asked_without_a_topic_answer():
    assert not should_ask([user("greet"), user("thank")])
    assert not should_ask([])


def test_asked_once_a_session():
    events = [user("ask_visit_booking"), user("thank"), {"event": "slot", "name": ASKED_SLOT, "value": True}, user("goodbye")]
    assert not should_ask(events)


def test_asked_again_in_a_new_session():
    earlier = [user("ask_visit_booking"), {"event": "slot", "name": ASKED_SLOT, "value": True}]
    later = [{"event": "session_started"}, user("ask_court"), user("thank")]
    assert should_ask(earlier + later)
    assert not should_ask(earlier + [{"event": "session_started"}, user("thank")])


def test_never_after_a_safety_reply():
    assert not should_ask([user("ask_visit_booking"), user("risk_self"), user("thank")])
    assert not should_ask([user("ask_visit_booking"), user("express_distress"), user("goodbye")])


def test_not_asked_once_they_said_whether_it_helped():
    assert not should_ask([user("ask_visit_booking"), user("feedback_not_helpful"), user("thank")])
