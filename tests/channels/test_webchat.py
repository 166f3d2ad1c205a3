"""The web chat channel over real HTTP (the real Sanic blueprint, SQLite and PostgreSQL): ids
issued and signed by the server, every other id refused with nothing read or changed, the
poll a limited POST, limits per client address, and a crisis message while a worker has the
conversation (issue 12, items 1, 10 and 5)."""
from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests.support.channel_fakes import ChannelServer, FakeRasa, _open, post_json
from sqlalchemy import select

from bot import db, senders
from bot import texts
from bot.channels.limits import RATE_LIMITED
from bot.channels.webchat import WebChatInput
from bot.referrals import cases
from bot.referrals.models import Case, OutboxMessage

KEY = "test-webchat-key-" + "k" * 20
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def webchat(database_url, monkeypatch):
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.setenv("ADDRESS_RATE_LIMIT", "8")
    monkeypatch.setenv("SESSION_RATE_LIMIT", "5")
    monkeypatch.setenv("POLL_RATE_LIMIT", "4")
    rasa = FakeRasa()
    channel = WebChatInput(database_url, secret=KEY)
    with ChannelServer(channel, rasa) as server:
        yield Chat(server, rasa, database_url)


class Chat:
    def __init__(self, server: ChannelServer, rasa: FakeRasa, database_url: str) -> None:
        self.server, self.rasa, self.database_url = server, rasa, database_url
        self.base = server.webhook_url.rsplit("/", 1)[0]

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, text = post_json(f"{self.base}/{path}", body if body is not None else {}, headers)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def session(self, headers: dict[str, str] | None = None) -> str:
        status, body = self.post("session", headers=headers)
        assert status == 200, body
        return body["sender"]

    def queue(self, sender: str, text: str) -> None:
        with db.session_factory(self.database_url)() as session, session.begin():
            cases.queue_outbox(sender, text, session=session)

    def undelivered(self, sender: str) -> list[str]:
        with db.session_factory(self.database_url)() as session:
            rows = session.execute(
                select(OutboxMessage.text).where(OutboxMessage.sender_id == sender, OutboxMessage.delivered_at.is_(None))
            )
            return [r[0] for r in rows]


def test_an_issued_id_talks_and_polls_by_post(webchat):
    sender = webchat.session()
    assert senders.verify(sender, KEY) and senders.channel_of(sender) == "wc"
    assert webchat.session() != sender
    assert webchat.post("webhook", {"sender": sender, "message": "hello"}) == (
        200, [{"recipient_id": sender, "text": "You said: hello"}]
    )
    webchat.queue(sender, "Hello, this is the helpline")
    status, replies = webchat.post("poll", {"sender": sender})
    assert status == 200 and [r["text"] for r in replies] == ["Hello, this is the helpline"]
    assert webchat.post("poll", {"sender": sender}) == (200, [])
    # The poll is no longer a GET (the id would sit in URLs and access logs).
    status, _ = _open(urllib.request.Request(f"{webchat.base}/poll?sender={sender}"))
    assert status == 405


def _foreign_ids() -> dict[str, str]:
    token = senders._b64(secrets.token_bytes(16))
    return {
        "a Telegram chat id": "tg:5550001",
        "a bare Telegram chat id": "5550001234",
        "an SMS id": "sms:+447700900123",
        "an old free-form id": "webchat-" + secrets.token_hex(16),
        "an unsigned web chat id": f"wc:{token}",
        "a forged signature": f"wc:{token}.{senders._b64(secrets.token_bytes(16))}",
        "an id signed with another key": senders.issue("another-install-key"),
    }


@pytest.mark.parametrize("how", list(_foreign_ids()))
def test_an_id_this_server_did_not_issue_is_refused_and_nothing_changes(webchat, how):
    sender = _foreign_ids()[how]
    webchat.queue(sender, "a worker's reply meant for someone else")
    status, _ = webchat.post("webhook", {"sender": sender, "message": "hello, what's my name?"})
    assert status == 403
    assert webchat.rasa.received == []  # nothing reached Rasa: no tracker written
    status, body = webchat.post("poll", {"sender": sender})
    assert status == 403 and "helpline" not in json.dumps(body)
    assert webchat.undelivered(sender) == ["a worker's reply meant for someone else"]  # still there


def test_a_tampered_issued_id_is_refused(webchat):
    sender = webchat.session()
    token, mac = sender[3:].split(".")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert webchat.post("webhook", {"sender": f"wc:{flipped}.{mac}", "message": "hi"})[0] == 403
    assert webchat.rasa.received == []


