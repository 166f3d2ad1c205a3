"""WhatsApp end to end: the real Rasa and action servers with the trained model, our Twilio
webhook taking `whatsapp:` senders, Twilio's API faked at its HTTP boundary (failing our own
words outside WhatsApp's 24 hours, as WhatsApp does), and the staff console in chromium.

A person on WhatsApp is greeted with numbered options and answers with a digit, sends a photo
(a kind reply; Rasa is not called), and asks for a person. A worker joins and replies within
the window (delivered as written). Then 26 hours pass (the conversation's events are moved back
in the tracker store, not slept through): the console refuses the worker's reply, saying why
and keeping the text, when no approved template is set; a console with one sends the reply to
Rasa, the WhatsApp channel sends the template instead, and the reply reaches the person as soon
as they answer it.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import uuid

import pytest
import yaml
from sqlalchemy import select, text

from bot import db
from bot.cli import main
from bot.endpoints import tracker_store_endpoint
from bot.referrals.models import Case
from bot.servers import BIN, Servers, child_env, free_port, wait_for
from tests.support.channel_fakes import (
    TEMPLATE_SID, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER, FakeProviders, inbound_whatsapp, post_form,
    twilio_signature, wait_until,
)

pytestmark = pytest.mark.e2e

PUBLIC_URL = "https://chat.example.org/webhooks/twilio/webhook"
PASSWORD = "correct horse battery staple 42"
DAY_AND_MORE = 26 * 3600
SAM_SAYS = "Hello, I'm Sam from the helpline. I'm here."
LATER = "Sorry I missed you yesterday. Are you still there?"


@pytest.fixture(scope="module")
def providers():
    with FakeProviders() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(model_path, providers, tmp_path_factory):
    work = tmp_path_factory.mktemp("whatsapp")
    actions_port = free_port()
    tracker_url = f"sqlite:///{work / 'tracker.db'}"
    endpoints = work / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": f"http://localhost:{actions_port}/webhook"},
        "tracker_store": tracker_store_endpoint(tracker_url),
    }))
    twilio = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "number": TWILIO_NUMBER, "webhook_url": PUBLIC_URL,
              "api_url": providers.url, "whatsapp_number": WHATSAPP_NUMBER, "whatsapp_template_sid": TEMPLATE_SID}
    credentials = work / "credentials.yml"
    credentials.write_text(yaml.safe_dump({
        "rest": None, "bot.channels.twilio.TwilioInput": twilio, "bot.channels.whatsapp.WhatsAppInput": twilio,
    }))
    database_url = f"sqlite:///{work / 'families_connect.db'}"
    # The console as deployed without an approved template: it refuses replies after the window.
    with Servers(
        model=model_path, rasa_port=free_port(), actions_port=actions_port, endpoints=endpoints, credentials=credentials,
        log_dir=work / "logs", database_url=database_url, tracker_store_url=tracker_url, console_port=free_port(),
        env={"TWILIO_WHATSAPP_TEMPLATE_SID": ""},
    ) as running:
        running.database_url, running.tracker_url, running.log_path = database_url, tracker_url, work / "logs"
        yield running


@pytest.fixture(scope="module")
def console_with_template(stack):
    """A second console, as deployed with TWILIO_WHATSAPP_TEMPLATE_SID set (Rasa has it too)."""
    port = free_port()
    log = open(stack.log_path / "console-template.log", "ab")
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.log_hygiene", "bot.console", "--port", str(port)],
        env=child_env({**stack.env, "TWILIO_WHATSAPP_TEMPLATE_SID": TEMPLATE_SID}), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://localhost:{port}/login", 120, process)
        yield f"http://localhost:{port}"
    finally:
        process.terminate()
        process.wait(15)
        log.close()


class Phone:
    """The person's side: WhatsApp messages to our Twilio number, and what reaches the phone."""

    def __init__(self, stack: Servers, providers: FakeProviders) -> None:
        self.stack, self.providers = stack, providers
        self.number = "+4477009" + str(uuid.uuid4().int)[:5]
        self.sender = "wa:" + self.number

    def send(self, body: str = "", media: tuple[str, ...] = ()) -> None:
        params = inbound_whatsapp(self.number, body, media=media)
        self.providers.whatsapp_wrote(self.number)  # WhatsApp's window opens as they write
        status, _ = post_form(f"{self.stack.rasa_url}/webhooks/twilio/webhook", params,
                              {"X-Twilio-Signature": twilio_signature(PUBLIC_URL, params)})
        assert status == 200

    def received(self) -> list[dict]:
        return self.providers.whatsapp(self.number)

    def wait_for(self, fragment: str, timeout: float = 40) -> dict:
        """The first message to the phone containing `fragment` (waiting for it)."""
        found = wait_until(lambda: [m for m in self.received() if fragment in (m.get("Body") or "")], timeout=timeout)
        return found[0]

    def user_events(self) -> int:
        with db.engine_for(self.stack.tracker_url).connect() as c:
            return c.execute(text("select count(*) from events where sender_id = :s and type_name = 'user'"),
                             {"s": self.sender}).scalar_one()

    def time_passes(self, seconds: float) -> None:
        """As if the whole conversation had happened `seconds` earlier (Rasa's events and WhatsApp's clock)."""
        with db.engine_for(self.stack.tracker_url).begin() as c:
            rows = c.execute(text("select id, data from events where sender_id = :s"), {"s": self.sender}).all()
            for row_id, data in rows:
                event = json.loads(data)
                event["timestamp"] -= seconds
                c.execute(text("update events set timestamp = :t, data = :d where id = :i"),
                          {"t": event["timestamp"], "d": json.dumps(event), "i": row_id})
        self.providers.whatsapp_wrote(self.number, time.time() - seconds)


