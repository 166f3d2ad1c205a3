"""Risk first in a real headless browser (Debian's chromium, driven by Playwright): with the
queue open, an urgent case the assistant makes is announced on the page without a reload and
goes to the top of the list; a case over its target shows the breach; without JavaScript the
page still shows priorities, waiting times and breaches."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bot.referrals import cases, priority
from bot.referrals.models import Case
from tests.support.console import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# What the tracker holds when someone says they might hurt themselves, then asks for a person.
RISK_EVENTS = [
    {"event": "session_started"},
    {"event": "user", "text": "(typed)", "parse_data": {"intent": {"name": "risk_self"}}},
    {"event": "bot", "text": "(the crisis numbers)"},
    {"event": "user", "text": "(typed)", "parse_data": {"intent": {"name": "ask_human"}}},
]


def _log_in(page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def test_an_urgent_case_is_announced_on_the_open_queue_and_goes_first(browser, console, make_user, make_callback, session_for):
    make_user("sam", name="Sam Smith")
    waiting = make_callback()
    overdue = make_callback()
    with session_for() as s, s.begin():
        s.get(Case, overdue).created_at = datetime.utcnow() - timedelta(hours=25, minutes=30)
        overdue_ref, waiting_ref = s.get(Case, overdue).reference, s.get(Case, waiting).reference

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _log_in(page, console.url)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    # A worker busy in the filters: the page does not reload itself, yet still announces.
    page.get_by_label("Kind").focus()

    first_ref = page.locator("#queue-table tbody tr").first.locator("a").inner_text()
    assert first_ref == overdue_ref  # oldest first while all are normal
    overdue_row = page.locator("#queue-table tbody tr", has_text=overdue_ref)
    assert "over target by 1 h 30 min" in overdue_row.inner_text()
    assert "Normal" in overdue_row.inner_text()
    assert page.get_by_role("alert").count() == 0

    # The assistant puts someone at risk in the queue for a live chat.
    level, reason = priority.assess(RISK_EVENTS)
    with session_for() as s, s.begin():
        urgent, _ = cases.open_live(sender_id="tg:999", channel="telegram", request_key="tg:999:m4",
                                    priority=level, priority_reason=reason, session=s)
        urgent_id, urgent_ref = urgent.id, urgent.reference

    alert = page.get_by_role("alert")
    alert.wait_for(timeout=15000)
    assert "New urgent case" in alert.inner_text() and urgent_ref in alert.inner_text() and "risk to self" in alert.inner_text()
    assert alert.get_by_role("link", name=urgent_ref).get_attribute("href") == f"/cases/{urgent_id}"
    assert page.title().startswith("(1 urgent) Queue")
    rows = page.locator("#queue-table tbody tr")
    assert [rows.nth(i).locator("a").first.inner_text() for i in range(rows.count())] == [urgent_ref, overdue_ref, waiting_ref]
    assert "Urgent" in rows.first.inner_text() and "15 min" in rows.first.inner_text()  # its target
    assert navigations == []  # all without a reload
    # Announced once, however many polls follow.
    page.wait_for_timeout(6000)
    assert page.get_by_role("alert").count() == 1 and navigations == []

    # Reloaded, the server puts it first too, says how many urgent cases wait, and the link works.
    page.reload()
    assert page.locator("#queue-table tbody tr").first.locator("a").inner_text() == urgent_ref
    assert "1 urgent case waiting" in page.inner_text("main")
    page.get_by_role("link", name=urgent_ref).first.click()
    page.wait_for_url(re.compile(rf"/cases/{urgent_id}$"))
    assert "Urgent" in page.inner_text("h1") and "risk to self" in page.inner_text("h1")
    assert not [e for e in errors if "Content Security Policy" in e]
    context.close()


def test_without_javascript_the_queue_still_shows_priority_and_breaches(browser, console, make_user, make_callback, session_for):
    make_user("sam")
    urgent = make_callback(priority="urgent", priority_reason="concern")
    with session_for() as s, s.begin():
        s.get(Case, urgent).created_at = datetime.utcnow() - timedelta(minutes=47)
        urgent_ref = s.get(Case, urgent).reference
    make_callback()
    page = browser.new_context(java_script_enabled=False).new_page()
    _log_in(page, console.url)
    first = page.locator("#queue-table tbody tr").first
    assert first.locator("a").inner_text() == urgent_ref
    assert "Urgent" in first.inner_text() and "concern for someone inside" in first.inner_text()
    assert "over target by 32 min" in first.inner_text()
    assert "1 urgent case waiting" in page.inner_text("main")
    assert page.title().startswith("(1 urgent) Queue")
