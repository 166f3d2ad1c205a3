"""Live handoff end to end: the real Rasa and action servers with the trained model, the
web chat channel, and the staff console in Debian's chromium.

A person on the web chat asks for a person while a worker is on shift; the bot goes
quiet; the worker joins, replies (delivered to the page through Rasa's HTTP API and the
web chat's outbox), sees what the person typed as text, and hands back; the bot answers
again. Out of hours the person is offered a call back instead.
"""
from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import time
import urllib.request
from datetime import datetime, timedelta

import pytest
import yaml

from bot import db, handoff, retention
from bot.cli import main
from bot.endpoints import tracker_store_endpoint
from bot.staff.models import StaffUser
from bot.referrals.models import Case
from bot.servers import Servers, free_port
from bot.settings import Settings
from sqlalchemy import select, text, update

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"
XSS = "<script>alert('x')</script> is anyone there"


@pytest.fixture(scope="module")
def stack(model_path, tmp_path_factory):
    work = tmp_path_factory.mktemp("handoff")
    actions_port = free_port()
    tracker_db = work / "tracker.db"
    endpoints = work / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": f"http://localhost:{actions_port}/webhook"},
        "tracker_store": tracker_store_endpoint(f"sqlite:///{tracker_db}"),
    }))
    database_url = f"sqlite:///{work / 'families_connect.db'}"
    webchat_port = free_port()  # the page's origin is the one Rasa answers cross-origin (CORS_ORIGINS)
    with Servers(
        model=model_path, rasa_port=free_port(), actions_port=actions_port, endpoints=endpoints, log_dir=work / "logs",
        database_url=database_url, tracker_store_url=f"sqlite:///{tracker_db}", console_port=free_port(),
        env={"CORS_ORIGINS": f"http://localhost:{webchat_port}"},
    ) as running:
        running.database_url = database_url
        running.webchat_port = webchat_port
        running.tracker_store_url = f"sqlite:///{tracker_db}"
        yield running


def new_webchat_id(rasa_url: str) -> str:
    """A conversation id issued by the web chat, as the page gets one."""
    request = urllib.request.Request(f"{rasa_url}/webhooks/webchat/session", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())["sender"]


