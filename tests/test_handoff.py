"""The live-chat sweep (bot.handoff.sweep) against our real database (SQLite and PostgreSQL)
and a local HTTP server standing in for Rasa's HTTP API, recording each call, and the rules a
worker meets in a live chat (who may reply, telling the person once, handing back before
closing). The whole path through the real Rasa and action servers is in tests/e2e/test_handoff.py."""
from __future__ import annotations

import asyncio
import dataclasses
import http.server
import json
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from bot import handoff
from bot.staff.models import StaffUser
from bot.referrals import cases
from bot.referrals.models import Case
from bot.servers import free_port
from bot.settings import Settings


class FakeRasa:
    """Rasa's conversation endpoints: records (sender, endpoint, body); answers 500 for the
    senders in `failing`."""

    def __init__(self, port: int = 0, dying: bool = False) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self.failing: set[str] = set()
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path).path.split("/")  # /conversations/<id>/<endpoint...>
                sender, endpoint = unquote(parts[2]), "/".join(parts[3:])
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake.lock:
                    fake.calls.append((sender, endpoint, body))
                if dying:  # received, then the server dies before answering
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                fails = sender in fake.failing and endpoint == "trigger_intent"
                self.send_response(500 if fails else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def triggered(self) -> list[str]:
        return [sender for sender, endpoint, _ in self.calls if endpoint == "trigger_intent"]


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def settings(database_url, rasa) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=database_url, rasa_url=rasa.url, live_chat_wait_minutes=10)


def waiting_chat(session_for, sender: str, minutes_ago: float) -> int:
    with session_for() as s, s.begin():
        case, _ = cases.open_live(sender_id=sender, channel="webchat", request_key=f"{sender}:1", session=s)
        case.created_at = datetime.utcnow() - timedelta(minutes=minutes_ago)
        s.flush()
        return case.id


def on_shift(session_for, until: datetime | None) -> None:
    with session_for() as s, s.begin():
        s.add(StaffUser(username="sam", password_hash="x", on_shift_until=until))


def case(session_for, case_id: int) -> Case:
    with session_for() as s:
        return s.get(Case, case_id)


def test_an_unclaimed_chat_is_handed_back_after_the_wait_with_the_offer(settings, session_for, rasa):
    on_shift(session_for, datetime.utcnow() + timedelta(hours=4))
    old = waiting_chat(session_for, "webchat-old", 11)
    new = waiting_chat(session_for, "webchat-new", 2)
    assert asyncio.run(handoff.sweep(settings)) == 1
    # Resumed, listening (the rule for an intent needs action_listen before it), then the intent.
    assert rasa.calls == [
        ("webchat-old", "tracker/events", [{"event": "resume"}, {"event": "action", "name": "action_listen"}]),
        ("webchat-old", "trigger_intent", {"name": "EXTERNAL_handoff_timeout", "entities": {}}),
    ]
    handed_back = case(session_for, old)
    assert handed_back.status == "closed" and handed_back.outcome == "handed back to the assistant: nobody free"
    assert case(session_for, new).status == "new"
    # Its wait runs out later.
    assert asyncio.run(handoff.sweep(settings, now=datetime.utcnow() + timedelta(minutes=9))) == 1
    assert rasa.triggered() == ["webchat-old", "webchat-new"]
    assert asyncio.run(handoff.sweep(settings, now=datetime.utcnow() + timedelta(minutes=60))) == 0


def test_when_the_last_shift_ends_every_waiting_chat_is_handed_back_at_once(settings, session_for, rasa):
    on_shift(session_for, datetime.utcnow() - timedelta(minutes=1))  # the shift just ended
    ids = [waiting_chat(session_for, f"webchat-{i}", 0) for i in range(3)]
    with session_for() as s, s.begin():  # a chat a worker has taken stays with the worker
        taken = waiting_chat(session_for, "webchat-taken", 30)
        s.get(Case, taken).status = "claimed"
    assert asyncio.run(handoff.sweep(settings)) == 3
    assert sorted(rasa.triggered()) == ["webchat-0", "webchat-1", "webchat-2"]
    assert all(case(session_for, i).status == "closed" for i in ids)
    assert case(session_for, taken).status == "claimed"


