"""Erasure that neither misses nor resurrects, redaction of unsent call-back forms, and
retention of what else holds people's words: against Rasa's own SQLTrackerStore, Rasa's
Redis lock store, and our database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot import conversations, db, erasure, retention, usage
from bot.channels.models import SmsMenu
from bot.referrals import cases
from bot.referrals.models import Case, ErasureRequest, OutboxMessage, RedactionRequest, UsageCount
from bot.settings import Settings
from bot.staff.models import AuditEntry
from tests.support.conversations import engine, save_conversation

REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture
def settings(database_url, tracker_url) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=database_url, tracker_store_url=tracker_url, lock_store_url=None)


def rows_for(tracker_url: str, sender: str) -> list[str]:
    with db.engine_for(tracker_url).connect() as c:
        return list(c.execute(text("select data from events where sender_id = :s order by id"), {"s": sender}).scalars())


def audited(session) -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


# --- erasure ------------------------------------------------------------------------------

def test_without_rasas_lock_an_erasure_is_verified_later_and_a_write_back_is_erased_again(settings, session_for, tracker_url):
    """The in-memory lock store (make run): erase, then check on later passes; a turn that was
    in flight and saved the old conversation back is caught and erased again."""
    started = time.time() - 60
    save_conversation(tracker_url, "me", [("user", "my number is 07700 900123", "inform"), ("bot", "Thanks.")], started=started)
    with session_for() as s, s.begin():
        cases.request_erasure("me", session=s)
    now = datetime.utcnow() + timedelta(seconds=10)
    first = retention.run_once(settings, settle_seconds=0, now=now)
    assert (first.erasures, first.erasures_waiting) == (1, 1)
    assert rows_for(tracker_url, "me") == []
    with session_for() as s:
        pending = s.execute(select(ErasureRequest)).scalar_one()
        assert pending.done_at is None and pending.sender_id == "me"  # pending until verified

    # The attack: a turn loaded the tracker before the erasure and saves it now (Rasa counts the
    # stored rows, finds none, and writes every event again, with their old timestamps).
    save_conversation(tracker_url, "me", [("user", "my number is 07700 900123", "inform"), ("bot", "Thanks."),
                                          ("user", "and another thing", "inform")], started=started)
    assert rows_for(tracker_url, "me") != []
    again = retention.run_once(settings, settle_seconds=0, now=now + timedelta(minutes=1))
    assert (again.erasures, again.erasures_waiting) == (1, 1)
    assert rows_for(tracker_url, "me") == []

    # Too soon to call it done; then, the verify period later with nothing written back, done.
    assert retention.run_once(settings, settle_seconds=0, now=now + timedelta(minutes=5)).erasures_waiting == 1
    # The person may carry on after the erasure: new messages are not what was erased.
    save_conversation(tracker_url, "me", [("user", "hello again", "greet")], started=time.time() + 600)
    done = retention.run_once(settings, settle_seconds=0, now=now + timedelta(minutes=1 + settings.erasure_verify_minutes))
    assert (done.erasures, done.erasures_waiting) == (0, 0)
    with session_for() as s:
        finished = s.execute(select(ErasureRequest)).scalar_one()
        assert finished.done_at is not None and finished.sender_id == "erased"
        assert audited(s) == [("erasure", "1 conversations erased; 1 still waiting")] * 2  # no id, no name
    assert len(rows_for(tracker_url, "me")) == 1  # only what came after the erasure


def test_erasure_takes_rasas_lock_so_a_turn_in_flight_cannot_write_the_conversation_back(settings, session_for, tracker_url):
    """The Redis lock store: a turn holds the conversation's lock, having loaded the tracker;
    the erasure waits for it, then deletes; nothing the turn saved survives."""
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    sender = "tg:" + uuid.uuid4().hex[:10]
    save_conversation(tracker_url, sender, [("user", "my name is Jo Bloggs", "inform"), ("bot", "Hello Jo.")], started=time.time() - 60)
    with session_for() as s, s.begin():
        cases.request_erasure(sender, session=s)
    store = RedisLockStore(host="127.0.0.1", port=6379, db=3)
    tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tracker_url[len("sqlite:///"):])
    holding, saved, erasure_returned = threading.Event(), threading.Event(), threading.Event()

    def turn_in_flight() -> None:
        async def turn() -> None:
            async with store.lock(sender):  # what Rasa's MessageProcessor does for each message
                tracker = await tracker_store.retrieve(sender)
                holding.set()
                # Go on once the erasure is queued behind us (or, without the lock, has run).
                while len(store.get_lock(sender).tickets) < 2 and not erasure_returned.is_set():
                    await asyncio.sleep(0.05)
                tracker.update(UserUttered("and my number is 07700 900123", {"name": "inform", "confidence": 1.0}))
                await tracker_store.save(tracker)
                saved.set()

        asyncio.run(turn())

    thread = threading.Thread(target=turn_in_flight)
    thread.start()
    assert holding.wait(30)
    purged = retention.run_once(dataclasses.replace(settings, lock_store_url=REDIS_URL), settle_seconds=0)
    erasure_returned.set()
    thread.join(30)
    assert saved.is_set()  # the turn finished before the erasure went ahead
    assert (purged.erasures, purged.erasures_waiting) == (1, 0)
    assert rows_for(tracker_url, sender) == []
    with session_for() as s:
        assert s.execute(select(ErasureRequest)).scalar_one().done_at is not None
    assert store.get_lock(sender) is None  # our ticket was given back


def test_erasure_stays_pending_and_says_so_without_the_tracker_table(settings, session_for, tmp_path):
    settings = dataclasses.replace(settings, tracker_store_url=f"sqlite:///{tmp_path / 'not-rasas.db'}")
    with session_for() as s, s.begin():
        cases.create_callback(cases.CallbackRequest(
            sender_id="me", channel="rest", request_key="me:1", consent_version="1", consent_at=datetime.utcnow(),
            phone="+447700900123", safe_to_call=True, safe_to_leave_message=False), session=s)
        cases.request_erasure("me", session=s)
    purged = retention.run_once(settings, settle_seconds=0)
    assert (purged.erasures, purged.erasures_blocked) == (0, 1)
    with session_for() as s:
        request = s.execute(select(ErasureRequest)).scalar_one()
        assert request.done_at is None and request.sender_id == "me"
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0  # the cases went at once
        # The audit log says it was blocked, with counts only.
        assert audited(s) == [("erasure", "1 blocked: no tracker table")]


# --- redaction ----------------------------------------------------------------------------

def test_an_unsent_form_has_what_was_typed_redacted(settings, session_for, tracker_url):
    """Events as the form writes them: the question's requested_slot, the answer, the slot."""
    started = time.time() - 60
    save_conversation(tracker_url, "me", [
        ("user", "how do i book a visit", "ask_visit_booking"),
        ("bot", "Book online."),
        ("user", "call me back", "request_callback"),
        ("slot", "requested_slot", "referral_name"),
        ("bot", "What name should they use?"),
        ("user", "Jo Bloggs", "inform"),
        ("slot", "referral_name", "Jo Bloggs"),
        ("slot", "requested_slot", "referral_phone"),
        ("user", "07700 900123", "inform"),
        ("slot", "referral_phone", "+447700900123"),
        ("slot", "requested_slot", "referral_confirmed"),
        # Rasa keeps the values a response was filled with in the bot event's metadata too.
        ("bot", "Name: Jo Bloggs\nPhone: 07700 900123", {"utter_action": "utter_ask_referral_form_referral_confirmed",
                                                       "referral_details": "Name: Jo Bloggs\nPhone: 07700 900123"}),
        ("user", "no", "deny"),
        ("slot", "referral_outcome", "stopped"),
    ], started=started)
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tracker_url[len("sqlite:///"):])
    tracker = asyncio.run(store.retrieve("me"))
    with session_for() as s, s.begin():
        erasure.request_redaction("me", started + 2, session=s)
    # Rasa has not saved the end of the form yet: nothing is changed, the request waits.
    assert retention.run_once(settings, settle_seconds=0).redactions == 0
    tracker.update(ActionExecuted("action_stop_referral"))
    tracker.update(SlotSet("referral_name", None))
    asyncio.run(store.save(tracker))
    assert retention.run_once(settings, settle_seconds=0).redactions == 1

    stored = "\n".join(rows_for(tracker_url, "me"))
    for typed in ("Jo Bloggs", "07700 900123", "+447700900123", "Bloggs"):
        assert typed not in stored
    assert "how do i book a visit" in stored  # what came before the form is left alone
    # The intents stay, for the anonymous counts.
    assert usage.usage(tracker_engine=db.engine_for(tracker_url), session=session_for())
    with session_for() as s:
        assert s.execute(select(RedactionRequest)).scalar_one().done_at is not None


