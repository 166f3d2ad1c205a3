"""WhatsApp through Twilio over real HTTP: the real Twilio webhook blueprint, the real twilio
library talking to the fake Twilio API (which fails our own words outside WhatsApp's 24 hours,
as WhatsApp does), a scripted stand-in for Rasa, Rasa's own tracker store for the window, and
SQLite and PostgreSQL for menus and message ids."""
from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from tests.support.channel_fakes import (
    TEMPLATE_SID, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER, ChannelServer, FakeProviders, FakeRasa,
    _open, inbound_sms, inbound_whatsapp, post_form, twilio_signature, wait_until,
)

from bot import texts
from bot.channels import whatsapp
from bot.channels.twilio import TwilioConfig, TwilioInput
from bot.channels.whatsapp import MEDIA_ONLY, MEDIA_WITH_TEXT, WhatsAppInput, WhatsAppOutput

PUBLIC_URL = "https://sms.example.org/webhooks/twilio/webhook"
ALEX = "+447700900123"
SAM = "+447700900456"
HOUR = 3600.0


@pytest.fixture(scope="module")
def providers():
    with FakeProviders() as fake:
        yield fake


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only here: what the channel keeps in the database (deliveries taken once) is tested on
    both databases in tests/channels/test_twilio.py; this module tests WhatsApp's own rules."""
    from bot import db

    url = f"sqlite:///{tmp_path / 'whatsapp.db'}"
    db.upgrade(url)
    return url


def make_config(database_url: str, providers: FakeProviders, **changes: Any) -> TwilioConfig:
    values = dict(
        account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, number=TWILIO_NUMBER, webhook_url=PUBLIC_URL,
        api_url=providers.url, database_url=database_url, whatsapp_number=WHATSAPP_NUMBER,
    )
    values.update(changes)
    return TwilioConfig(**values)


def conversation(sender: str, *events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events))


def wrote(text: str, at: float, channel: str = "whatsapp") -> UserUttered:
    return UserUttered(text, timestamp=at, input_channel=channel)


def said(text: str, at: float, **data: Any) -> BotUttered:
    return BotUttered(text, data=data or None, timestamp=at)


@dataclass
class WhatsApp:
    server: ChannelServer
    channel: TwilioInput
    providers: FakeProviders
    rasa: FakeRasa
    store: InMemoryTrackerStore

    def send(self, number: str, body: str = "", *, media: tuple[str, ...] = (), **extra: str) -> int:
        """Post an incoming WhatsApp message as Twilio would (signed), and let its turn finish."""
        params = inbound_whatsapp(number, body, media=media, **extra)
        self.providers.whatsapp_wrote(number)
        status, _ = post_form(self.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})
        wait_until(lambda: not self.channel.tasks, timeout=30)
        return status

    def replies(self, number: str) -> list[str]:
        return [m.get("Body") for m in self.providers.whatsapp(number)]


class StoringRasa(FakeRasa):
    """FakeRasa that also stores the person's message, as Rasa does (it moves the window on)."""

    def __init__(self, store: InMemoryTrackerStore) -> None:
        super().__init__()
        self.store = store

    async def __call__(self, message: Any) -> None:
        tracker = await self.store.retrieve_full_tracker(message.sender_id) or conversation(message.sender_id)
        tracker.update(UserUttered(message.text, input_channel=message.input_channel, timestamp=time.time()))
        await self.store.save(tracker)
        await super().__call__(message)


def serve(database_url: str, providers: FakeProviders, **changes: Any):
    providers.clear()
    store = InMemoryTrackerStore(Domain.empty())
    rasa = StoringRasa(store)
    channel = TwilioInput(make_config(database_url, providers, **changes))
    server = ChannelServer(channel, rasa)
    server.app.ctx.agent = SimpleNamespace(tracker_store=store)  # what Rasa's app carries
    return WhatsApp(server, channel, providers, rasa, store)


@pytest.fixture
def wa(database_url, providers):
    chat = serve(database_url, providers)
    with chat.server:
        yield chat


# --- the webhook ----------------------------------------------------------------------------
def test_a_whatsapp_message_is_answered_over_whatsapp(wa):
    assert wa.send(ALEX, "hello") == 200
    [message] = wa.rasa.received
    assert (message.text, message.sender_id, message.input_channel) == ("hello", "wa:" + ALEX, "whatsapp")
    [sent] = wa.providers.whatsapp(ALEX, delivered=True)
    assert (sent["Body"], sent["From"], sent["To"]) == ("You said: hello", WHATSAPP_NUMBER, "whatsapp:" + ALEX)
    assert wa.providers.sms(ALEX) == []  # nothing by SMS


