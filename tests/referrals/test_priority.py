"""Risk first: a priority from the conversation's events, raised and never lowered, targets and
breaches, and the queue's summary per priority (real SQLite and PostgreSQL)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from bot.nlp.safety import SAFETY_INTENTS
from bot.referrals import cases, priority
from bot.referrals.models import PRIORITY_RANK, Case
from bot.settings import Settings

NOW = datetime(2026, 12, 1, 14, 0)
SETTINGS = dataclasses.replace(Settings.from_env(), target_minutes_urgent=15, target_minutes_high=60, target_minutes_normal=1440)


def said(*intents: str) -> list[dict]:
    """Rasa's events for a conversation in which the person's messages were read as `intents`."""
    events: list[dict] = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}]
    for i, intent in enumerate(intents):
        events += [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": f"message {i}", "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []}},
            {"event": "bot", "text": "a reply"},
        ]
    return events


def test_the_risk_intents_are_the_safety_intents_before_distress():
    assert priority.RISK_INTENTS + (priority.DISTRESS,) == SAFETY_INTENTS


@pytest.mark.parametrize("intent", ["risk_self", "risk_child", "risk_domestic_abuse", "risk_prisoner"])
def test_any_risk_of_harm_in_the_conversation_is_urgent(intent):
    assert priority.assess(said("greet", intent, "ask_visiting")) == ("urgent", intent)


def test_the_most_urgent_risk_is_the_reason_whatever_the_order():
    assert priority.assess(said("risk_prisoner", "express_distress", "risk_self")) == ("urgent", "risk_self")
    assert priority.assess(said("risk_domestic_abuse", "risk_child")) == ("urgent", "risk_child")


def test_a_concern_for_someone_inside_is_urgent_and_a_risk_named_comes_first():
    assert priority.assess(said("ask_visiting"), concern=True) == ("urgent", "concern")
    assert priority.assess(said("express_distress"), concern=True) == ("urgent", "concern")
    assert priority.assess(said("risk_self"), concern=True) == ("urgent", "risk_self")
    # the message that led to the concern call back: the badge says what the worker is to do
    assert priority.assess(said("risk_prisoner"), concern=True) == ("urgent", "concern")
    assert priority.assess(said("risk_prisoner")) == ("urgent", "risk_prisoner")


def test_distress_is_high_and_everything_else_normal():
    assert priority.assess(said("greet", "express_distress", "ask_money")) == ("high", "express_distress")
    assert priority.assess(said("greet", "ask_visiting", "request_callback")) == ("normal", None)
    assert priority.assess([]) == ("normal", None)


def test_only_what_the_person_said_counts_and_only_in_this_session():
    # The assistant's own action names, or a slot, are not the person's words.
    events = [{"event": "action", "name": "utter_risk_self"}, {"event": "slot", "name": "x", "value": "risk_self"},
              {"event": "user", "text": "hi", "parse_data": {}}, {"event": "user", "text": "hi"}]
    assert priority.assess(events) == ("normal", None)
    # Risk said in an earlier session (weeks ago) does not make today's question urgent.
    assert priority.assess(said("risk_self") + said("ask_visiting")) == ("normal", None)
    assert priority.assess(said("ask_visiting") + said("risk_self")) == ("urgent", "risk_self")


def test_reasons_are_said_in_words_for_staff():
    assert priority.reason_words("risk_self") == "risk to self"
    assert priority.reason_words("risk_prisoner") == "someone inside at risk"
    assert priority.reason_words("concern") == "concern for someone inside"
    assert priority.reason_words("crisis_while_waiting") == "crisis while waiting"
    assert priority.reason_words(None) == ""


def test_a_priority_is_only_ever_raised():
    case = Case(priority="normal", priority_rank=2, priority_reason=None)
    assert priority.raise_to(case, "high", "express_distress", NOW)
    assert (case.priority, case.priority_rank, case.priority_reason, case.updated_at) == ("high", 1, "express_distress", NOW)
    assert not priority.raise_to(case, "normal", None, NOW)  # never lowered
    assert not priority.raise_to(case, "high", "other", NOW)  # an equal one keeps the first reason
    assert (case.priority, case.priority_reason) == ("high", "express_distress")
    assert priority.raise_to(case, "urgent", "crisis_while_waiting", NOW)
    assert (case.priority, case.priority_rank, case.priority_reason) == ("urgent", PRIORITY_RANK["urgent"], "crisis_while_waiting")
    assert not priority.raise_to(case, "high", "express_distress", NOW)
    assert case.priority == "urgent"


def test_targets_come_from_the_settings():
    custom = dataclasses.replace(SETTINGS, target_minutes_urgent=5, target_minutes_high=30, target_minutes_normal=120)
    assert [priority.target_minutes(p, custom) for p in ("urgent", "high", "normal")] == [5, 30, 120]


def test_the_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TARGET_MINUTES_URGENT", "10")
    monkeypatch.setenv("TARGET_MINUTES_HIGH", "45")
    monkeypatch.delenv("TARGET_MINUTES_NORMAL", raising=False)
    settings = Settings.from_env()
    assert (settings.target_minutes_urgent, settings.target_minutes_high, settings.target_minutes_normal) == (10, 45, 1440)


def case_at(priority_name: str, minutes_ago: int, answered_after: int | None = None, status: str = "new") -> Case:
    created = NOW - timedelta(minutes=minutes_ago)
    first = created + timedelta(minutes=answered_after) if answered_after is not None else None
    return Case(priority=priority_name, priority_rank=PRIORITY_RANK[priority_name], created_at=created, first_response_at=first, status=status)


def test_waiting_time_and_breach_of_a_waiting_case():
    within = case_at("urgent", 10)
    assert priority.waiting(within, NOW) == timedelta(minutes=10)
    assert priority.response_time(within) is None
    assert priority.breached(within, NOW, SETTINGS) is None
    late = case_at("urgent", 27)
    assert priority.breached(late, NOW, SETTINGS) == timedelta(minutes=12)
    # The same wait is within the target of a normal case.
    assert priority.breached(case_at("normal", 27), NOW, SETTINGS) is None
    assert priority.breached(case_at("normal", 25 * 60), NOW, SETTINGS) == timedelta(hours=1)


def test_time_to_first_response_and_breach_of_an_answered_case():
    quick = case_at("high", 300, answered_after=20, status="claimed")
    assert priority.waiting(quick, NOW) is None  # answered: no longer waiting
    assert priority.response_time(quick) == timedelta(minutes=20)
    assert priority.breached(quick, NOW, SETTINGS) is None  # however long ago, it was answered in time
    slow = case_at("high", 300, answered_after=95, status="called_back")
    assert priority.breached(slow, NOW, SETTINGS) == timedelta(minutes=35)


def test_a_case_closed_unanswered_is_measured_until_it_closed():
    handed_back = case_at("urgent", 120, status="closed")
    handed_back.closed_at = handed_back.created_at + timedelta(minutes=20)
    assert priority.waiting(handed_back, NOW) is None
    assert priority.breached(handed_back, NOW, SETTINGS) == timedelta(minutes=5)


def test_the_summary_per_priority_and_the_urgent_cases_waiting(session_for):
    now = datetime.utcnow()
    with session_for() as s, s.begin():
        def made(sender: str, level: str, minutes_ago: int, answered_after: int | None = None, status: str = "new") -> int:
            case, _ = cases.open_live(sender_id=sender, channel="webchat", request_key=sender, priority=level,
                                      priority_reason="risk_self" if level == "urgent" else None, session=s)
            case.created_at = now - timedelta(minutes=minutes_ago)
            case.status = status
            if answered_after is not None:
                case.first_response_at = case.created_at + timedelta(minutes=answered_after)
            return case.id

        old_urgent = made("a", "urgent", 40)
        new_urgent = made("b", "urgent", 5)
        made("c", "urgent", 60, answered_after=30, status="claimed")  # answered late, 30 min ago
        made("d", "high", 50, answered_after=10, status="claimed")
        made("e", "normal", 200)
        made("f", "normal", 60 * 30, answered_after=60, status="closed")  # answered more than a day ago
    with session_for() as s:
        rows = {row.priority: row for row in priority.summary(session=s, settings=SETTINGS, now=now)}
        assert [r.priority for r in priority.summary(session=s, settings=SETTINGS, now=now)] == ["urgent", "high", "normal"]
        urgent, high, normal = rows["urgent"], rows["high"], rows["normal"]
        assert (urgent.target, urgent.waiting, urgent.over_target, urgent.answered, urgent.answered_late) == (15, 2, 1, 1, 1)
        assert timedelta(minutes=39) < urgent.longest <= timedelta(minutes=41)
        assert (high.waiting, high.longest, high.answered, high.answered_late) == (0, None, 1, 0)
        assert (normal.target, normal.waiting, normal.over_target, normal.answered) == (1440, 1, 0, 0)
        assert [c.id for c in priority.urgent_waiting(session=s)] == [old_urgent, new_urgent]