# --- limits per client address (item 10) -----------------------------------------------------------
def test_fresh_ids_from_one_address_are_refused_after_the_address_limit(webchat):
    ids = [webchat.session() for _ in range(5)]
    assert webchat.post("session")[0] == 429  # SESSION_RATE_LIMIT=5 from this address
    answers = [webchat.post("webhook", {"sender": ids[i % 5], "message": f"m{i}"})[1] for i in range(9)]
    assert all(a[0]["text"].startswith("You said") for a in answers[:8])
    assert answers[8] == [{"recipient_id": ids[8 % 5], "text": texts.text(RATE_LIMITED, "webchat")}]
    assert len(webchat.rasa.received) == 8


def test_x_forwarded_for_from_an_untrusted_peer_does_not_reset_the_count(webchat):
    for i in range(5):
        webchat.session({"X-Forwarded-For": f"198.51.100.{i}"})
    assert webchat.post("session", headers={"X-Forwarded-For": "203.0.113.99"})[0] == 429


def test_the_poll_is_limited(webchat):
    sender = webchat.session()
    statuses = [webchat.post("poll", {"sender": sender})[0] for _ in range(5)]
    assert statuses == [200] * 4 + [429]


# --- a crisis while a worker has the conversation (item 5) --------------------------------------------
class PausedRasa:
    """Rasa for a conversation a worker has taken: the real domain and response generator, a
    real tracker store; each message is parsed (here: no intent) and stored, nothing said."""

    def __init__(self, sender: str) -> None:
        from rasa.core.lock_store import InMemoryLockStore
        from rasa.core.nlg import TemplatedNaturalLanguageGenerator
        from rasa.core.tracker_store import InMemoryTrackerStore
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        self.domain = Domain.load(str(ROOT / "domain.yml"))
        self.nlg = TemplatedNaturalLanguageGenerator(self.domain.responses)
        self.tracker_store = InMemoryTrackerStore(self.domain)
        self.lock_store = InMemoryLockStore()
        self._user, self._action, self.sender = UserUttered, ActionExecuted, sender
        tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_listen"), ConversationPaused()], self.domain.slots
        )
        asyncio.run(self.tracker_store.save(tracker))

    async def __call__(self, message: Any) -> None:
        tracker = await self.tracker_store.retrieve(message.sender_id)
        tracker.update(self._user(message.text, {"name": None}))
        await self.tracker_store.save(tracker)


def test_a_crisis_message_during_a_paused_chat_gets_the_crisis_reply_and_the_case_is_urgent(database_url, monkeypatch):
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    channel = WebChatInput(database_url, secret=KEY)
    sender = senders.issue(KEY)
    rasa = PausedRasa(sender)
    with db.session_factory(database_url)() as session, session.begin():
        cases.open_live(sender_id=sender, channel="webchat", request_key=f"{sender}:1", session=session)
    with ChannelServer(channel, rasa) as server:
        server.app.ctx.agent = rasa
        chat = Chat(server, FakeRasa(), database_url)
        # Not a crisis: the worker has the conversation, the bot stays silent.
        assert chat.post("webhook", {"sender": sender, "message": "ok I'll wait for them"}) == (200, [])
        with db.session_factory(database_url)() as session:
            assert not session.execute(select(Case).where(Case.sender_id == sender)).scalar_one().urgent
        status, replies = chat.post("webhook", {"sender": sender, "message": "i want to end it all tonight"})
    assert status == 200
    texts = [r["text"] for r in replies]
    assert len(texts) == 2 and "Samaritans" in texts[0] and "116 123" in texts[0]
    assert "Prisoners' Families Helpline is free on 0808 808 3444 (Mon-Fri 10am-5pm)" in texts[1]  # slot filled
    with db.session_factory(database_url)() as session:
        case = session.execute(select(Case).where(Case.sender_id == sender)).scalar_one()
        assert case.urgent and case.urgent_at is not None
    # The worker's transcript shows what the person was told, after their message.
    stored = asyncio.run(rasa.tracker_store.retrieve(sender))
    said = [e for e in stored.events if e.type_name == "bot"]
    assert [e.text for e in said] == texts and stored.events[-3].type_name == "user"
    assert all(e.metadata.get("crisis_during_handoff") for e in said) and stored.is_paused()


@pytest.mark.parametrize("typed", ["/restart", "/session_start", "/action_handoff", "/EXTERNAL_handoff_timeout",
                                   " /external_handoff_timeout{}"])
def test_typed_commands_and_our_own_triggers_are_read_as_words(typed):
    """Only our code (the live-chat sweep, through Rasa's API) may trigger EXTERNAL_ intents."""
    from bot.channels.webchat import clean_message

    assert not clean_message(typed).startswith("/")


def test_buttons_still_send_their_payloads():
    from bot.channels.webchat import clean_message

    assert clean_message("/affirm") == "/affirm"