# --- retention of what else holds people's words ------------------------------------------

def test_queued_replies_sms_menus_and_untouched_open_cases_are_purged(settings, session_for):
    now = datetime.utcnow()
    old = now - timedelta(days=settings.conversation_retention_days + 1)
    with session_for() as s, s.begin():
        s.add_all([OutboxMessage(sender_id="a", text="old reply", created_at=old),
                   OutboxMessage(sender_id="b", text="new reply", created_at=now)])
        s.add_all([SmsMenu(sender_id="+447700900001", payloads="[]", sent_at=old),
                   SmsMenu(sender_id="+447700900002", payloads="[]", sent_at=now)])
        stale, _ = cases.create_callback(cases.CallbackRequest(
            sender_id="c", channel="rest", request_key="c:1", consent_version="1", consent_at=old,
            phone="+447700900123", safe_to_call=True, safe_to_leave_message=False), session=s)
        fresh, _ = cases.create_callback(cases.CallbackRequest(
            sender_id="d", channel="rest", request_key="d:1", consent_version="1", consent_at=now,
            phone="+447700900124", safe_to_call=True, safe_to_leave_message=False), session=s)
        s.flush()
        s.execute(Case.__table__.update().where(Case.id == stale.id).values(
            created_at=now - timedelta(days=settings.case_retention_days + 2),
            updated_at=now - timedelta(days=settings.case_retention_days + 1)))
    purged = retention.run_once(settings)
    assert (purged.outbox_messages, purged.sms_menus, purged.stale_cases) == (1, 1, 1)
    with session_for() as s:
        assert list(s.execute(select(OutboxMessage.text)).scalars()) == ["new reply"]
        assert list(s.execute(select(SmsMenu.sender_id)).scalars()) == ["+447700900002"]
        assert list(s.execute(select(Case.sender_id)).scalars()) == ["d"]
        assert s.execute(select(func.sum(UsageCount.referrals))).scalar_one() == 1  # still counted
        assert audited(s) == [("purge", "1 untouched open cases; 1 queued replies; 1 SMS menus")]
    assert retention.run_once(settings) == retention.Purged(0, 0, 0)
    with session_for() as s:
        assert len(audited(s)) == 1  # a pass with nothing to do writes nothing


def test_purge_erases_old_conversations_and_keeps_their_counts(tracker_url, session_for):
    old = time.time() - 100 * 86400
    save_conversation(tracker_url, "old", [("user", "visits?", "ask_visit_booking"), ("slot", "area", "Durham")], started=old)
    save_conversation(tracker_url, "new", [("user", "visits?", "ask_visit_booking")])
    with session_for() as s:
        before = usage.usage(tracker_engine=engine(tracker_url), session=s)
        assert retention.purge_conversations(90, tracker_engine=engine(tracker_url), session=s) == 1
    assert conversations.transcript("old", engine=engine(tracker_url)) == []
    assert conversations.transcript("new", engine=engine(tracker_url)) != []
    with session_for() as s:
        after = usage.usage(tracker_engine=engine(tracker_url), session=s)
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