def test_whatsapp_and_sms_from_one_phone_are_two_conversations(wa):
    wa.rasa.answers["hi"] = [{"text": "Pick", "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]}]
    wa.send(ALEX, "hi")
    params = inbound_sms(ALEX, "2")
    post_form(wa.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})
    wait_until(lambda: not wa.channel.tasks, timeout=30)
    assert [(m.sender_id, m.text) for m in wa.rasa.received] == [("wa:" + ALEX, "hi"), ("sms:" + ALEX, "2")]
    wa.send(ALEX, "2")  # the WhatsApp menu is still there for the WhatsApp conversation
    assert wa.rasa.received[-1].text == "/b"


def test_options_are_numbered_and_a_number_picks_the_payload(wa):
    wa.rasa.answers["help"] = [{"text": "Who is it?", "buttons": [
        {"title": "My partner", "payload": "/inform{\"relation\": \"partner\"}"},
        {"title": "My son", "payload": "/inform{\"relation\": \"son\"}"},
    ]}]
    wa.send(SAM, "help")
    assert wa.replies(SAM) == ["Who is it?\nReply 1 for My partner or 2 for My son."]
    wa.send(SAM, "1")
    assert wa.rasa.received[-1].text == "/inform{\"relation\": \"partner\"}"


def test_keywords_are_words_on_whatsapp(wa):
    """Twilio acts on STOP and HELP only for SMS: on WhatsApp they are for the assistant to read."""
    for word in ("STOP", "help", "cancel"):
        wa.send(SAM, word)
    assert wa.rasa.texts == ["STOP", "help", "cancel"]
    assert len(wa.providers.whatsapp(SAM, delivered=True)) == 3


@pytest.mark.parametrize("media", [("image/jpeg",), ("audio/ogg",), ("video/mp4",), ("application/pdf", "image/png")])
def test_a_photo_or_voice_note_gets_a_kind_reply_and_rasa_is_not_called(wa, media):
    wa.send(ALEX, "", media=media)
    assert wa.rasa.received == []
    assert wa.replies(ALEX) == [texts.text(MEDIA_ONLY, "whatsapp")]
    assert "only read typed" in wa.replies(ALEX)[0]


def test_a_shared_location_gets_the_kind_reply_too(wa):
    wa.send(ALEX, "", Latitude="54.57", Longitude="-1.23", MessageType="location")
    assert wa.rasa.received == [] and wa.replies(ALEX) == [texts.text(MEDIA_ONLY, "whatsapp")]


def test_words_with_a_photo_are_read_and_the_photo_mentioned_first(wa):
    wa.send(ALEX, "this letter came from the prison", media=("image/jpeg",))
    assert wa.rasa.texts == ["this letter came from the prison"]
    assert wa.replies(ALEX) == [texts.text(MEDIA_WITH_TEXT, "whatsapp"), "You said: this letter came from the prison"]


def test_a_long_answer_goes_whole_up_to_1600_characters_and_as_written(wa):
    sentence = "Visits are booked by phone \u2013 the prison\u2019s line opens at 9. "
    wa.rasa.answers["long"] = [{"text": sentence * 20}]  # about 1200 characters
    wa.rasa.answers["longer"] = [{"text": sentence * 50}]  # about 3000
    wa.send(ALEX, "long")
    wa.send(ALEX, "longer")
    [one, *more] = wa.replies(ALEX)
    assert one == (sentence * 20).strip() and "\u2019" in one  # curly quotes and dashes kept
    assert len(more) == 2 and all(len(part) <= 1600 for part in more) and all(p.endswith("9.") for p in more)
    assert len(wa.providers.whatsapp(ALEX, delivered=True)) == 3


def test_whatsapp_off_a_whatsapp_message_is_acknowledged_and_not_answered(database_url, providers, caplog):
    chat = serve(database_url, providers, whatsapp_number=None)
    with chat.server, caplog.at_level(logging.INFO, logger="bot.channels.twilio"):
        assert chat.send(ALEX, "hello") == 200
        params = inbound_sms(SAM, "hello")
        post_form(chat.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})
        wait_until(lambda: chat.providers.sms(SAM), timeout=30)
    assert [m.sender_id for m in chat.rasa.received] == ["sms:" + SAM]  # SMS still answered
    assert chat.providers.whatsapp() == []
    assert "WhatsApp message was not answered" in caplog.text


