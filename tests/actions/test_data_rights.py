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


def what_you_know(tracker, dispatcher):
    from pathlib import Path

    import yaml

    from actions.data_rights import ActionWhatYouKnow

    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())
    return asyncio.run(ActionWhatYouKnow().run(dispatcher, tracker, domain))


def test_what_you_know_lists_the_slots_in_the_domains_words_and_an_open_call_back(
    database_url, session_for, monkeypatch, make_tracker, dispatcher
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "45")
    with session_for() as s, s.begin():
        cases.create_callback(request("test-user", "test-user:1"), session=s)
    slots = {"audience": "family", "area": "Leeds", "prison": "HMP Durham", "stage": "remand", "child_age_group": "5_to_11",
             "referral_name": "Sam", "referral_phone": "+447512345678"}
    assert what_you_know(make_tracker(intent="ask_what_you_know", slots=slots), dispatcher) == []
    known, how = dispatcher.messages
    assert known["response"] == "utter_what_you_know"
    assert known["known"] == ("you're asking as family; your area is Leeds; the prison is HMP Durham; they're on remand; "
                              "the children are 5 to 11; you've asked for a call back, with a name and number for it")
    assert "Sam" not in known["known"] and "7512" not in known["known"]  # a shared phone shows the chat
    assert how["response"] == "utter_what_you_know_2" and how["retention_days"] == 45


def test_what_you_know_with_nothing_held_says_so(database_url, monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", database_url)
    what_you_know(make_tracker(intent="ask_what_you_know"), dispatcher)
    assert [m["response"] for m in dispatcher.messages] == ["utter_what_you_know_nothing", "utter_what_you_know_2"]


def test_what_you_know_with_the_database_down_still_answers_from_the_chat(monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    what_you_know(make_tracker(intent="ask_what_you_know", slots={"area": "Leeds"}), dispatcher)
    assert dispatcher.messages[0]["known"] == "your area is Leeds"
