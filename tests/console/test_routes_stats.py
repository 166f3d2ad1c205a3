"""GET /stats and /stats.csv over HTTP on the real console: the counts as before, the measures
beside them, small numbers as "<5" on the page and in the CSV, the channel filter, the audit
trail, and the summaries brought up to date from the tracker store rather than read from every
event on each view."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import event

from bot import db
from bot.insights.models import ConversationSummary, ConversationTopic, SummaryWatermark
from tests.support.console import audit_rows, log_in

WEEK = "2026-11-23"


def summaries(session_for, rows: list[dict]) -> None:
    """Conversation summaries as bot.insights.summary keeps them (watermark fresh, so the page
    does not read the tracker store)."""
    with session_for() as s, s.begin():
        for i, values in enumerate(rows):
            values = dict(values)
            topics = values.pop("topics", {"ask_visiting": 1})
            start = datetime.fromisoformat(values.get("week", WEEK)) + timedelta(hours=9)
            row = dict(sender_id=f"summary-{i}", channel="webchat", started_at=start, last_at=start, week=WEEK,
                       council_code="STT", audience="family", messages=4, questions=sum(topics.values()), contained=True)
            row.update(values)
            s.add(ConversationSummary(**row))
            s.flush()
            for topic, n in topics.items():
                s.add(ConversationTopic(sender_id=row["sender_id"], topic=topic, questions=n))
        if s.get(SummaryWatermark, "events") is None:
            s.add(SummaryWatermark(name="events", last_event_id=0, updated_at=datetime.utcnow()))


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:strong|tr)>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).replace("&lt;", "<").split())


def test_the_page_shows_the_measures_and_small_counts_as_fewer_than_five(console, make_user, make_callback, session_for):
    make_user("ada", role="admin")
    rows = [dict(contained=i < 12, asked_for_person=i >= 12, fallbacks=1 if i < 6 else 0, helpful=1 if i < 8 else 0,
                 not_understood_topics=json.dumps({"ask_visiting": 1}) if i < 6 else "{}") for i in range(20)]
    rows += [dict(council_code="HPL", channel="twilio", contained=False, form_abandoned=True) for _ in range(3)]
    summaries(session_for, rows)
    make_callback(name="Alex Example", phone="+447700900123")
    client = log_in(console, "ada")

    page = client.get(console.url + "/stats")
    assert page.status_code == 200
    html = page.text
    assert text_of(html, "total-conversations") == "23" and text_of(html, "total-questions") == "23"
    assert text_of(html, "total-referrals") == "<5"
    assert "52%" in text_of(html, "measure-containment")  # 12 of 23
    assert "35%" in text_of(html, "measure-escalation")  # 8 of 23
    assert text_of(html, "measure-abandonment").split()[-3:] == ["<5", "conversations", "—"]  # 3: too few for a share
    assert "6" in text_of(html, "measure-fallback") and "92 messages" in text_of(html, "measure-fallback")
    hartlepool = re.search(r"<tr><td>Hartlepool</td>(.*?)</tr>", html, re.S).group(1)
    assert "&lt;5" in hartlepool and re.search(r">\s*3\s*<", hartlepool) is None
    assert "Stockton-on-Tees" in html and 'class="bar conversations' in html
    assert 'id="rates-chart-title"' in html and 'id="time-to-claim"' in html and 'id="not-understood"' in html
    assert ">SMS</option>" in html and ">Web chat</option>" in html
    for personal in ("Alex", "+4477", "summary-"):
        assert personal not in html

    export = client.get(console.url + "/stats.csv")
    assert export.headers["Content-Type"].startswith("text/csv") and "attachment" in export.headers["Content-Disposition"]
    lines = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(export.text))}
    assert lines[("total", "")]["conversations"] == "23" and lines[("total", "")]["referrals"] == "<5"
    assert lines[("council", "HPL")]["conversations"] == "<5" and lines[("council", "HPL")]["containment_pct"] == "withheld"
    assert lines[("council", "STT")]["conversations"] == "withheld"  # else 23 - 20 gives Hartlepool's 3
    assert lines[("channel", "twilio")]["form_abandoned"] == "<5"
    for personal in ("Alex", "+4477", "summary-"):
        assert personal not in export.text
    actions = [(a, d) for a, _, _, d in audit_rows(session_for) if a in ("view_stats", "export_stats")]
    assert actions == [("view_stats", "no filters"), ("export_stats", "no filters")]


def test_filters_include_the_channel_and_are_audited_by_name(console, make_user, session_for):
    make_user("sam")
    summaries(session_for, [dict(channel="webchat") for _ in range(7)] + [dict(channel="twilio", council_code="MAN") for _ in range(6)])
    client = log_in(console)
    twilio = client.get(console.url + "/stats", params={"channel": "twilio"}).text
    assert text_of(twilio, "total-conversations") == "6"
    assert '<option value="twilio" selected>SMS</option>' in twilio
    assert 'href="/stats.csv?channel=twilio"' in twilio
    north_east = client.get(console.url + "/stats", params={"region": "North East", "from": "2026-11-25"}).text
    assert text_of(north_east, "total-conversations") == "7"
    assert 'name="from" value="2026-11-23"' in north_east  # a date means its week
    csv_text = client.get(console.url + "/stats.csv", params={"channel": "twilio"}).text
    assert next(r for r in csv.DictReader(io.StringIO(csv_text)) if r["section"] == "total")["conversations"] == "6"
    actions = [(a, d) for a, _, _, d in audit_rows(session_for) if a in ("view_stats", "export_stats")]
    assert actions == [("view_stats", "filters: channel"), ("view_stats", "filters: from, region"), ("export_stats", "filters: channel")]


def test_views_read_summaries_not_every_event(console, make_user, add_events, session_for, tracker_url):
    make_user("sam")
    for n in range(6):
        add_events(f"convo-{n}", [("slot", "area", "Stockton-on-Tees"), ("user", "how do I visit", "ask_visiting"),
                                  ("user", "what can I bring", "ask_visiting")])
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if re.search(r"\bFROM events\b", statement):
            statements.append(statement)

    engine = db.engine_for(tracker_url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        client = log_in(console)
        first = client.get(console.url + "/stats").text
        assert text_of(first, "total-conversations") == "6" and text_of(first, "total-questions") == "12"
        assert statements and all("events.id >" in s for s in statements)  # only events after the watermark
        statements.clear()
        again = client.get(console.url + "/stats").text
        assert text_of(again, "total-conversations") == "6"
        assert statements == []  # brought up to date under a minute ago: no event is read at all
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with session_for() as s:
        assert s.get(SummaryWatermark, "events").last_event_id > 0


def test_counts_from_the_tracker_store_and_cases_with_no_personal_data(console, make_user, make_callback, add_events, session_for):
    # Moved here from tests/console/test_cases.py and scaled up from 2 to 5 or more of each, so that
    # the counts are shown rather than "<5".
    make_user("ada", role="admin")
    for n in range(6):
        make_callback(name="Alex Example", phone="+447700900123", council_code="STT", topic="ask_visiting", audience="family",
                      sender_id=f"callback-{n}")
        add_events(f"convo-{n}", [("user", "how do I visit my son", "ask_visiting"), ("slot", "audience", "family"),
                                  ("slot", "area", "Stockton-on-Tees"), ("user", "what can I bring", "ask_visiting")])
    for n in range(5):
        add_events(f"hello-{n}", [("user", "hello", "greet")])
    client = log_in(console, "ada")

    page = client.get(console.url + "/stats").text
    assert (text_of(page, "total-conversations"), text_of(page, "total-questions"), text_of(page, "total-referrals")) == ("11", "12", "6")
    assert "Stockton-on-Tees" in page and "North East" in page and "visiting" in page
    for personal in ("Alex", "+4477", "how do I visit", "what can I bring", "convo-", "callback-"):
        assert personal not in page
    north_east = client.get(console.url + "/stats", params={"region": "North East"}).text
    assert (text_of(north_east, "total-conversations"), text_of(north_east, "total-referrals")) == ("6", "6")
    topic = client.get(console.url + "/stats", params={"topic": "ask_visiting"}).text
    assert (text_of(topic, "total-conversations"), text_of(topic, "total-questions"), text_of(topic, "total-referrals")) == ("6", "12", "6")

    export = client.get(console.url + "/stats.csv").text
    lines = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(export))}
    assert (lines[("total", "")]["conversations"], lines[("total", "")]["referrals"]) == ("11", "6")
    assert lines[("council", "STT")]["label"] == "Stockton-on-Tees"
    assert (lines[("topic", "ask_visiting")]["questions"], lines[("topic", "ask_visiting")]["referrals"]) == ("12", "6")
    for personal in ("Alex", "+4477", "how do I visit", "convo-", "callback-"):
        assert personal not in export
    actions = [(a, d) for a, _, _, d in audit_rows(session_for) if a in ("view_stats", "export_stats")]
    assert actions == [("view_stats", "no filters"), ("view_stats", "filters: region"), ("view_stats", "filters: topic"), ("export_stats", "no filters")]
