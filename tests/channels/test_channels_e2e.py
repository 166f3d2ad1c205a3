"""End to end: the real Rasa and action servers with the trained model, our SMS and Telegram
channels enabled in a temporary credentials.yml, and the providers' APIs faked at their HTTP
boundary. A short conversation over each channel, buttons answered the way each channel
answers them, and a helpline worker's reply through Rasa's HTTP API."""
from __future__ import annotations

import json
import re
import urllib.request
import uuid

import pytest
import yaml
from tests.support.channel_fakes import (
    TELEGRAM_SECRET, TELEGRAM_TOKEN, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, FakeProviders, free_port,
    inbound_sms, post_form, post_json, telegram_callback, telegram_message, twilio_signature, wait_until,
)

from bot.channels.telegram import SECRET_HEADER
from bot.endpoints import tracker_store_endpoint
from bot.servers import Servers

pytestmark = pytest.mark.e2e

PUBLIC_SMS_URL = "https://sms.example.org/webhooks/twilio/webhook"
VISIT_BOOKING = "visitor list"  # from utter_visit_booking


@pytest.fixture(scope="module")
def providers():
    with FakeProviders() as fake:
        yield fake


@pytest.fixture(scope="module")
def servers(model_path, providers, tmp_path_factory):
    work = tmp_path_factory.mktemp("channels-e2e")
    actions_port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": f"http://localhost:{actions_port}/webhook"},
        "tracker_store": tracker_store_endpoint(f"sqlite:///{work / 'tracker.db'}"),
    }))
    credentials = work / "credentials.yml"
    credentials.write_text(yaml.safe_dump({
        "rest": None,
        "bot.channels.twilio.TwilioInput": {
            "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "number": TWILIO_NUMBER,
            "webhook_url": PUBLIC_SMS_URL, "api_url": providers.url,
        },
        "bot.channels.telegram.TelegramInput": {
            "bot_token": TELEGRAM_TOKEN, "webhook_secret": TELEGRAM_SECRET, "api_url": providers.telegram_api_url,
        },
    }))
    with Servers(
        model=model_path, rasa_port=free_port(), actions_port=actions_port, endpoints=endpoints,
        credentials=credentials, log_dir=work / "logs", database_url=f"sqlite:///{work / 'families_connect.db'}",
        tracker_store_url=f"sqlite:///{work / 'tracker.db'}",
    ) as running:
        running.log_dir_path = work / "logs"
        yield running


def new_number() -> str:
    return "+4477009" + str(uuid.uuid4().int)[:5]


def new_chat() -> int:
    return 700000000 + uuid.uuid4().int % 100000000


def text_sms(servers, sender: str, body: str) -> None:
    params = inbound_sms(sender, body)
    status, _ = post_form(
        f"{servers.rasa_url}/webhooks/twilio/webhook", params,
        {"X-Twilio-Signature": twilio_signature(PUBLIC_SMS_URL, params)},
    )
    assert status == 200


def sms_to(providers, sender: str, count: int) -> list[str]:
    wait_until(lambda: len(providers.sms(sender)) >= count, timeout=30)
    return [m["Body"] for m in providers.sms(sender)]


def telegram(servers, update: dict) -> None:
    status, _ = post_json(f"{servers.rasa_url}/webhooks/telegram/webhook", update, {SECRET_HEADER: TELEGRAM_SECRET})
    assert status == 200


def telegram_to(providers, chat: int, count: int) -> list[dict]:
    wait_until(lambda: len(providers.telegram("sendMessage", chat)) >= count, timeout=30)
    return providers.telegram("sendMessage", chat)