def test_a_failure_for_one_chat_leaves_it_open_for_the_next_sweep_and_not_the_others(settings, session_for, rasa):
    on_shift(session_for, None)
    broken = waiting_chat(session_for, "webchat-broken", 0)
    fine = waiting_chat(session_for, "webchat-fine", 0)
    rasa.failing.add("webchat-broken")
    assert asyncio.run(handoff.sweep(settings)) == 1
    assert case(session_for, fine).status == "closed"
    reopened = case(session_for, broken)
    assert (reopened.status, reopened.outcome, reopened.closed_at) == ("new", None, None)
    # The conversation was paused again: the person never meets a half-handed-back chat.
    assert ("webchat-broken", "tracker/events", [{"event": "pause"}]) in rasa.calls
    rasa.failing.clear()
    assert asyncio.run(handoff.sweep(settings)) == 1
    assert case(session_for, broken).status == "closed"


def test_two_sweepers_at_once_hand_each_chat_back_exactly_once(settings, session_for, rasa):
    on_shift(session_for, None)
    senders = [f"webchat-{i}" for i in range(12)]
    for sender in senders:
        waiting_chat(session_for, sender, 0)
    results: list[int] = []
    start = threading.Barrier(3)

    def sweeper() -> None:
        start.wait()
        results.append(asyncio.run(handoff.sweep(settings)))

    threads = [threading.Thread(target=sweeper) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 12
    assert sorted(rasa.triggered()) == sorted(senders)
    with session_for() as s:
        assert set(s.execute(select(Case.status)).scalars()) == {"closed"}


def test_a_sweeper_that_died_after_claiming_is_retried_after_its_lease(settings, session_for, rasa):
    on_shift(session_for, None)
    stuck = waiting_chat(session_for, "webchat-stuck", 0)
    now = datetime.utcnow()
    with session_for() as s, s.begin():
        assert handoff._claim_for_sweep(stuck, now, session=s)
    with session_for() as s, s.begin():
        assert not handoff._claim_for_sweep(stuck, now, session=s)  # claimed: nobody else acts on it
    assert asyncio.run(handoff.sweep(settings, now=now + timedelta(seconds=30))) == 0
    assert asyncio.run(handoff.sweep(settings, now=now + handoff.SWEEP_LEASE + timedelta(seconds=1))) == 1
    assert rasa.triggered() == ["webchat-stuck"]
    assert case(session_for, stuck).outcome == handoff.TIMED_OUT_OUTCOME


def worker(session_for, username: str) -> int:
    with session_for() as s, s.begin():
        user = StaffUser(username=username, password_hash="x")
        s.add(user)
        s.flush()
        return user.id


def test_only_the_worker_who_claimed_a_live_chat_may_reply_and_the_person_is_told_once(session_for):
    sam, jo = worker(session_for, "sam"), worker(session_for, "jo")
    live = waiting_chat(session_for, "webchat-1", 0)
    with session_for() as s, s.begin():
        callback, _ = cases.create_callback(cases.CallbackRequest(
            sender_id="sms:+447700900123", channel="sms", request_key="cb:1", consent_version="v1",
            consent_at=datetime.utcnow(), phone="+447700900123", safe_to_call=True, safe_to_leave_message=False,
        ), session=s)
        callback_id = callback.id
    with session_for() as s, s.begin():
        with pytest.raises(cases.CaseError, match="Claim this chat before replying"):
            handoff.reply_target(live, sam, "hello", session=s)
        assert handoff.claim(live, sam, session=s)[1] == "webchat-1"  # first claim: tell the person
    with session_for() as s, s.begin():
        assert handoff.claim(live, sam, session=s)[1] is None  # claiming it again tells nobody
        assert handoff.claim(callback_id, jo, session=s)[1] is None  # a callback has nobody waiting in a chat
    with session_for() as s, s.begin():
        assert handoff.reply_target(live, sam, "hello", session=s) == "webchat-1"
        with pytest.raises(cases.CaseError, match="Claim this chat before replying"):
            handoff.reply_target(live, jo, "hello", session=s)
        with pytest.raises(cases.CaseError, match="Write a reply first"):
            handoff.reply_target(live, sam, "", session=s)
        with pytest.raises(cases.CaseError, match=f"at most {handoff.MAX_REPLY_CHARS} characters"):
            handoff.reply_target(live, sam, "x" * (handoff.MAX_REPLY_CHARS + 1), session=s)
        with pytest.raises(cases.CaseError, match="only for live chats"):
            handoff.reply_target(callback_id, jo, "hello", session=s)


def test_a_live_chat_is_handed_back_before_it_is_closed_and_stays_open_when_that_fails(session_for):
    sam = worker(session_for, "sam")
    live = waiting_chat(session_for, "webchat-1", 0)
    with session_for() as s, s.begin():
        assert handoff.hand_back_target(live, session=s) == "webchat-1"
    assert handoff.keeps_open(False, force=False)  # the person would be left paused
    assert not handoff.keeps_open(False, force=True) and not handoff.keeps_open(True, force=False)
    assert not handoff.keeps_open(None, force=False)  # not a live chat: nothing to hand back
    with session_for() as s, s.begin():
        cases.close(live, sam, session=s, outcome_code="helped")
    with session_for() as s, s.begin():
        reference = s.get(Case, live).reference
        with pytest.raises(cases.CaseError, match=f"{reference} is already closed"):
            handoff.hand_back_target(live, session=s)


# --- the console's Rasa client with several Rasa servers --------------------------------------------
def test_a_server_that_refuses_is_skipped_for_a_while_and_then_tried_again(rasa):
    refusing_port = free_port()  # nothing listens there yet
    client = handoff.RasaClient(f"http://127.0.0.1:{refusing_port}, {rasa.url}", skip_seconds=0.5)
    asyncio.run(client.say("webchat-1", "hello", worker="sam"))
    assert rasa.calls == [("webchat-1", "tracker/events", [{"event": "bot", "text": "hello", "metadata": {"staff": "sam"}}])]
    assert client.servers() == [rasa.url, f"http://127.0.0.1:{refusing_port}"]
    # The first server comes back: while it is remembered as down the other is asked first...
    back = FakeRasa(port=refusing_port)
    try:
        asyncio.run(client.utter("webchat-1", handoff.HANDED_BACK_RESPONSE))
        assert len(rasa.calls) == 2 and back.calls == []
        time.sleep(0.6)
        # ...and once the while is over, it is first again.
        asyncio.run(client.pause("webchat-1"))
        assert len(rasa.calls) == 2 and back.calls == [("webchat-1", "tracker/events", [{"event": "pause"}])]
    finally:
        back.server.shutdown()
        back.server.server_close()


def test_a_write_a_server_took_and_then_died_on_is_not_sent_to_another(rasa):
    dying = FakeRasa(dying=True)
    try:
        client = handoff.RasaClient([dying.url, rasa.url])
        with pytest.raises(handoff.RasaUnavailable, match="check the conversation"):
            asyncio.run(client.say("webchat-1", "are you still there?", worker="sam"))
        assert len(dying.calls) == 1 and rasa.calls == []  # the reply reached one server, once
        assert client.servers() == [rasa.url, dying.url]  # and it is asked last for a while
        # A read is safe to send on: one the dying server took is answered by the other.
        client = handoff.RasaClient([dying.url, rasa.url])
        assert asyncio.run(client.request("GET", "/conversations/webchat-1/tracker")) == {}
        assert len(dying.calls) == 2 and [c[1] for c in rasa.calls] == ["tracker"]
    finally:
        dying.server.shutdown()
        dying.server.server_close()


def test_no_server_answering_is_said_kindly_and_the_settings_list_is_used(settings):
    ports = [free_port(), free_port()]
    client = handoff.RasaClient.from_settings(dataclasses.replace(settings, rasa_url=",".join(f"http://127.0.0.1:{p}/" for p in ports)))
    assert client.base_urls == [f"http://127.0.0.1:{p}" for p in ports]
    with pytest.raises(handoff.RasaUnavailable, match="could not be reached"):
        asyncio.run(client.hand_back("webchat-1"))
