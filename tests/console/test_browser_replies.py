"""Saved replies in a real headless browser (Debian's chromium, driven by Playwright): an admin
adds one on /replies; a worker in a live chat types part of its title, picks it, edits it and
sends it (a fake of Rasa's HTTP API receives the edited words); ending the chat asks what came
of it and stores the answer. Markup in a saved reply is shown as text and never runs."""
from __future__ import annotations

import re

import pytest

from bot.referrals.models import Case
from tests.support.console import PASSWORD

XSS = "<img src=x onerror=alert(1)>"

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _log_in(page, console, username: str) -> None:
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")


def test_a_saved_reply_is_added_found_edited_and_sent_in_a_live_chat(browser, console, fake_rasa, make_user, make_live,
                                                                    add_events, session_for):
    make_user("ada", role="admin", name="Ada Admin")
    make_user("sam", name="Sam Smith")
    live = make_live("live-saved")
    add_events("live-saved", [("user", "how do I book a visit?", "ask_visiting"), ("pause", "")])
    dialogs: list[str] = []
    errors: list[str] = []

    # An admin adds two replies, one with markup in it.
    admin = browser.new_context().new_page()
    admin.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(admin, console, "ada")
    admin.get_by_role("link", name="Saved replies").click()
    admin.wait_for_url(console.url + "/replies")
    admin.get_by_label("Title").fill("Booking a visit")
    admin.get_by_label("Text").fill("Hi, I'm {worker} from the helpline. You can book a visit online or by phone.")
    admin.get_by_label("Tags").fill("Visits, booking")
    admin.get_by_role("button", name="Add reply").click()
    assert "Saved reply added." in admin.get_by_role("status").inner_text()
    assert "Booking a visit" in admin.inner_text("table.replies")
    admin.get_by_label("Title").fill(f"Visit rules {XSS}")
    admin.get_by_label("Text").fill(f"Careful {XSS}")
    admin.get_by_role("button", name="Add reply").click()
    assert XSS in admin.inner_text("table.replies")

    # A worker joins the live chat and finds the reply by typing part of its title.
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _log_in(page, console, "sam")
    page.goto(console.url + f"/cases/{live}")
    page.get_by_role("button", name="Join this chat").click()
    page.wait_for_url(re.compile(rf"/cases/{live}\?done=claimed_live$"))
    search = page.get_by_label("Find a saved reply")
    search.press_sequentially("VIS", delay=30)
    page.locator(".picker-matches button", has_text="Visit rules").wait_for(timeout=10000)
    assert page.locator(".picker-matches button").count() == 2
    assert XSS in page.inner_text(".picker-matches") and page.locator(".picker-matches img").count() == 0
    search.press_sequentially(" book", delay=30)  # words in any order; part of a word is enough
    page.locator(".picker-matches button", has_text="Visit rules").wait_for(state="detached", timeout=10000)
    choice = page.locator(".picker-matches button", has_text="Booking a visit")
    assert choice.count() == 1
    choice.click()
    reply_box = page.get_by_label("Reply to the person (sent on their channel as you)")
    assert reply_box.input_value() == "Hi, I'm Sam Smith from the helpline. You can book a visit online or by phone."
    assert page.locator(".picker-matches").is_hidden()
    assert "is in your reply" in page.inner_text(".picker-status")

    # The worker edits it before sending; the person gets the edited words.
    reply_box.press("End")
    reply_box.press_sequentially(" Which prison is it?", delay=10)
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent." in page.get_by_role("status").inner_text()
    path, query, body = fake_rasa.posts[-1]
    assert path == "/conversations/live-saved/tracker/events" and query["output_channel"] == "latest"
    assert body == [{"event": "bot", "text": "Hi, I'm Sam Smith from the helpline. You can book a visit online or by phone. "
                                             "Which prison is it?", "metadata": {"staff": "Sam Smith"}}]

    # Ending the chat asks what came of it first, then stores it.
    posts = len(fake_rasa.posts)
    page.get_by_role("button", name="End chat and hand back to the assistant").click()
    assert page.locator("#close-outcome-code:invalid").count() == 1  # the browser asks for it
    assert len(fake_rasa.posts) == posts and page.url.endswith("?done=reply")
    page.get_by_label("What came of it").select_option(label="signposted to a service")
    page.get_by_label("Outcome (optional)").fill("Gave the booking line")
    page.get_by_role("button", name="End chat and hand back to the assistant").click()
    assert "handed back to the assistant" in page.get_by_role("status").inner_text()
    assert "signposted to a service: Gave the booking line" in page.inner_text(".details")
    with session_for() as s:
        case = s.get(Case, live)
        assert (case.status, case.outcome_code, case.outcome) == ("closed", "signposted", "Gave the booking line")
    assert dialogs == [] and not [e for e in errors if "Content Security Policy" in e]
    context.close()
