"""The console in a real headless browser (Debian's chromium, driven by Playwright):
log in through the form, work a callback from the queue to closed, reply in a live chat
(to a fake of Rasa's HTTP API), see typed markup as text, and be sent to the login page
when logged out."""
from __future__ import annotations

import io
import re

import pytest

from bot.cli import main
from bot.referrals.models import Case
from tests.support.console import PASSWORD

XSS = "<script>alert(1)</script>"

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_staff_work_a_callback_and_a_live_chat_in_the_browser(browser, console, fake_rasa, database_url, make_callback, make_live,
                                                             add_events, session_for, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["--database-url", database_url, "staff", "add-user", "sam", "--name", "Sam Smith", "--password-stdin"]) == 0
    callback = make_callback(name="Alex Example", summary="Wants to know about visits")
    hostile = make_callback(name="Robin", summary=XSS)
    live = make_live("live-browser")
    add_events("live-browser", [("user", "I need to talk to someone", "ask_human"), ("pause", "")])
    with session_for() as s:
        ref = s.get(Case, callback).reference

    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # Logging in through the form.
    page.goto(console.url + "/")
    assert page.url.endswith("/login")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Those details did not work.")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")
    assert "Sam Smith (worker)" in page.inner_text("header")

    # The queue shows the callback and the waiting live chat.
    assert page.get_by_role("link", name=ref).is_visible()
    assert "1 live chat waiting" in page.inner_text("main")

    # Work the callback: claim, note, called back, close.
    page.get_by_role("link", name=ref).click()
    page.wait_for_url(re.compile(rf"/cases/{callback}$"))
    assert "Alex Example" in page.inner_text("main")
    page.get_by_role("button", name="Claim").click()
    assert "You have claimed this case." in page.get_by_role("status").inner_text()
    page.get_by_label("Private note (staff only)").fill("Prefers evenings")
    page.get_by_role("button", name="Add note").click()
    assert "Prefers evenings" in page.inner_text(".notes")
    page.get_by_label("Outcome of the call").fill("Explained how to book")
    page.get_by_role("button", name="Mark called back").click()
    assert "Marked as called back." in page.get_by_role("status").inner_text()
    page.get_by_label("Outcome (optional)").fill("Done")
    page.get_by_role("button", name="Close").click()
    assert "Case closed." in page.get_by_role("status").inner_text()
    with session_for() as s:
        case = s.get(Case, callback)
        assert case.status == "closed" and case.outcome == "Done" and case.notes[0].text == "Prefers evenings"

    # Markup someone typed is shown as text, and never runs.
    page.goto(console.url + f"/cases/{hostile}")
    assert XSS in page.inner_text(".details")
    assert page.locator("main script").count() == 0
    assert dialogs == []

    # A live chat: join, reply, see the transcript refresh, hand back.
    page.goto(console.url + f"/cases/{live}")
    assert "I need to talk to someone" in page.inner_text("#transcript")
    page.get_by_role("button", name="Join this chat").click()
    assert "a worker has joined" in page.get_by_role("status").inner_text()
    page.get_by_label("Reply to the person (sent on their channel as you)").fill("Hi, I'm Sam. How can I help?")
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent." in page.get_by_role("status").inner_text()
    path, query, body = fake_rasa.posts[-1]
    assert path == "/conversations/live-browser/tracker/events" and query["output_channel"] == "latest"
    assert body == [{"event": "bot", "text": "Hi, I'm Sam. How can I help?", "metadata": {"staff": "Sam Smith"}}]
    # What Rasa would store for the reply, and a new message from the person: the page picks them up by itself.
    add_events("live-browser", [("user", "My brother is in HMP Durham", "inform")])
    # (The page's CSP forbids eval, so wait with a locator rather than wait_for_function.)
    page.locator("#transcript", has_text="HMP Durham").wait_for(timeout=15000)
    page.get_by_label("What came of it").select_option("helped")
    page.get_by_role("button", name="End chat and hand back to the assistant").click()
    assert "handed back to the assistant" in page.get_by_role("status").inner_text()
    assert fake_rasa.posts[-1][2] == {"name": "utter_handoff_ended"}
    assert dialogs == [] and not [e for e in errors if "Content Security Policy" in e]

    # Logging out, and a browser without a login is sent to the login page.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(console.url + "/login")
    stranger = browser.new_context().new_page()
    stranger.goto(console.url + f"/cases/{callback}")
    assert stranger.url == console.url + "/login"

    # The session ends (idle) while a live chat is open: its transcript refresh takes the whole
    # page to the login form, rather than drawing the form inside the transcript panel.
    from datetime import datetime, timedelta

    from bot.staff.models import StaffSession

    second = make_live("live-browser-2")
    add_events("live-browser-2", [("user", "hello, anyone there?", "greet"), ("pause", "")])
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")
    page.goto(console.url + f"/cases/{second}")
    assert "hello, anyone there?" in page.inner_text("#transcript")
    with session_for() as s, s.begin():
        for stored in s.query(StaffSession):
            stored.expires_at = datetime.utcnow() - timedelta(seconds=1)
    page.wait_for_url(console.url + "/login", timeout=20000)
    assert page.locator("#transcript").count() == 0 and page.get_by_label("Password").is_visible()
    context.close()