def staff_reply(servers, sender: str, text: str) -> None:
    """What the console does: append a bot event, delivered on the conversation's latest channel."""
    request = urllib.request.Request(
        # "+" as it is: Sanic 21.12 does not decode path parameters, so "%2B44..." would be
        # another conversation.
        f"{servers.rasa_url}/conversations/{sender}/tracker/events"
        "?output_channel=latest&execute_side_effects=true",
        data=json.dumps([{"event": "bot", "text": text}]).encode(),
        headers={"Content-Type": "application/json", **servers.api_headers()},  # the API needs a Bearer JWT
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


# --- SMS ------------------------------------------------------------------------------------
def test_sms_question_is_answered_through_the_twilio_api(servers, providers):
    sender = new_number()
    text_sms(servers, sender, "how do i book a visit")
    [answer, *_] = sms_to(providers, sender, 1)
    assert VISIT_BOOKING in answer
    assert all(m["From"] == TWILIO_NUMBER for m in providers.sms(sender))
    assert len(providers.sms(sender)) <= 3


def test_sms_options_answered_by_digit(servers, providers):
    sender = new_number()
    text_sms(servers, sender, "hello")
    [greeting] = sms_to(providers, sender, 1)
    assert "Reply 1 for Visiting" in greeting
    text_sms(servers, sender, "1")
    answers = sms_to(providers, sender, 2)
    assert VISIT_BOOKING in answers[1]


def test_did_i_help_is_answered_by_digit(servers, providers):
    """Issue 17: after a topic answer and thanks, "Did I help today?" comes as numbered options;
    "2" is read as "no, not really" and the reply offers the helpline."""
    sender = new_number()
    bodies = lambda: [m["Body"] for m in providers.sms(sender)]  # noqa: E731
    text_sms(servers, sender, "how do i book a visit")
    sms_to(providers, sender, 1)
    text_sms(servers, sender, "thanks")
    wait_until(lambda: any("Did I help today?" in body for body in bodies()), timeout=30)
    [asked] = [body for body in bodies() if "Did I help today?" in body]
    assert "Reply 1 for Yes, it helped or 2 for No, not really" in asked
    text_sms(servers, sender, "2")
    wait_until(lambda: any(body.startswith("Thank you for telling me, and I'm sorry.") for body in bodies()), timeout=30)
    [reply] = [body for body in bodies() if body.startswith("Thank you for telling me")]
    assert "0808 808 3444" in reply


def test_forged_sms_is_refused_by_the_running_server(servers, providers):
    sender = new_number()
    params = inbound_sms(sender, "how do i book a visit")
    status, _ = post_form(f"{servers.rasa_url}/webhooks/twilio/webhook", params, {"X-Twilio-Signature": "forged"})
    assert status == 403
    assert providers.sms(sender) == []


def test_staff_reply_reaches_the_phone(servers, providers):
    sender = new_number()
    text_sms(servers, sender, "hello")
    sms_to(providers, sender, 1)
    staff_reply(servers, f"sms:{sender}", "Hello from the helpline")
    assert sms_to(providers, sender, 2)[-1] == "Hello from the helpline"


# --- Telegram -------------------------------------------------------------------------------
def test_telegram_question_is_answered_through_the_bot_api(servers, providers):
    chat = new_chat()
    telegram(servers, telegram_message(chat, "how do i book a visit"))
    [answer, *_] = telegram_to(providers, chat, 1)
    assert VISIT_BOOKING in answer["text"]


def test_telegram_start_greets_with_a_keyboard_and_a_press_answers(servers, providers):
    chat = new_chat()
    telegram(servers, telegram_message(chat, "/start"))
    [greeting] = telegram_to(providers, chat, 1)
    assert greeting["text"].startswith("Hello")
    buttons = [row[0] for row in greeting["reply_markup"]["inline_keyboard"]]
    assert buttons[0] == {"text": "Visiting", "callback_data": "/ask_visit_booking"}
    press = telegram_callback(chat, buttons[0]["callback_data"])
    telegram(servers, press)
    answers = telegram_to(providers, chat, 2)
    assert VISIT_BOOKING in answers[1]["text"]
    assert any(c["callback_query_id"] == press["callback_query"]["id"] for c in providers.telegram("answerCallbackQuery"))


def test_telegram_wrong_secret_is_refused_by_the_running_server(servers, providers):
    chat = new_chat()
    status, _ = post_json(
        f"{servers.rasa_url}/webhooks/telegram/webhook", telegram_message(chat, "hello"), {SECRET_HEADER: "nope"}
    )
    assert status == 403
    assert providers.telegram("sendMessage", chat) == []


def test_staff_reply_reaches_the_telegram_chat(servers, providers):
    chat = new_chat()
    telegram(servers, telegram_message(chat, "hello"))
    telegram_to(providers, chat, 1)
    staff_reply(servers, f"tg:{chat}", "Hello from the helpline")
    assert telegram_to(providers, chat, 2)[-1]["text"] == "Hello from the helpline"


# --- last: what the servers wrote -------------------------------------------------------------
def test_no_number_or_message_text_in_the_server_logs(servers):
    logs = "\n".join(path.read_text(errors="replace") for path in servers.log_dir.glob("*.log"))
    assert "twilio: refused a webhook without a valid signature" in logs  # the logs were written
    assert not re.search(r"4477009\d{5}", logs)
    assert "book a visit" not in logs and "Hello from the helpline" not in logs