def test_whatsapp_alone_needs_no_sms_number(database_url, providers):
    chat = serve(database_url, providers, number=None)
    with chat.server:
        assert chat.send(ALEX, "hello") == 200
        params = inbound_sms(SAM, "hello")
        assert post_form(chat.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})[0] == 200
        wait_until(lambda: not chat.channel.tasks)
    assert [m.sender_id for m in chat.rasa.received] == ["wa:" + ALEX]
    assert chat.providers.sms(SAM) == []


def test_a_forged_whatsapp_webhook_is_refused(wa):
    params = inbound_whatsapp(ALEX, "hello")
    status, _ = post_form(wa.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params, token="x")})
    assert status == 403 and wa.rasa.received == []


# --- the 24-hour window ---------------------------------------------------------------------
def output_with(store: InMemoryTrackerStore, database_url: str, providers: FakeProviders, **changes: Any) -> WhatsAppOutput:
    return WhatsAppOutput(make_config(database_url, providers, **changes), tracker_store=lambda: store)


async def stored(store: InMemoryTrackerStore, tracker: DialogueStateTracker) -> None:
    await store.save(tracker)


def test_within_the_window_a_workers_reply_goes_as_written(database_url, providers):
    providers.clear()
    store = InMemoryTrackerStore(Domain.empty())
    now = time.time()
    asyncio.run(stored(store, conversation("wa:" + ALEX, wrote("is anyone there", now - 23 * HOUR))))
    providers.whatsapp_wrote(ALEX, now - 23 * HOUR)
    output = output_with(store, database_url, providers)
    asyncio.run(output.send_response("wa:" + ALEX, {"text": "Hello, I'm Sam from the helpline."}))
    [sent] = providers.whatsapp(ALEX, delivered=True)
    assert sent["Body"] == "Hello, I'm Sam from the helpline." and "ContentSid" not in sent
    assert output.held == 0


def test_after_the_window_without_a_template_nothing_is_sent_and_a_warning_says_why(database_url, providers, caplog):
    providers.clear()
    store = InMemoryTrackerStore(Domain.empty())
    now = time.time()
    asyncio.run(stored(store, conversation("wa:" + ALEX, wrote("my secret worry", now - 26 * HOUR))))
    output = output_with(store, database_url, providers)
    with caplog.at_level(logging.INFO):
        asyncio.run(output.send_response("wa:" + ALEX, {"text": "Hello again"}))
    assert providers.whatsapp(ALEX) == [] and output.held == 1 and output.sent == 0
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "outside the 24-hour window (last message 26 h ago) and no approved template" in logged
    assert ALEX not in logged and ALEX[1:] not in logged and "Hello again" not in logged


def test_after_the_window_the_template_goes_once_and_the_message_is_held(database_url, providers):
    providers.clear()
    store = InMemoryTrackerStore(Domain.empty())
    now = time.time()
    asyncio.run(stored(store, conversation("wa:" + ALEX, wrote("hello", now - 30 * HOUR), said("Hi", now - 30 * HOUR))))
    output = output_with(store, database_url, providers, whatsapp_template_sid=TEMPLATE_SID)
    asyncio.run(output.send_response("wa:" + ALEX, {"text": "A worker's reply"}))
    asyncio.run(output.send_response("wa:" + ALEX, {"text": "And another"}))  # one request, two messages
    [template] = providers.whatsapp(ALEX, delivered=True)
    assert template["ContentSid"] == TEMPLATE_SID and "Body" not in template
    assert json.loads(template["ContentVariables"]) == {"1": texts.helpline_phone()}
    assert template["From"] == WHATSAPP_NUMBER and output.held == 2
    # A later request finds the held message in the conversation: no second invitation.
    tracker = conversation("wa:" + ALEX, wrote("hello", now - 30 * HOUR), said("A worker's reply", now - 60))
    asyncio.run(stored(store, tracker))
    later = output_with(store, database_url, providers, whatsapp_template_sid=TEMPLATE_SID)
    asyncio.run(later.send_response("wa:" + ALEX, {"text": "Are you there?"}))
    assert len(providers.whatsapp(ALEX)) == 1 and later.held == 1


