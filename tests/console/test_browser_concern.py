"""A concern for someone inside in a real headless browser (Debian's chromium, Playwright): a
concern case made in the database as the assistant makes it shows the prison and its GOV.UK
page; a worker records that they passed it to the prison; the page then says who and when, and
the audit log has it."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from bot.referrals import cases, concern_form, priority
from bot.referrals.consent import CONCERN_CONSENT_VERSION
from bot.referrals.models import Case
from tests.support.console import PASSWORD, audit_rows

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# What the call-back form holds when a concern is confirmed (bot/referrals/concern_form.py).
SLOTS = {concern_form.CONCERN: True, concern_form.PRISON: "DMI", concern_form.NAME: "Jamie Reed",
         concern_form.KIND: "threats_or_bullying", concern_form.LAST_HEARD: "two weeks ago"}
EVENTS = [{"event": "user", "text": "im scared hes being hurt in durham", "parse_data": {"intent": {"name": "risk_prisoner"}}},
          {"event": "user", "text": "yes please", "parse_data": {"intent": {"name": "affirm"}}}]


def concern_case(session_for) -> int:
    """The case action_submit_referral stores for that conversation."""
    level, reason = priority.assess(EVENTS, concern=True)
    request = cases.CallbackRequest(
        sender_id="concern-browser", channel="webchat", request_key="concern-browser:m9", consent_version=CONCERN_CONSENT_VERSION,
        consent_at=datetime.utcnow(), phone="+447512345678", safe_to_call=True, safe_to_leave_message=False, name="Alex",
        best_time="evening", summary="Asked about someone's safety in prison.", topic="risk_prisoner", audience="family",
        priority=level, priority_reason=reason, **concern_form.case_fields(SLOTS),
    )
    with session_for() as s, s.begin():
        return cases.create_callback(request, session=s)[0].id


def test_a_worker_passes_a_concern_to_the_prison_in_the_browser(browser, console, make_user, session_for):
    sam = make_user("sam", role="admin", name="Sam Smith")
    case_id = concern_case(session_for)
    with session_for() as s:
        reference = s.get(Case, case_id).reference

    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")

    # From the queue to the case: the concern, its prison and the prison's GOV.UK page.
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    section = page.locator("#concern")
    assert section.get_by_role("heading", name="Concern for someone inside").is_visible()
    text = section.inner_text()
    for shown in ("HMP Durham", "Jamie Reed", "threats or bullying", "two weeks ago", "not yet"):
        assert shown in text, shown
    link = section.get_by_role("link", name="https://www.gov.uk/guidance/durham-prison")
    assert link.get_attribute("href") == "https://www.gov.uk/guidance/durham-prison"
    assert "noopener" in link.get_attribute("rel").split()

    # Passed to the prison: how, and a short note.
    section.get_by_label("How you passed it on").select_option(label="left a voicemail on the Safer Custody line")
    section.get_by_label(re.compile("^Note")).fill("also rang the switchboard and said it was urgent")
    section.get_by_role("button", name="Passed to the prison").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}\?done=concern_passed"))
    assert "passed to the prison" in page.get_by_role("status").inner_text()
    text = page.locator("#concern").inner_text()
    assert "by Sam Smith" in text and "left a voicemail on the Safer Custody line: also rang the switchboard" in text
    assert page.locator("#concern").get_by_role("button", name="Passed to the prison").count() == 0

    with session_for() as s:
        case = s.get(Case, case_id)
        assert case.concern_passed_by_id == sam and case.concern_passed_at is not None
        assert case.priority == "urgent"
    assert [r for r in audit_rows(session_for) if r[0] == "concern_passed"] == [
        ("concern_passed", sam, case_id, "how: safer_custody_voicemail")]

    # The audit log page shows it too.
    page.goto(console.url + "/audit")
    row = page.locator("tr", has_text="passed a concern to the prison")
    assert row.count() == 1 and "how: safer_custody_voicemail" in row.inner_text()
    assert not [e for e in errors if "Content Security Policy" in e]
