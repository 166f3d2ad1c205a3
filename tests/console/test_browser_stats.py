"""The statistics page in a real headless browser (Debian's chromium, driven by Playwright): the
measures beside the counts, the charts, small numbers as "<5", the channel filter, and the CSV
the page links to downloading "<5" cells too."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest

from bot.insights.models import ConversationSummary, ConversationTopic, SummaryWatermark
from tests.support.console import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _conversations(session_for) -> None:
    """Three weeks of conversations as bot.insights.summary keeps them: 30 by web chat in
    Stockton-on-Tees, 3 by SMS in Hartlepool (a small number), the summaries up to date."""
    weeks = ("2026-11-09", "2026-11-16", "2026-11-23")
    with session_for() as s, s.begin():
        for i in range(33):
            sms = i >= 30
            week = weeks[i % 3]
            start = datetime.fromisoformat(week) + timedelta(hours=10)
            s.add(ConversationSummary(
                sender_id=f"c{i}", channel="twilio" if sms else "webchat", started_at=start, last_at=start, week=week,
                council_code="HPL" if sms else "STT", audience="family", messages=4, questions=2, fallbacks=1 if i % 4 == 0 else 0,
                asked_for_person=i % 3 == 0, contained=i % 3 != 0, form_abandoned=sms, helpful=1 if i % 2 else 0,
                not_understood_topics=json.dumps({"ask_visiting": 1}) if i % 4 == 0 else "{}",
            ))
            s.flush()
            s.add(ConversationTopic(sender_id=f"c{i}", topic="ask_visiting", questions=2))
        s.add(SummaryWatermark(name="events", last_event_id=0, updated_at=datetime.utcnow()))


def test_statistics_show_the_measures_and_small_counts_as_fewer_than_five(browser, console, make_user, session_for, tmp_path):
    make_user("sam", name="Sam Smith")
    _conversations(session_for)
    page = browser.new_context(accept_downloads=True).new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(console.url + "/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")

    page.get_by_role("link", name="Statistics").click()
    page.wait_for_url(console.url + "/stats")
    assert page.inner_text("#total-conversations") == "33"
    assert page.get_by_role("heading", name="How the assistant did").is_visible()
    assert page.inner_text("#measure-containment").split()[-1] == "67%"  # 22 of 33
    assert page.inner_text("#measure-escalation").split()[-1] == "33%"
    assert "<5" in page.inner_text("#measure-abandonment")  # 3 forms left unfinished
    hartlepool = page.locator("#by-council tr", has_text="Hartlepool").inner_text()
    assert "<5" in hartlepool and "3" not in hartlepool.replace("<5", "")
    assert page.locator("#by-council tr", has_text="Stockton-on-Tees").inner_text().split()[1] == "—"  # else 33 - 30
    assert page.get_by_role("img", name="Contained and escalated conversations per week").is_visible()
    assert page.locator("svg circle.point.containment").count() == 3
    page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)

    page.get_by_label("Channel").select_option("twilio")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/stats\?.*channel=twilio"))
    assert page.inner_text("#total-conversations") == "<5"
    assert page.inner_text("#measure-containment").split()[-1] == "—"

    page.get_by_role("link", name="Clear").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    lines = {(r["section"], r["key"]): r for r in rows}
    assert lines[("total", "")]["conversations"] == "33"
    assert lines[("council", "HPL")]["conversations"] == "<5" and lines[("channel", "twilio")]["form_abandoned"] == "<5"
    assert lines[("council", "STT")]["conversations"] == "withheld"
    assert not [e for e in errors if "Content Security Policy" in e]
