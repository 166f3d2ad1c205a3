""""Delete my details", against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select

from actions.data_rights import ActionDeleteMyData
from bot.referrals import cases
from bot.referrals.models import Case, ErasureRequest


def run(tracker, dispatcher):
    return asyncio.run(ActionDeleteMyData().run(dispatcher, tracker, {}))


def request(sender, key):
    return cases.CallbackRequest(
        sender_id=sender, channel="rest", request_key=key, consent_version="1", consent_at=datetime(2026, 3, 1),
        phone="+447512345678", safe_to_call=True, safe_to_leave_message=True, name="Sam",
    )


def test_delete_erases_cases_and_queues_the_conversation(database_url, session_for, monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with session_for() as s, s.begin():
        cases.create_callback(request("test-user", "test-user:1"), session=s)
        cases.create_callback(request("someone-else", "someone-else:1"), session=s)
    events = run(make_tracker(intent="affirm", slots={"area": "Durham", "referral_name": "Sam"}), dispatcher)
    assert [m["response"] for m in dispatcher.messages] == ["utter_delete_my_data_done"]
    assert [e["event"] for e in events] == ["reset_slots"]
    with session_for() as s:
        assert s.execute(select(Case.sender_id)).scalars().all() == ["someone-else"]
        erasure = s.execute(select(ErasureRequest)).scalar_one()
        assert erasure.sender_id == "test-user" and erasure.done_at is None


def test_delete_with_nothing_stored_still_queues_the_conversation(database_url, session_for, monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", database_url)
    run(make_tracker(intent="affirm"), dispatcher)
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(ErasureRequest)).scalar_one() == 1


def test_delete_with_the_database_down_says_so(monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    events = run(make_tracker(intent="affirm"), dispatcher)
    assert [m["response"] for m in dispatcher.messages] == ["utter_delete_my_data_failed"]
    assert events == []