class WebChat:
    """The person's side: what the web chat page does (send, and poll for a worker's replies)."""

    def __init__(self, stack: Servers) -> None:
        self.stack = stack
        self.sender = new_webchat_id(stack.rasa_url)

    def say(self, text: str) -> list[str]:
        return [r.get("text", "") for r in self.stack.say(self.sender, text, channel="webchat")]

    def poll(self) -> list[str]:
        url = f"{self.stack.rasa_url}/webhooks/webchat/poll"
        request = urllib.request.Request(
            url, data=json.dumps({"sender": self.sender}).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return [m["text"] for m in json.loads(reply.read())]

    def wait_for(self, fragment: str, timeout: float = 15) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen += self.poll()
            if any(fragment in text for text in seen):
                return seen
            time.sleep(0.3)
        raise AssertionError(f"{fragment!r} never arrived; got {seen}")


def add_worker(stack: Servers, username: str) -> None:
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(PASSWORD + "\n")
    try:
        assert main(["--database-url", stack.database_url, "staff", "add-user", username, "--name", username.title(),
                     "--password-stdin"]) == 0
    finally:
        sys.stdin = old


def log_in(page, stack: Servers, username: str) -> None:
    page.goto(stack.console_url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(stack.console_url + "/")


def live_case(stack: Servers, sender: str) -> Case | None:
    with db.session_factory(stack.database_url)() as s:
        return s.execute(select(Case).where(Case.sender_id == sender, Case.kind == "live")).scalar_one_or_none()


def test_out_of_hours_a_person_is_offered_a_call_back(stack):
    person = WebChat(stack)
    replies = " ".join(person.say("can i talk to a real person please"))
    assert "call" in replies.lower()
    assert live_case(stack, person.sender) is None


def test_a_worker_takes_a_web_chat_and_hands_it_back(stack, browser):
    add_worker(stack, "sam")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, stack, "sam")
    page.get_by_role("button", name=re.compile("Start shift")).click()

    person = WebChat(stack)
    person.say("hi my partner is in prison")
    person.say("/ask_live_chat")
    case = live_case(stack, person.sender)
    assert case is not None and case.status == "new" and case.channel == "webchat"
    # Paused: the assistant records what the person says but does not answer.
    assert person.say(XSS) == []

    page.goto(stack.console_url + "/")
    page.get_by_role("link", name=case.reference).click()
    page.locator("#transcript", has_text="is anyone there").wait_for(timeout=15000)
    assert XSS in page.inner_text("#transcript")
    page.get_by_role("button", name="Join this chat").click()
    person.wait_for("A helpline worker has joined")

    page.get_by_label(re.compile("Reply to the person")).fill("Hello, I'm Sam from the helpline. I'm here.")
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent." in page.get_by_role("status").inner_text()
    person.wait_for("I'm Sam from the helpline")

    person.say("thank you, can they visit on sundays")
    page.locator("#transcript", has_text="visit on sundays").wait_for(timeout=15000)

    page.get_by_label("What came of it").select_option("helped")
    page.get_by_role("button", name="End chat and hand back to the assistant").click()
    person.wait_for("back with the Families Connect assistant")
    assert live_case(stack, person.sender).status == "closed"
    assert live_case(stack, person.sender).outcome_code == "helped"
    # The assistant answers again.
    assert person.say("how do i book a visit")
    assert dialogs == []


def test_the_web_chat_page_in_a_browser(stack, browser):
    """The page `make run` serves: ask, get an answer, press a button, and a worker's reply shows up."""
    from bot.run import serve_webchat

    port = stack.webchat_port
    server = serve_webchat(port, stack.rasa_url)
    try:
        page = browser.new_page()
        page.goto(f"http://localhost:{port}/")

        def ask(text: str) -> None:
            before = page.locator(".msg.bot").count()
            page.fill("#text", text)
            page.press("#text", "Enter")
            page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}", timeout=20000)

        ask("how do i tell my son his dad is in prison")
        assert "How old" in page.locator(".msg.bot").last.inner_text()
        before = page.locator(".msg.bot").count()
        page.get_by_role("button", name="5 to 11").click()
        page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}", timeout=20000)
        assert "5 to 11" in page.locator(".msg.you").last.inner_text()

        # A worker's message for this conversation arrives by polling, shown as text.
        sender = page.evaluate("sessionStorage.getItem('fc-sender')")
        assert re.fullmatch(r"wc:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}", sender)
        with db.session_factory(stack.database_url)() as s, s.begin():
            from bot.referrals import cases

            cases.queue_outbox(sender, "<b>Hello</b> from the helpline", session=s)
        page.locator(".msg.worker", has_text="<b>Hello</b> from the helpline").wait_for(timeout=10000)
    finally:
        server.shutdown()


# --- nobody waiting for a person is left in silence (bot.handoff.sweep) ---------------------

OFFER = "no helpline worker has been able to join yet"


def settings_for(stack: Servers) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=stack.database_url, rasa_url=stack.rasa_url,
                               tracker_store_url=stack.tracker_store_url, lock_store_url=None)


def shift(stack: Servers, until: datetime | None) -> None:
    """Every worker on shift until `until` (None: nobody on shift)."""
    with db.session_factory(stack.database_url)() as s, s.begin():
        if s.execute(select(StaffUser.id).limit(1)).first() is None:
            s.add(StaffUser(username="kim", display_name="Kim", password_hash="not a login"))
            s.flush()
        s.execute(update(StaffUser).values(on_shift_until=until))


def waiting_for_a_worker(stack: Servers) -> tuple[WebChat, Case]:
    person = WebChat(stack)
    person.say("hi my partner is in prison")
    person.say("/ask_live_chat")
    case = live_case(stack, person.sender)
    assert case is not None and case.status == "new"
    assert person.say("hello? is anyone there") == []  # paused: nobody answers
    return person, case