def add_worker(stack: Servers, username: str) -> None:
    old, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
    try:
        assert main(["--database-url", stack.database_url, "staff", "add-user", username, "--name", username.title(),
                     "--password-stdin"]) == 0
    finally:
        sys.stdin = old


def log_in(page, console_url: str, username: str) -> None:
    page.goto(console_url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console_url + "/")


def live_case(stack: Servers, sender: str) -> Case | None:
    with db.session_factory(stack.database_url)() as s:
        return s.execute(select(Case).where(Case.sender_id == sender, Case.kind == "live")).scalar_one_or_none()


def test_a_whatsapp_conversation_with_numbered_options_and_a_photo(stack, providers):
    phone = Phone(stack, providers)
    phone.send("hello")
    greeting = phone.wait_for("Reply 1 for Visiting")
    assert (greeting["From"], greeting["To"]) == (WHATSAPP_NUMBER, "whatsapp:" + phone.number)
    phone.send("1")
    phone.wait_for("visitor list")  # utter_visit_booking: "1" was the first option's payload
    before = phone.user_events()
    phone.send(media=("image/jpeg",))
    phone.wait_for("I can only read typed messages")
    phone.send(media=("audio/ogg",))
    wait_until(lambda: len([m for m in phone.received() if "only read typed" in m.get("Body", "")]) == 2, timeout=30)
    assert phone.user_events() == before  # Rasa was never handed an empty message
    assert phone.received() == providers.whatsapp(phone.number, delivered=True)  # nothing WhatsApp would fail
    assert providers.sms(phone.number) == []


def test_a_worker_replies_inside_and_outside_the_24_hour_window(stack, providers, browser, console_with_template):
    add_worker(stack, "sam")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, stack.console_url, "sam")
    page.get_by_role("button", name=re.compile("Start shift")).click()

    phone = Phone(stack, providers)
    phone.send("my partner has just gone to prison")
    wait_until(lambda: phone.received(), timeout=40)
    phone.send("can i chat with a real person")
    phone.wait_for("I've asked a helpline worker to join")
    case = live_case(stack, phone.sender)
    assert case is not None and case.status == "new" and case.channel == "whatsapp"

    # Inside the window: the worker joins and replies; both arrive as written.
    page.goto(f"{stack.console_url}/cases/{case.id}")
    page.get_by_role("button", name="Join this chat").click()
    phone.wait_for("A helpline worker has joined")
    page.get_by_label(re.compile("Reply to the person")).fill(SAM_SAYS)
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent." in page.get_by_role("status").inner_text()
    assert "ContentSid" not in phone.wait_for(SAM_SAYS)
    sent_so_far = len(phone.received())

    # 26 hours later, no approved template: refused on the page, with the reason; nothing lost or sent.
    phone.time_passes(DAY_AND_MORE)
    page.goto(f"{stack.console_url}/cases/{case.id}")
    page.get_by_label(re.compile("Reply to the person")).fill(LATER)
    page.get_by_role("button", name="Send reply").click()
    refusal = page.get_by_role("alert").inner_text()
    assert "WhatsApp only lets us message someone within 24 hours of their last message." in refusal
    assert "Their last message was 26 hours ago." in refusal and "TWILIO_WHATSAPP_TEMPLATE_SID" in refusal
    assert page.get_by_label(re.compile("Reply to the person")).input_value() == LATER
    time.sleep(2)
    assert len(phone.received()) == sent_so_far

    # With an approved template: the reply goes to Rasa, the template goes to the phone instead.
    other = browser.new_page()
    log_in(other, console_with_template, "sam")
    other.goto(f"{console_with_template}/cases/{case.id}")
    other.get_by_label(re.compile("Reply to the person")).fill(LATER)
    other.get_by_role("button", name="Send reply").click()
    notice = other.get_by_role("status").inner_text()
    assert "Their last message was 26 hours ago." in notice and "asking them to reply" in notice
    template = wait_until(lambda: [m for m in phone.received() if m.get("ContentSid")], timeout=30)[0]
    assert template["ContentSid"] == TEMPLATE_SID and "Body" not in template
    assert json.loads(template["ContentVariables"])["1"].startswith("0808")  # the helpline's number
    assert not any(LATER in (m.get("Body") or "") for m in phone.received())

    # They answer the template: the window opens and the worker's reply arrives.
    phone.send("hi, sorry, I'm here now")
    assert "ContentSid" not in phone.wait_for(LATER)
    assert phone.received() == providers.whatsapp(phone.number, delivered=True)  # nothing WhatsApp failed
    assert dialogs == []


def test_no_number_or_message_text_in_the_server_logs(stack):
    logs = "\n".join(path.read_text(errors="replace") for path in stack.log_path.glob("*.log"))
    assert "whatsapp: outside the 24-hour window" in logs and "sent the approved template" in logs  # written
    assert "window could not be read" not in logs  # Rasa's API found the conversation's window
    assert not re.search(r"4477009\d{5}", logs)
    assert "gone to prison" not in logs and SAM_SAYS not in logs and LATER not in logs
