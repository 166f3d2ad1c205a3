"""Risk first on the console's queue, over HTTP: priority badges with the reason in words, the
most urgent first, waiting and response times against each priority's target with breaches,
the summary per priority, and GET /queue/updates.json (staff only; no personal data)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import requests

from bot.referrals import cases
from bot.referrals.models import Case
from tests.support.console import log_in

SECRETS = ("Alex Example", "+447700900123", "07700", "Worried", "Stockton", "after 6pm", "sender-", "tg:")


def _ref(session_for, case_id: int) -> str:
    with session_for() as s:
        return s.get(Case, case_id).reference


def _age(session_for, case_id: int, **ago) -> None:
    with session_for() as s, s.begin():
        s.get(Case, case_id).created_at = datetime.utcnow() - timedelta(**ago)


def _rows(html: str) -> list[tuple[str, str]]:
    """(class, whole row) of each case in the queue table, in order."""
    table = html.split('id="queue-table"', 1)[1]
    return re.findall(r'<tr class="([^"]*)">(.*?)</tr>', table, re.S)


def test_the_queue_shows_priority_badges_most_urgent_first_with_targets_and_breaches(console, make_user, make_callback, make_live,
                                                                                     session_for):
    make_user("sam")
    old_normal = make_callback()
    distress = make_callback(priority="high", priority_reason="express_distress")
    concern = make_callback(priority="urgent", priority_reason="concern")
    inside = make_live("tg:300", priority="urgent", priority_reason="risk_prisoner")
    _age(session_for, old_normal, hours=26, minutes=12)
    _age(session_for, distress, minutes=20)
    _age(session_for, concern, minutes=3)
    _age(session_for, inside, minutes=40)
    client = log_in(console)
    html = client.get(console.url + "/").text

    rows = _rows(html)
    refs = [re.search(r">(FC-[0-9A-Z]{6})</a>", row).group(1) for _, row in rows]
    assert refs == [_ref(session_for, i) for i in (inside, concern, distress, old_normal)]
    (inside_class, inside_row), (_, concern_row), (distress_class, distress_row), (normal_class, normal_row) = rows
    assert "urgent" in inside_class.split() and "high" in distress_class.split()
    assert not {"urgent", "high"} & set(normal_class.split())
    assert '<strong class="badge urgent">Urgent</strong> <span class="reason">someone inside at risk</span>' in inside_row
    assert "concern for someone inside" in concern_row
    assert '<strong class="badge high">High</strong> <span class="reason">distress</span>' in distress_row
    assert '<span class="badge normal">Normal</span>' in normal_row
    # Waiting time, the target and a visible breach (urgent: 15 min; normal: a day).
    assert "40 min" in inside_row and "15 min" in inside_row and "over target by 25 min" in inside_row
    assert "not yet" in concern_row and "over target" not in concern_row
    assert "20 min" in distress_row and "1 h" in distress_row and "over target" not in distress_row
    assert "24 h" in normal_row and "over target by 2 h 12 min" in normal_row
    # The summary per priority, the urgent ones waiting, and the count in the title.
    summary = html.split('class="priorities"', 1)[1].split("</table>", 1)[0]
    urgent_row = re.search(r'<tr class="priority-urgent">(.*?)</tr>', summary, re.S).group(1)
    assert re.findall(r'<td class="num">(?:<strong class="breach">)?([^<]*)', urgent_row) == ["15 min", "2", "40 min", "1", "0", "0"]
    assert "2 urgent cases waiting" in html and "<title>(2 urgent) Queue" in html
    for secret in ("Alex Example", "+447700900123", "Worried about visiting"):
        assert secret not in html


def test_a_claimed_case_shows_its_time_to_first_response_and_whether_it_was_late(console, make_user, make_callback, session_for):
    sam = make_user("sam")
    quick, slow = make_callback(priority="urgent", priority_reason="risk_self"), make_callback(priority="urgent", priority_reason="risk_child")
    with session_for() as s, s.begin():
        for case_id, after in ((quick, 4), (slow, 50)):
            cases.claim(case_id, sam, session=s)
            case = s.get(Case, case_id)
            case.created_at = datetime.utcnow() - timedelta(hours=2)
            case.first_response_at = case.created_at + timedelta(minutes=after)
    client = log_in(console)
    html = client.get(console.url + "/").text
    rows = {re.search(r">(FC-[0-9A-Z]{6})</a>", row).group(1): row for _, row in _rows(html)}
    assert "after 4 min" in rows[_ref(session_for, quick)] and "over target" not in rows[_ref(session_for, quick)]
    assert "after 50 min" in rows[_ref(session_for, slow)] and "over target by 35 min" in rows[_ref(session_for, slow)]
    assert "urgent cases waiting" not in html and "<title>Queue" in html  # both have been answered


def test_the_filters_still_work_with_priorities(console, make_user, make_callback, make_live, session_for):
    make_user("sam")
    normal = make_callback()
    urgent_live = make_live("tg:1", priority="urgent", priority_reason="risk_self")
    high = make_callback(priority="high", priority_reason="express_distress")
    client = log_in(console)

    def shown(query: str) -> list[str]:
        return re.findall(r">(FC-[0-9A-Z]{6})</a>", client.get(console.url + "/?" + query).text.split('id="queue-table"', 1)[1])

    assert shown("") == [_ref(session_for, i) for i in (urgent_live, high, normal)]
    assert shown("kind=callback") == [_ref(session_for, i) for i in (high, normal)]
    assert shown("kind=live&who=unassigned") == [_ref(session_for, urgent_live)]
    assert shown("status=closed") == [] and "No cases match." in client.get(console.url + "/?status=closed").text


def test_the_case_page_shows_the_priority_badge(console, make_user, make_callback, make_live, session_for):
    make_user("sam")
    urgent = make_callback(priority="urgent", priority_reason="risk_domestic_abuse")
    normal = make_live("tg:9")
    client = log_in(console)
    page = client.get(console.url + f"/cases/{urgent}").text
    header = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert '<strong class="badge urgent">Urgent</strong>' in header and "domestic abuse" in header
    assert '<span class="badge normal">Normal</span>' in client.get(console.url + f"/cases/{normal}").text.split("</h1>", 1)[0]


def test_the_updates_feed_gives_urgent_cases_waiting_and_nothing_personal(console, make_user, make_callback, make_live, session_for):
    sam = make_user("sam")
    make_callback()  # normal: never announced
    make_callback(priority="high", priority_reason="express_distress")
    urgent = make_callback(priority="urgent", priority_reason="risk_self", name="Alex Example", summary="Worried about visiting")
    claimed = make_live("tg:55", priority="urgent", priority_reason="risk_prisoner")
    with session_for() as s, s.begin():
        cases.claim(claimed, sam, session=s)  # a worker has it: nothing to announce
    client = log_in(console)

    reply = client.get(console.url + "/queue/updates.json")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["Cache-Control"] == "no-store"
    data = reply.json()
    assert set(data) == {"cursor", "urgent_waiting", "cases"} and data["urgent_waiting"] == 1
    [item] = data["cases"]
    assert set(item) == {"id", "reference", "priority", "reason", "reason_words", "kind", "created"}
    assert (item["id"], item["reference"], item["priority"], item["reason"], item["reason_words"], item["kind"]) == (
        urgent, _ref(session_for, urgent), "urgent", "risk_self", "risk to self", "callback")
    for secret in SECRETS:
        assert secret not in reply.text, secret

    # Since the cursor: nothing new is repeated... (the cursor overlaps by two minutes, so move past it)
    later = (datetime.utcnow() + timedelta(seconds=1)).isoformat()
    assert client.get(console.url + "/queue/updates.json", params={"since": later}).json()["cases"] == []
    # ...and a crisis that raises a waiting chat to urgent is announced.
    raised = make_live("tg:77")
    before = datetime.utcnow().isoformat()
    with session_for() as s, s.begin():
        cases.mark_urgent("tg:77", session=s)
    data = client.get(console.url + "/queue/updates.json", params={"since": before}).json()
    assert [c["id"] for c in data["cases"]] == [raised] and data["cases"][0]["reason_words"] == "crisis while waiting"
    assert data["urgent_waiting"] == 2

    bad = client.get(console.url + "/queue/updates.json", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since must be a time" in bad.json()["error"]


def test_the_updates_feed_is_for_staff_only(console, make_user, make_callback):
    make_user("sam")
    make_callback(priority="urgent", priority_reason="risk_self")
    stranger = requests.get(console.url + "/queue/updates.json", allow_redirects=False)
    assert stranger.status_code == 401 and "FC-" not in stranger.text
    client = log_in(console)
    assert client.get(console.url + "/queue/updates.json").status_code == 200
    client.post(console.url + "/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get(console.url + "/").text).group(1)})
    assert client.get(console.url + "/queue/updates.json", allow_redirects=False).status_code == 401