def test_the_assistants_own_trigger_does_not_open_the_window(database_url, providers):
    """The live-chat sweep's trigger_intent stores "EXTERNAL: ..." as a user message: not theirs."""
    providers.clear()
    store = InMemoryTrackerStore(Domain.empty())
    now = time.time()
    external = UserUttered.create_external("EXTERNAL_handoff_timeout", input_channel="whatsapp")
    external.timestamp = now - 5
    asyncio.run(stored(store, conversation("wa:" + ALEX, wrote("hello", now - 25 * HOUR), external)))
    output = output_with(store, database_url, providers)
    asyncio.run(output.send_response("wa:" + ALEX, {"text": "Nobody could join"}))
    assert providers.whatsapp(ALEX) == [] and output.held == 1


def test_when_the_window_cannot_be_read_the_message_is_tried(database_url, providers, caplog):
    providers.clear()
    providers.whatsapp_wrote(ALEX)

    class Broken:
        async def retrieve_full_tracker(self, sender: str) -> None:
            raise ConnectionError("database down")

    output = WhatsAppOutput(make_config(database_url, providers), tracker_store=Broken)
    with caplog.at_level(logging.WARNING):
        asyncio.run(output.send_response("wa:" + ALEX, {"text": "Hello"}))
    assert [m["Body"] for m in providers.whatsapp(ALEX, delivered=True)] == ["Hello"]
    assert "could not be read (ConnectionError)" in caplog.text


def test_held_messages_are_delivered_when_the_person_writes_again_and_only_once(wa):
    now = time.time()
    held = said("Shall I call you?", now - 3 * HOUR, buttons=[{"title": "Yes", "payload": "/affirm"}])
    asyncio.run(stored(wa.store, conversation(
        "wa:" + ALEX, wrote("hello", now - 50 * HOUR), said("answered then", now - 50 * HOUR),
        said("Hello, I'm Sam from the helpline.", now - 5 * HOUR), held,
    )))
    wa.send(ALEX, "", media=("image/jpeg",))  # a photo alone: held messages wait for words
    assert wa.replies(ALEX) == [texts.text(MEDIA_ONLY, "whatsapp")]
    wa.providers.clear()
    wa.send(ALEX, "hi, sorry I missed you")
    assert wa.replies(ALEX) == [
        "Hello, I'm Sam from the helpline.", "Shall I call you?\nReply 1 for Yes.", "You said: hi, sorry I missed you",
    ]
    assert all("_error" not in m for m in wa.providers.whatsapp(ALEX))
    wa.providers.clear()
    wa.send(ALEX, "thanks")
    assert wa.replies(ALEX) == ["You said: thanks"]


# --- the channel Rasa's HTTP API sends on -------------------------------------------------------
def test_the_whatsapp_input_channel_gives_rasas_api_the_window_aware_output(database_url, providers, caplog):
    store = InMemoryTrackerStore(Domain.empty())
    with caplog.at_level(logging.INFO, logger="bot.channels.whatsapp"):
        off = WhatsAppInput(make_config(database_url, providers, whatsapp_number=None))
    assert "whatsapp: off" in caplog.text
    channel = WhatsAppInput(make_config(database_url, providers))
    with ChannelServer(channel, FakeRasa()) as server:
        server.app.ctx.agent = SimpleNamespace(tracker_store=store)
        output = channel.get_output_channel()
        assert isinstance(output, WhatsAppOutput) and output.name() == "whatsapp"
        assert output.tracker_store() is store
        status, body = _open(urllib.request.Request(f"http://127.0.0.1:{server.port}/webhooks/whatsapp/"))
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert off.get_output_channel().enabled is False


def test_from_credentials_reads_the_whatsapp_settings_and_credentials_override(monkeypatch):
    for name, value in {
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+447700900999", "TWILIO_WHATSAPP_TEMPLATE_SID": "HX" + "1" * 32,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_NUMBER", raising=False)
    channel = WhatsAppInput.from_credentials({"whatsapp_template_sid": TEMPLATE_SID})
    assert channel.config.whatsapp_enabled and not channel.config.enabled
    assert (channel.config.whatsapp_number, channel.config.whatsapp_template_sid) == ("whatsapp:+447700900999", TEMPLATE_SID)


def test_no_number_or_text_is_logged(wa, caplog):
    with caplog.at_level(logging.DEBUG):
        wa.send(ALEX, "my secret worry")
        wa.send(ALEX, "", media=("audio/ogg",))
        wa.send(ALEX, "my secret worry", media=("image/jpeg",))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("bot.", "twilio")))
    assert ALEX not in logged and ALEX[1:] not in logged
    assert "secret worry" not in logged


def test_the_texts_are_in_the_domain():
    texts.require(*whatsapp.TEXTS)
