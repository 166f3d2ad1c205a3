"""Offering a person and live handoff, against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from rasa_sdk import Tracker
from sqlalchemy import func, select

from actions.handoff import ActionHandoff, ActionHandoffTimedOut, ActionOfferHelpFromPerson
from bot.staff.models import StaffUser
from bot.referrals.models import Case

DB_DOWN = "postgresql://postgres@127.0.0.1:1/x"


def run(action, tracker, dispatcher):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def tracker(message_id="live-1", channel="webchat", slots=None):
    def user(text, intent, mid):
        return {"event": "user", "text": text, "message_id": mid, "input_channel": channel,
                "parse_data": {"intent": {"name": intent}, "entities": [], "text": text, "message_id": mid}}

    events = [user("how do i book a visit", "ask_visit_booking", "a"), {"event": "action", "name": "utter_visit_booking"},
              user("Chat with a person now", "ask_live_chat", message_id)]
    return Tracker("sender-live", slots or {"audience": "family", "area": "Stockton-on-Tees"}, events[-1]["parse_data"],
                   events, False, None, {}, "action_listen")


@pytest.fixture
def db_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)


@pytest.fixture
def on_shift(db_env, session_for):
    with session_for() as s, s.begin():
        s.add(StaffUser(username="ali", display_name="Ali", password_hash="x", role="worker",
                        on_shift_until=datetime.utcnow() + timedelta(hours=2)))


@pytest.fixture
def off_shift(db_env, session_for):
    with session_for() as s, s.begin():
        s.add(StaffUser(username="ali", display_name="Ali", password_hash="x", role="worker",
                        on_shift_until=datetime.utcnow() - timedelta(minutes=1)))


def test_offer_on_shift_includes_chatting_now(on_shift, dispatcher):
    events = run(ActionOfferHelpFromPerson(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_offer_person_on_shift"]
    assert events == [{"event": "slot", "timestamp": None, "name": "person_offer", "value": "live"}]


def test_offer_out_of_hours_is_a_call_back(off_shift, dispatcher):
    events = run(ActionOfferHelpFromPerson(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_offer_person_off_shift"]
    assert events == [{"event": "slot", "timestamp": None, "name": "person_offer", "value": "callback"}]


def test_offer_with_the_database_down_is_a_call_back(monkeypatch, dispatcher):
    monkeypatch.setenv("DATABASE_URL", DB_DOWN)
    events = run(ActionOfferHelpFromPerson(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_offer_person_off_shift"]
    assert events[0]["value"] == "callback"


def test_handoff_on_shift_queues_a_live_case_and_pauses(on_shift, session_for, dispatcher):
    events = run(ActionHandoff(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_handoff_waiting"]
    assert [e["event"] for e in events] == ["pause"]
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert (case.kind, case.status, case.sender_id, case.channel) == ("live", "new", "sender-live", "webchat")
        assert case.request_key == "sender-live:live-1" and case.topic == "ask_visit_booking"
        assert case.audience == "family" and case.council_code and case.phone is None

    dispatcher.messages.clear()
    run(ActionHandoff(), tracker(message_id="live-2"), dispatcher)  # asks again while waiting: the same case
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1


def test_handoff_off_shift_offers_a_call_back(off_shift, session_for, dispatcher):
    events = run(ActionHandoff(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_handoff_nobody"] and events == []
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_handoff_with_the_database_down(monkeypatch, dispatcher):
    monkeypatch.setenv("DATABASE_URL", DB_DOWN)
    events = run(ActionHandoff(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_handoff_nobody"] and events == []


def test_a_timed_out_live_chat_offers_a_call_back_that_a_plain_yes_accepts(dispatcher):
    """Triggered by the sweep (bot.handoff.sweep) through EXTERNAL_handoff_timeout."""
    events = run(ActionHandoffTimedOut(), tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_handoff_timeout_offer_callback"]
    assert events == [{"event": "slot", "timestamp": None, "name": "person_offer", "value": "callback"}]


def test_an_action_waiting_on_the_database_does_not_hold_up_the_event_loop(on_shift, database_url, dispatcher):
    """The action server answers every conversation from one event loop: an action stuck on a
    lock must not stop the others (the loop keeps ticking while it waits)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a lock another connection holds: PostgreSQL")
    import psycopg2

    holder = psycopg2.connect(database_url.replace("postgresql://", "postgres://", 1))
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE helpline_case IN ACCESS EXCLUSIVE MODE")

        async def scenario():
            ticks = 0
            task = asyncio.ensure_future(ActionHandoff().run(dispatcher, tracker(), {}))
            for _ in range(20):  # one second of other conversations' work
                await asyncio.sleep(0.05)
                ticks += 1
            assert not task.done()  # still waiting for the lock...
            holder.rollback()  # ...which is released now
            events = await asyncio.wait_for(task, 30)
            return ticks, events

        ticks, events = asyncio.run(scenario())
    finally:
        holder.close()
    assert ticks == 20 and [e["event"] for e in events] == ["pause"]
    assert responses(dispatcher) == ["utter_handoff_waiting"]


def test_a_live_chat_asked_for_in_distress_waits_as_high_priority(on_shift, session_for, dispatcher):
    base = tracker()
    distress = {"event": "user", "text": "i cant cope", "message_id": "d", "input_channel": "webchat",
                "parse_data": {"intent": {"name": "express_distress"}, "entities": [], "text": "i cant cope", "message_id": "d"}}
    events = [distress, {"event": "action", "name": "utter_express_distress"}, *base.events]
    run(ActionHandoff(), Tracker(base.sender_id, base.slots, base.latest_message, events, False, None, {}, "action_listen"), dispatcher)
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert (case.kind, case.priority, case.priority_rank, case.priority_reason) == ("live", "high", 1, "express_distress")


def test_a_live_chat_without_risk_is_normal(on_shift, session_for, dispatcher):
    run(ActionHandoff(), tracker(), dispatcher)
    with session_for() as s:
        assert s.execute(select(Case.priority, Case.priority_reason)).one() == ("normal", None)
