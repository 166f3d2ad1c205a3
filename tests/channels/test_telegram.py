"""The Telegram channel over real HTTP: the real Sanic blueprint, python-telegram-bot talking
to a fake Bot API, a scripted stand-in for Rasa, SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.channel_fakes import (
    TELEGRAM_SECRET, TELEGRAM_TOKEN, ChannelServer, FakeProviders, FakeRasa, post_json, telegram_callback,
    telegram_message,
)

from bot.channels import commands
from bot.channels.telegram import SECRET_HEADER, TelegramConfig, TelegramInput, TelegramOutput
from bot.settings import Settings

CHAT = 5550001
OTHER_CHAT = 5550002


@pytest.fixture(scope="module")
def providers():
    with FakeProviders() as fake:
        yield fake


def make_config(database_url: str, providers: FakeProviders, **changes: Any) -> TelegramConfig:
    values = dict(
        bot_token=TELEGRAM_TOKEN, webhook_secret=TELEGRAM_SECRET, webhook_url="https://chat.example.org",
        api_url=providers.telegram_api_url, database_url=database_url,
    )
    values.update(changes)
    return TelegramConfig(**values)


@dataclass
class Telegram:
    server: ChannelServer
    channel: TelegramInput
    providers: FakeProviders
    rasa: FakeRasa

    def post(self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> tuple[int, str]:
        """Deliver an update as Telegram would."""
        return post_json(self.server.webhook_url, update, {SECRET_HEADER: secret} if secret is not None else {})

    def say(self, text: str, chat: int = CHAT, **kwargs: Any) -> tuple[int, str]:
        return self.post(telegram_message(chat, text, **kwargs))

    def sent(self, chat: int = CHAT) -> list[dict[str, Any]]:
        return self.providers.telegram("sendMessage", chat)


@pytest.fixture
def rasa():
    return FakeRasa()


@pytest.fixture
def channel(database_url, providers, rasa):
    providers.clear()
    channel = TelegramInput(make_config(database_url, providers))
    with ChannelServer(channel, rasa) as server:
        yield Telegram(server, channel, providers, rasa)


# --- the secret token -----------------------------------------------------------------------
def test_a_message_with_the_secret_is_answered(channel):
    update = telegram_message(CHAT, "hello")
    assert channel.post(update)[0] == 200
    [message] = channel.rasa.received
    assert (message.text, message.sender_id, message.input_channel, message.message_id) == (
        "hello", f"tg:{CHAT}", "telegram", str(update["update_id"])
    )
    [sent] = channel.sent()
    assert sent["text"] == "You said: hello" and sent["chat_id"] == CHAT
    assert "reply_markup" not in sent


@pytest.mark.parametrize("secret", [None, "", "wrong", TELEGRAM_SECRET + "x", TELEGRAM_SECRET.upper()])
def test_a_missing_or_wrong_secret_is_refused(channel, secret):
    status, _ = channel.post(telegram_message(CHAT, "/restart"), secret=secret)
    assert status == 403
    assert channel.rasa.received == []
    assert channel.providers.calls == []


def test_off_when_not_configured(database_url, providers, rasa, caplog):
    with caplog.at_level(logging.INFO, logger="bot.channels.telegram"):
        channel = TelegramInput(make_config(database_url, providers, webhook_secret=None))
    assert "channel off" in caplog.text
    with ChannelServer(channel, rasa) as server:
        status, _ = post_json(server.webhook_url, telegram_message(CHAT, "hello"), {SECRET_HEADER: ""})
    assert status == 503 and rasa.received == []


def test_not_json_is_a_bad_request(channel):
    status, _ = channel.post(["not", "an", "update"])
    assert status == 400 and channel.rasa.received == []


# --- buttons ----------------------------------------------------------------------------------
def test_buttons_become_an_inline_keyboard(channel):
    channel.rasa.answers["hi"] = [{
        "text": "Hello! What's on your mind?",
        "buttons": [
            {"title": "Visiting", "payload": "/ask_visit_booking"},
            {"title": "Telling children", "payload": "/ask_tell_children"},
            {"title": "Too long", "payload": "/inform" + "x" * 70},
        ],
    }]
    channel.say("hi")
    [sent] = channel.sent()
    assert sent["text"] == "Hello! What's on your mind?"
    assert sent["reply_markup"] == {"inline_keyboard": [
        [{"text": "Visiting", "callback_data": "/ask_visit_booking"}],
        [{"text": "Telling children", "callback_data": "/ask_tell_children"}],
    ]}


def test_a_button_press_sends_its_payload_and_is_answered(channel):
    update = telegram_callback(CHAT, "/ask_visit_booking")
    assert channel.post(update)[0] == 200
    assert channel.rasa.texts == ["/ask_visit_booking"]
    assert channel.rasa.received[0].sender_id == f"tg:{CHAT}"
    [answered] = channel.providers.telegram("answerCallbackQuery")
    assert answered["callback_query_id"] == update["callback_query"]["id"]
    assert channel.sent()[0]["text"] == "You said: /ask_visit_booking"


def test_a_forged_button_cannot_restart_the_conversation(channel):
    channel.post(telegram_callback(CHAT, "/restart"))
    assert channel.rasa.texts == ["restart"]


# --- commands -------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, seen", [
    ("/start", "/greet"), ("/start campaign42", "/greet"), ("/start@fc_test_bot", "/greet"), ("/START", "/greet"),
    ("/help", "/ask_capabilities"), ("/restart", "restart"), ("/session_start", "session_start"),
    ("/ask_visit_booking", "ask_visit_booking"), ("/back", "back"), ("how do i book a visit", "how do i book a visit"),
])
def test_start_and_help_go_to_rasa_and_other_slash_text_is_words(channel, typed, seen):
    channel.say(typed)
    assert channel.rasa.texts == [seen]


# --- what is ignored --------------------------------------------------------------------------
def test_a_repeated_update_id_is_ignored(channel):
    update = telegram_message(CHAT, "hello")
    for _ in range(3):
        assert channel.post(update)[0] == 200
    assert channel.rasa.texts == ["hello"]
    assert len(channel.sent()) == 1


@pytest.mark.parametrize("update", [
    {"update_id": 910001, "edited_message": {
        "message_id": 1, "date": 1, "edit_date": 2, "text": "edited", "chat": {"id": CHAT, "type": "private"}}},
    {"update_id": 910002, "message": {"message_id": 2, "date": 1, "chat": {"id": CHAT, "type": "private"},
                                       "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}},
    {"update_id": 910003, "message": {"message_id": 3, "date": 1, "text": "hi all",
                                       "chat": {"id": -100123, "type": "supergroup", "title": "Group"}}},
    {"update_id": 910004, "channel_post": {"message_id": 4, "date": 1, "text": "news",
                                            "chat": {"id": -100999, "type": "channel", "title": "C"}}},
    {"update_id": 910005, "my_chat_member": {
        "chat": {"id": CHAT, "type": "private"}, "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"}, "date": 1,
        "old_chat_member": {"status": "member", "user": {"id": 4242, "is_bot": True, "first_name": "FC"}},
        "new_chat_member": {"status": "kicked", "until_date": 0, "user": {"id": 4242, "is_bot": True, "first_name": "FC"}}}},
    {"update_id": 910006},
], ids=["edited", "photo", "group", "channel post", "blocked", "empty"])
def test_updates_without_a_private_text_message_are_ignored(channel, update):
    assert channel.post(update)[0] == 200
    assert channel.rasa.received == []
    assert channel.sent() == []


# --- staff replies (Rasa's output_channel=latest) -------------------------------------------
def test_a_workers_reply_goes_out_through_the_output_channel(channel):
    output = channel.channel.get_output_channel()
    assert isinstance(output, TelegramOutput) and output.name() == "telegram"

    async def reply() -> None:
        await output.send_response(f"tg:{CHAT}", {"text": "Hello from the helpline"})
        await output.send_response(f"tg:{CHAT}", {"text": "Can I call you?", "buttons": [
            {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]})
        await output.bot.shutdown()

    asyncio.run(reply())
    first, second = channel.sent()
    assert first["text"] == "Hello from the helpline" and "reply_markup" not in first
    assert second["reply_markup"]["inline_keyboard"][1] == [{"text": "No", "callback_data": "/deny"}]


def test_a_very_long_reply_is_split_under_telegrams_limit(channel):
    channel.rasa.answers["long"] = [{"text": "A sentence about visits. " * 400}]
    channel.say("long")
    parts = channel.sent()
    assert len(parts) >= 3 and all(len(p["text"]) <= 4096 for p in parts)


# --- the set-webhook command ----------------------------------------------------------------
def test_set_webhook_registers_the_url_with_the_secret(providers, monkeypatch):
    providers.clear()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
    monkeypatch.setenv("TELEGRAM_API_URL", providers.telegram_api_url)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    result = commands.telegram_set_webhook("https://chat.example.org/")
    assert result["url"] == "https://chat.example.org/webhooks/telegram/webhook"
    [hook] = providers.telegram("setWebhook")
    assert hook["url"] == "https://chat.example.org/webhooks/telegram/webhook"
    assert hook["secret_token"] == TELEGRAM_SECRET
    assert hook["allowed_updates"] == ["message", "callback_query"]
    [menu] = providers.telegram("setMyCommands")
    assert [c["command"] for c in menu["commands"]] == ["start", "help"]
    assert [c["description"] for c in menu["commands"]] == ["Start again", "What I can help with"]  # domain.yml
    assert commands.telegram_webhook_info()["url"] == "https://chat.example.org/webhooks/telegram/webhook"
    assert commands.telegram_delete_webhook() is True


def test_set_webhook_needs_the_token_secret_and_a_url(monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(commands.ChannelNotConfigured):
        commands.telegram_set_webhook("https://chat.example.org")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    with pytest.raises(commands.ChannelNotConfigured):
        commands.telegram_set_webhook()


def test_prune_forgets_old_delivery_ids(database_url):
    from datetime import datetime, timedelta

    from bot import db
    from bot.channels import models

    with db.session_factory(database_url)() as session, session.begin():
        assert models.claim_delivery("telegram", "1", session=session)
        assert not models.claim_delivery("telegram", "1", session=session)
        assert models.claim_delivery("twilio", "1", session=session)  # per channel
        session.add(models.ChannelDelivery(channel="twilio", external_id="old", received_at=datetime.utcnow() - timedelta(days=30)))
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "database_url": database_url})
    assert commands.prune_deliveries(days=7, settings=settings) == 1