def test_an_unclaimed_live_chat_is_handed_back_with_the_offer_of_a_call_back(stack):
    shift(stack, datetime.utcnow() + timedelta(hours=4))
    person, case = waiting_for_a_worker(stack)
    settings = settings_for(stack)
    asyncio.run(handoff.sweep(settings))  # within the wait: it stays in the queue
    assert live_case(stack, person.sender).status == "new"

    asyncio.run(handoff.sweep(settings, now=datetime.utcnow() + timedelta(minutes=settings.live_chat_wait_minutes + 1)))
    person.wait_for(OFFER)  # delivered on the person's own channel (the web chat's poll)
    closed = live_case(stack, person.sender)
    assert closed.status == "closed" and closed.outcome == handoff.TIMED_OUT_OUTCOME
    # The assistant is back, and a plain "yes" starts the call-back form at its consent question.
    replies = person.say("yes")
    assert replies and "To arrange a call" in replies[0]
    shift(stack, None)


def test_when_the_last_shift_ends_a_waiting_chat_is_handed_back_at_once(stack):
    shift(stack, datetime.utcnow() + timedelta(hours=4))
    person, case = waiting_for_a_worker(stack)
    shift(stack, None)  # the last worker ends their shift
    assert asyncio.run(handoff.sweep(settings_for(stack))) >= 1
    person.wait_for(OFFER)
    assert live_case(stack, person.sender).status == "closed"
    assert person.say("how do i book a visit")  # the assistant answers again


def test_a_crisis_message_while_waiting_gets_the_crisis_numbers_at_once_and_the_case_goes_urgent(stack):
    shift(stack, datetime.utcnow() + timedelta(hours=4))
    person, case = waiting_for_a_worker(stack)
    assert not live_case(stack, person.sender).urgent
    replies = " ".join(person.say("i dont want to be alive anymore"))
    assert "116 123" in replies and "999" in replies  # Samaritans and emergency, from the bot's own reply
    marked = live_case(stack, person.sender)
    assert marked.urgent and marked.urgent_at is not None and marked.status == "new"
    assert person.say("are you still there") == []  # still paused: the worker has it
    shift(stack, None)
    asyncio.run(handoff.sweep(settings_for(stack)))  # leave no chat waiting for the next test


# --- an unsent call-back form leaves nothing of what was typed -----------------------------

def test_a_call_back_form_stopped_at_the_check_leaves_no_name_or_number_in_the_conversation(stack):
    person = WebChat(stack)
    person.say("how do i book a visit")
    steps = [
        ("pls call me back", "To arrange a call"),
        ("yes thats ok", None),
        ("Jo Bloggs", None),
        ("0751 234 5678", None),  # the number as typed
        ("yes", None),
        ("no", None),
        ("evening", None),
        ("Stockton", None),
        ("no thanks", "Jo Bloggs"),  # the check reads the details back
    ]
    for message, expected in steps:
        replies = " ".join(person.say(message))
        assert replies, message
        if expected:
            assert expected in replies
    assert "nothing has been saved" in " ".join(person.say("no")).lower()

    tracker = db.engine_for(stack.tracker_store_url)

    def stored() -> str:
        with tracker.connect() as c:
            return "\n".join(c.execute(text("select data from events where sender_id = :s"), {"s": person.sender}).scalars())

    assert "Jo Bloggs" in stored()  # Rasa has the turn saved as typed ...
    purged = retention.run_once(settings_for(stack), settle_seconds=0)
    assert purged.redactions == 1
    kept = stored()  # ... and after the retention job, nothing of it
    for typed in ("Jo Bloggs", "Bloggs", "0751 234 5678", "07512 345678", "+447512345678", "7512345678"):
        assert typed not in kept, typed
    assert "how do i book a visit" in kept
    # The conversation carries on as usual.
    assert person.say("how do i book a visit")
