"""The SMS channel over real HTTP: the real Sanic blueprint, the real twilio library talking
to a fake Twilio API, a scripted stand-in for Rasa, SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.channel_fakes import (
    TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, ChannelServer, FakeProviders, FakeRasa, inbound_sms, post_form,
    twilio_signature, wait_until,
)

from twilio.request_validator import RequestValidator

from bot import db
from bot.channels import models, sms
from bot.servers import free_port
from bot.channels.turn import cannot_answer
from bot.channels.twilio import EMPTY_TWIML, TwilioConfig, TwilioInput, TwilioOutput
from bot.texts import helpline_hours, helpline_phone

# The public URL Twilio calls, as a proxy in front of the app would have it: not the local one.
PUBLIC_URL = "https://sms.example.org/webhooks/twilio/webhook"
ALEX = "+447700900123"
SAM = "+447700900456"


@pytest.fixture(scope="module")
def providers():
    with FakeProviders() as fake:
        yield fake


@dataclass
class Sms:
    server: ChannelServer
    channel: TwilioInput
    providers: FakeProviders
    rasa: FakeRasa

    def text(self, sender: str, body: str, *, message_sid: str | None = None, sign: bool = True,
             signed_url: str = PUBLIC_URL, **extra: str) -> tuple[int, str]:
        """Post an incoming SMS to the webhook as Twilio would (signed for the public URL)."""
        params = inbound_sms(sender, body, message_sid, **extra)
        headers = {"X-Twilio-Signature": twilio_signature(signed_url, params)} if sign else {}
        answer = post_form(self.server.webhook_url, params, headers)
        self.settle()
        return answer

    def settle(self) -> None:
        """Wait for the turns the webhook left running in the background (it answers at once)."""
        wait_until(lambda: not self.channel.tasks, timeout=30)

    def replies(self, to: str) -> list[str]:
        return [m["Body"] for m in self.providers.sms(to)]


def make_config(database_url: str, providers: FakeProviders, **changes: Any) -> TwilioConfig:
    values = dict(
        account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, number=TWILIO_NUMBER, webhook_url=PUBLIC_URL,
        api_url=providers.url, database_url=database_url,
    )
    values.update(changes)
    return TwilioConfig(**values)


@pytest.fixture
def rasa():
    return FakeRasa()


@pytest.fixture
def channel(database_url, providers, rasa):
    providers.clear()
    providers.blocked_numbers.clear()
    channel = TwilioInput(make_config(database_url, providers))
    with ChannelServer(channel, rasa) as server:
        yield Sms(server, channel, providers, rasa)


# --- signatures -----------------------------------------------------------------------------
def test_a_signed_message_is_answered_by_sms(channel):
    status, body = channel.text(ALEX, "hello", message_sid="SM" + "a" * 32)
    assert (status, body) == (200, EMPTY_TWIML)
    [message] = channel.rasa.received
    assert (message.text, message.sender_id, message.input_channel, message.message_id) == (
        "hello", "sms:" + ALEX, "twilio", "SM" + "a" * 32
    )
    [sent] = channel.providers.sms(ALEX)
    assert sent["Body"] == "You said: hello"
    assert sent["From"] == TWILIO_NUMBER
    assert sent["_account"] == TWILIO_SID and sent["_auth"].startswith("Basic ")


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "signed for the local URL", "tampered body", "garbage"])
def test_unsigned_or_forged_webhooks_are_refused(channel, how):
    params = inbound_sms(ALEX, "hello")
    signature = {
        "unsigned": None,
        "wrong token": twilio_signature(PUBLIC_URL, params, token="not-the-token"),
        "signed for the local URL": twilio_signature(channel.server.webhook_url, params),
        "tampered body": twilio_signature(PUBLIC_URL, params),
        "garbage": "bm90IGEgc2lnbmF0dXJl",
    }[how]
    if how == "tampered body":
        params = {**params, "Body": "/restart"}
    status, _ = post_form(channel.server.webhook_url, params, {"X-Twilio-Signature": signature} if signature else {})
    assert status == 403
    assert channel.rasa.received == []
    assert channel.providers.sms() == []


def test_a_query_string_is_part_of_what_is_signed(channel, database_url, providers, rasa):
    params = inbound_sms(ALEX, "hello")
    url = channel.server.webhook_url + "?source=uk"
    good = twilio_signature(PUBLIC_URL + "?source=uk", params)
    assert post_form(url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})[0] == 403
    assert post_form(url, params, {"X-Twilio-Signature": good})[0] == 200
    channel.settle()
    assert rasa.texts == ["hello"]


def test_off_when_not_configured(database_url, providers, rasa, caplog):
    with caplog.at_level(logging.INFO, logger="bot.channels.twilio"):
        channel = TwilioInput(make_config(database_url, providers, auth_token=None))
    assert "SMS channel off" in caplog.text
    with ChannelServer(channel, rasa) as server:
        params = inbound_sms(ALEX, "hello")
        status, _ = post_form(server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})
    assert status == 503
    assert rasa.received == []


def test_from_credentials_reads_the_environment_and_credentials_override(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL", "TWILIO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert not TwilioInput.from_credentials(None).config.enabled
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("TWILIO_NUMBER", TWILIO_NUMBER)
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", PUBLIC_URL)
    config = TwilioInput.from_credentials({"auth_token": "from-credentials", "api_url": ""}).config
    assert config.enabled and config.auth_token == "from-credentials" and config.api_url is None


# --- one answer per MessageSid --------------------------------------------------------------
def test_a_retried_message_sid_gets_no_second_answer(channel):
    for _ in range(3):
        assert channel.text(ALEX, "hello", message_sid="SM" + "b" * 32)[0] == 200
    assert channel.rasa.texts == ["hello"]
    assert channel.replies(ALEX) == ["You said: hello"]


def test_concurrent_copies_of_one_message_get_one_answer(channel):
    channel.rasa.delay = 0.3
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: channel.text(ALEX, "hello", message_sid="SM" + "c" * 32)[0], range(6)))
    channel.settle()
    assert statuses == [200] * 6
    assert channel.rasa.texts == ["hello"]
    assert channel.replies(ALEX) == ["You said: hello"]


# --- text-message manners -------------------------------------------------------------------
def test_buttons_become_numbered_options_and_a_number_picks_the_payload(channel):
    channel.rasa.answers["hi"] = [{
        "text": "Hello! What's on your mind?",
        "buttons": [
            {"title": "Visiting", "payload": "/ask_visit_booking"},
            {"title": "Telling children", "payload": "/ask_tell_children"},
        ],
    }]
    channel.text(ALEX, "hi")
    assert channel.replies(ALEX) == ["Hello! What's on your mind?\nReply 1 for Visiting or 2 for Telling children."]
    channel.text(ALEX, "2")
    assert channel.rasa.texts == ["hi", "/ask_tell_children"]
    # The options answer only the very next message: "2" now is just "2" (an age, say).
    channel.text(ALEX, "2")
    assert channel.rasa.texts[-1] == "2"


def test_options_are_per_number(channel):
    channel.rasa.answers["hi"] = [{"text": "Pick", "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]}]
    channel.text(ALEX, "hi")
    channel.text(SAM, "1")
    channel.text(ALEX, "1")
    assert [(m.sender_id, m.text) for m in channel.rasa.received] == [("sms:" + ALEX, "hi"), ("sms:" + SAM, "1"), ("sms:" + ALEX, "/a")]


def test_a_number_out_of_range_is_just_text(channel):
    channel.rasa.answers["hi"] = [{"text": "Pick", "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]}]
    channel.text(ALEX, "hi")
    channel.text(ALEX, "7")
    assert channel.rasa.texts == ["hi", "7"]


def test_a_long_answer_goes_as_at_most_three_messages_cut_between_sentences(channel):
    sentences = [f"Sentence {i} is about visits, money and the helpline on 0808 808 3444." for i in range(12)]
    channel.rasa.answers["tell me everything"] = [{"text": " ".join(sentences)}]
    channel.text(ALEX, "tell me everything")
    parts = channel.replies(ALEX)
    assert 2 <= len(parts) <= 3
    assert " ".join(parts) == " ".join(sentences)
    assert all(p.endswith("3444.") for p in parts)


def test_curly_quotes_are_sent_as_plain_gsm7(channel):
    channel.rasa.answers["hi"] = [{"text": "You\u2019re not alone \u2014 we\u2019re here."}]
    channel.text(ALEX, "hi")
    [body] = channel.replies(ALEX)
    assert body == "You're not alone - we're here."
    assert sms.encoding(body).alphabet == "GSM-7"


def test_emoji_and_other_unicode_arrive_intact(channel):
    channel.text(ALEX, "thank you \U0001F64F caf\u00e9 \u4f60\u597d")
    assert channel.rasa.texts == ["thank you \U0001F64F caf\u00e9 \u4f60\u597d"]
    assert channel.replies(ALEX) == ["You said: thank you \U0001F64F caf\u00e9 \u4f60\u597d"]


@pytest.mark.parametrize("typed, seen", [
    ("/restart", "restart"), ("/session_start", "session_start"), ("/ask_visit_booking", "ask_visit_booking"),
    ("  //back", "back"),
])
def test_typed_text_is_never_a_rasa_command(channel, typed, seen):
    channel.text(ALEX, typed)
    assert channel.rasa.texts == [seen]


def test_a_very_long_message_is_capped(channel):
    channel.text(ALEX, "x" * 5000)
    assert len(channel.rasa.texts[0]) <= 1600


def test_a_sender_that_is_not_a_phone_number_is_ignored(channel):
    status, body = channel.text("whatsapp:+447700900123", "hello")
    assert (status, body) == (200, EMPTY_TWIML)
    assert channel.rasa.received == []


# --- STOP, START, HELP ----------------------------------------------------------------------
def test_stop_stops_every_message_until_start(channel):
    channel.text(ALEX, "STOP")
    assert channel.rasa.received == [] and channel.replies(ALEX) == []  # Twilio itself confirms
    channel.text(ALEX, "hello")
    assert channel.rasa.received == [] and channel.replies(ALEX) == []
    # Nor does a helpline worker's reply (Rasa's HTTP API, output_channel=latest) go out.
    asyncio.run(channel.channel.get_output_channel().send_response("sms:" + ALEX, {"text": "Hello from the helpline"}))
    assert channel.replies(ALEX) == []
    channel.text(ALEX, "Start")
    channel.text(ALEX, "hello again")
    assert channel.rasa.texts == ["hello again"]
    assert channel.replies(ALEX) == ["You said: hello again"]


@pytest.mark.parametrize("word", ["unsubscribe", "Cancel", "END", "quit.", "stopall"])
def test_twilios_other_opt_out_words_stop_too(channel, word):
    channel.text(ALEX, word)
    channel.text(ALEX, "hello")
    assert channel.rasa.received == [] and channel.replies(ALEX) == []


def test_stop_in_a_sentence_is_just_text(channel):
    channel.text(ALEX, "how do I stop worrying")
    assert channel.rasa.texts == ["how do I stop worrying"]


def test_yes_opts_back_in_only_when_stopped(channel):
    channel.text(ALEX, "yes")
    assert channel.rasa.texts == ["yes"]
    channel.text(ALEX, "stop")
    channel.text(ALEX, "YES")
    channel.text(ALEX, "hello")
    assert channel.rasa.texts == ["yes", "hello"]


def test_advanced_opt_out_type_is_honoured(channel):
    channel.text(ALEX, "ARRET", OptOutType="STOP")
    channel.text(ALEX, "hello")
    assert channel.rasa.received == []


def test_help_gets_the_help_text(channel):
    channel.text(ALEX, "HELP")
    assert channel.rasa.received == []
    [body] = channel.replies(ALEX)
    assert helpline_phone() in body and "999" in body
    assert helpline_phone() == "0808 808 3444" and helpline_hours() in body


def test_a_number_twilio_has_blocked_is_recorded_as_opted_out(channel, database_url):
    channel.providers.blocked_numbers.add(ALEX)
    channel.text(ALEX, "hello")  # sent while Twilio had them blocked (e.g. STOP sent to another of our numbers)
    from bot import db

    with db.session_factory(database_url)() as session:
        assert models.is_opted_out("sms:" + ALEX, session=session)


# --- staff replies (Rasa's output_channel=latest) -------------------------------------------
def test_a_workers_reply_goes_out_through_the_output_channel(channel):
    output = channel.channel.get_output_channel()
    assert isinstance(output, TwilioOutput) and output.name() == "twilio"

    async def reply() -> None:
        await output.send_response("sms:" + ALEX, {"text": "Hello from the helpline"})
        await output.send_response("sms:" + ALEX, {"text": "Can I call you?", "buttons": [
            {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]})

    asyncio.run(reply())
    assert channel.replies(ALEX) == ["Hello from the helpline", "Can I call you?\nReply 1 for Yes or 2 for No."]
    channel.text(ALEX, "1")
    assert channel.rasa.texts == ["/affirm"]


# --- no personal data in the logs -------------------------------------------------------------
def test_no_number_or_text_is_logged(channel, caplog):
    with caplog.at_level(logging.DEBUG):
        channel.text(ALEX, "my secret worry")
        channel.text(ALEX, "my secret worry", sign=False)
        channel.text(ALEX, "STOP")
        channel.text(ALEX, "HELP")
    wait_until(lambda: channel.rasa.received)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("bot.", "twilio")))
    assert ALEX not in logged and ALEX[1:] not in logged
    assert "secret worry" not in logged


# --- no SMS lost: acknowledged at once, answered in the background (issue 12, item 9) ----------
class Gate:
    """Stands in for Rasa: holds each turn until the test opens the gate (or for ever)."""

    def __init__(self, opens: bool = True) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.opens = opens
        self.received: list[Any] = []

    async def __call__(self, message: Any) -> None:
        self.received.append(message)
        self.entered.set()
        if not self.opens:
            await asyncio.Event().wait()  # never: a turn that hangs
        while not self.opened.is_set():
            await asyncio.sleep(0.01)
        await message.output_channel.send_response(message.sender_id, {"text": "the answer"})


@pytest.fixture
def gated(database_url, providers):
    providers.clear()

    def make(opens: bool = True, **config: Any) -> tuple[Sms, Gate]:
        gate = Gate(opens)
        timeout = config.pop("turn_timeout", None)
        url = config.pop("database_url", database_url)
        channel = TwilioInput(make_config(url, providers, **config), turn_timeout=timeout)
        server = ChannelServer(channel, gate).start()
        made.append(server)
        return Sms(server, channel, providers, FakeRasa()), gate

    made: list[ChannelServer] = []
    yield make
    for server in made:
        server.stop()


def post_signed(sms_channel: Sms, sender: str, body: str, message_sid: str) -> tuple[int, str]:
    """Twilio's own request: every field signed with twilio's RequestValidator, not settled."""
    params = inbound_sms(sender, body, message_sid)
    assert RequestValidator(TWILIO_TOKEN).validate(PUBLIC_URL, params, twilio_signature(PUBLIC_URL, params))
    return post_form(sms_channel.server.webhook_url, params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})


def test_the_webhook_acknowledges_before_the_turn_and_the_answer_follows_by_rest(gated):
    channel, gate = gated()
    assert post_signed(channel, ALEX, "hello", "SM" + "d" * 32) == (200, EMPTY_TWIML)
    assert gate.entered.wait(10)
    # Twilio has its 200 while the turn is still running; the task is held on the app.
    assert channel.replies(ALEX) == []
    assert len(channel.channel.tasks) == 1 and channel.server.app.ctx.sms_turns == channel.channel.tasks
    gate.opened.set()
    channel.settle()
    assert channel.replies(ALEX) == ["the answer"]
    assert channel.server.app.ctx.sms_turns == set()


def test_a_turn_that_takes_too_long_ends_in_the_apology_not_silence(gated):
    channel, gate = gated(opens=False, turn_timeout=0.2)
    post_signed(channel, ALEX, "hello", "SM" + "e" * 32)
    channel.settle()
    [apology] = channel.replies(ALEX)
    assert apology == cannot_answer("twilio")
    # It was answered (with the apology): a retry of the same MessageSid gets nothing more.
    post_signed(channel, ALEX, "hello", "SM" + "e" * 32)
    channel.settle()
    assert len(gate.received) == 1 and len(channel.replies(ALEX)) == 1


def test_a_cancelled_turn_ends_in_the_apology(gated):
    channel, gate = gated(opens=False)
    post_signed(channel, ALEX, "hello", "SM" + "f" * 32)
    assert gate.entered.wait(10)
    [task] = list(channel.channel.tasks)
    channel.server._thread.loop.call_soon_threadsafe(task.cancel)  # as at the server's shutdown
    channel.settle()
    assert channel.replies(ALEX) == [cannot_answer("twilio")]


def test_a_database_error_ends_in_the_apology(gated, tmp_path):
    # Our database unreachable: the MessageSid cannot be recorded, nor the menu read.
    channel, gate = gated(database_url=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    post_signed(channel, ALEX, "hello", "SM" + "1" * 32)
    channel.settle()
    assert gate.received == []
    assert channel.replies(ALEX) == [cannot_answer("twilio")]


def test_an_exception_in_the_turn_ends_in_the_apology(database_url, providers):
    providers.clear()

    async def broken(message: Any) -> None:
        raise RuntimeError("a bug")

    channel = TwilioInput(make_config(database_url, providers))
    with ChannelServer(channel, broken) as server:
        sms_channel = Sms(server, channel, providers, FakeRasa())
        post_signed(sms_channel, ALEX, "hello", "SM" + "2" * 32)
        sms_channel.settle()
        assert sms_channel.replies(ALEX) == [cannot_answer("twilio")]


def test_a_message_that_got_no_sms_out_is_answered_when_twilio_retries(gated, database_url, providers):
    # Twilio's API unreachable: neither the answer nor the apology can go.
    channel, gate = gated(api_url=f"http://127.0.0.1:{free_port()}")
    gate.opened.set()
    sid = "SM" + "3" * 32
    post_signed(channel, ALEX, "hello", sid)
    channel.settle()
    assert channel.replies(ALEX) == []
    with db.session_factory(database_url)() as session:  # the MessageSid was given back
        assert models.claim_delivery("twilio", sid, session=session)
        session.rollback()
    # The API is back; Twilio retries the same MessageSid: this time it is answered.
    channel.channel.config = make_config(database_url, providers)
    post_signed(channel, ALEX, "hello", sid)
    channel.settle()
    assert channel.replies(ALEX) == ["the answer"]
    assert [m.message_id for m in gate.received] == [sid, sid]
