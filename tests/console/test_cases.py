"""Working cases through the console over HTTP: the queue and its filters, claim, note,
called back, close, live replies through (a fake of) Rasa's HTTP API, the audit trail,
statistics without personal data, and escaping of everything people typed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.referrals.models import Case
from tests.support.console import audit_rows, log_in, post

XSS = "<script>alert(1)</script>"


def _case(session_for, case_id: int) -> Case:
    with session_for() as s:
        return s.get(Case, case_id)


def _references(html: str) -> list[str]:
    return re.findall(r">(FC-[0-9A-Z]{6})</a>", html)


def test_a_callback_from_queue_to_closed_with_every_step_audited(console, make_user, make_callback, make_live, session_for, add_events):
    sam = make_user("sam", name="Sam Smith")
    first = make_callback(name="Alex Example", summary="Worried about visiting")
    make_live("live-1")
    ref = _case(session_for, first).reference
    add_events("sender-callback-1", [("user", "how do I book a visit", "ask_visiting"), ("bot", "You can book online.")])
    client = log_in(console)

    queue = client.get(console.url + "/")
    assert ref in queue.text and "1 live chat waiting" in queue.text and 'class="live new waiting"' in queue.text

    page = client.get(console.url + f"/cases/{first}")
    assert page.headers["Cache-Control"] == "no-store"
    for shown in ("Alex Example", "+447700900123", "after 6pm", "Worried about visiting", "wording v1", "how do I book a visit", "You can book online."):
        assert shown in page.text, shown

    assert post(client, console, f"/cases/{first}/claim").url.endswith("?done=claimed")
    assert _case(session_for, first).status == "claimed" and _case(session_for, first).claimed_by_id == sam
    assert "You have claimed this case." in client.get(console.url + f"/cases/{first}?done=claimed").text

    post(client, console, f"/cases/{first}/note", {"text": "Left no voicemail as asked"})
    post(client, console, f"/cases/{first}/called-back", {"outcome": "Talked through booking"})
    assert _case(session_for, first).status == "called_back"
    closed = post(client, console, f"/cases/{first}/close", {"outcome": "Booked a visit"})
    assert "Case closed." in closed.text and "Left no voicemail as asked" in closed.text and "Sam Smith" in closed.text
    case = _case(session_for, first)
    assert case.status == "closed" and case.outcome == "Booked a visit" and case.closed_at

    assert post(client, console, f"/cases/{first}/close").status_code == 409  # already closed: said clearly

    rows = [(a, u, c, d) for a, u, c, d in audit_rows(session_for) if c == first]
    assert [(a, d) for a, _, _, d in rows if a != "view_case"] == [
        ("claim", "status new→claimed"),
        ("note", "note added"),
        ("called_back", "status claimed→called_back"),
        ("close", "status called_back→closed"),
    ]
    assert all(u == sam for _, u, _, _ in rows) and any(a == "view_case" for a, *_ in rows)
    everything = " ".join(str(r) for r in audit_rows(session_for))
    for secret in ("+447700900123", "Alex", "voicemail", "Booked", "Talked", "visit"):
        assert secret not in everything, secret


def test_queue_filters_mine_unassigned_status_and_kind(console, make_user, make_callback, make_live, session_for):
    from bot.referrals import cases

    sam, jo = make_user("sam"), make_user("jo")
    old = make_callback()
    mine, theirs, done = make_callback(), make_callback(), make_callback()
    live = make_live("live-9")
    with session_for() as s, s.begin():
        s.get(Case, old).created_at = datetime.utcnow() - timedelta(days=2)
        cases.claim(mine, sam, session=s)
        cases.claim(theirs, jo, session=s)
        cases.close(done, sam, "done", session=s)
    ref = {i: _case(session_for, i).reference for i in (old, mine, theirs, done, live)}
    client = log_in(console)

    def shown(query: str) -> list[str]:
        return _references(client.get(console.url + "/?" + query).text)

    assert shown("") == [ref[old], ref[mine], ref[theirs], ref[live]]  # open cases, oldest first
    assert shown("who=mine") == [ref[mine]]
    assert shown("who=unassigned") == [ref[old], ref[live]]
    assert shown("status=closed") == [ref[done]]
    assert shown("kind=live") == [ref[live]]
    assert shown("kind=callback&who=unassigned") == [ref[old]]
    counts = client.get(console.url + "/").text
    assert "new: <strong>2</strong>" in counts and "claimed: <strong>2</strong>" in counts and "closed: <strong>1</strong>" in counts


def test_someone_elses_claim_is_refused(console, make_user, make_callback, session_for):
    from bot.referrals import cases

    make_user("sam")
    jo = make_user("jo")
    case_id = make_callback()
    with session_for() as s, s.begin():
        cases.claim(case_id, jo, session=s)
    client = log_in(console)
    refused = post(client, console, f"/cases/{case_id}/claim")
    assert refused.status_code == 409 and "already claimed by someone else" in refused.text
    assert _case(session_for, case_id).claimed_by_id == jo


def test_live_chat_claim_reply_and_hand_back_go_through_rasa(console, fake_rasa, make_user, make_live, session_for, add_events):
    make_user("sam", name="Sam Smith")
    case_id = make_live("live-42")
    add_events("live-42", [("user", "can I talk to a person", "ask_human"), ("pause", "")])
    client = log_in(console)

    joined = post(client, console, f"/cases/{case_id}/claim")
    assert "the person has been told a worker has joined" in joined.text
    path, query, body = fake_rasa.posts[-1]
    assert path == "/conversations/live-42/execute" and body == {"name": "utter_handoff_worker_joined"}
    assert query["output_channel"] == "latest" and "token" not in query  # the JWT went in a header

    sent = post(client, console, f"/cases/{case_id}/reply", {"text": "Hello, I'm Sam from the helpline."})
    assert "Reply sent." in sent.text
    path, query, body = fake_rasa.posts[-1]
    assert path == "/conversations/live-42/tracker/events" and query["output_channel"] == "latest"
    assert body == [{"event": "bot", "text": "Hello, I'm Sam from the helpline.", "metadata": {"staff": "Sam Smith"}}]

    closed = post(client, console, f"/cases/{case_id}/close", {"outcome_code": "helped"})
    assert "handed back to the assistant" in closed.text and _case(session_for, case_id).status == "closed"
    assert [p for p, _, _ in fake_rasa.posts[-2:]] == ["/conversations/live-42/tracker/events", "/conversations/live-42/execute"]
    assert fake_rasa.posts[-2][2] == [{"event": "resume"}] and fake_rasa.posts[-1][2] == {"name": "utter_handoff_ended"}

    details = [d for a, _, c, d in audit_rows(session_for) if c == case_id and a != "view_case"]
    assert details == ["status new→claimed", "reply sent", "status claimed→closed; handed back"]
    assert not any("Hello" in d for d in details)


def test_when_rasa_is_down_the_worker_is_told_and_the_case_stays_consistent(console, fake_rasa, make_user, make_live, session_for):
    make_user("sam")
    case_id = make_live("live-7")
    client = log_in(console)
    fake_rasa.fail = True

    claimed = post(client, console, f"/cases/{case_id}/claim")
    assert "could not be reached to tell the person" in claimed.text and _case(session_for, case_id).status == "claimed"

    reply = post(client, console, f"/cases/{case_id}/reply", {"text": "Are you still there?"})
    assert reply.status_code == 502 and "your reply was not sent" in reply.text
    assert "Are you still there?</textarea>" in reply.text  # the draft is kept

    kept_open = post(client, console, f"/cases/{case_id}/close", {"outcome_code": "no_reply"})
    assert kept_open.status_code == 502 and "the case is still open" in kept_open.text
    assert _case(session_for, case_id).status == "claimed"

    forced = post(client, console, f"/cases/{case_id}/close", {"force": "yes", "outcome_code": "no_reply"})
    assert "could not be reached to hand it back" in forced.text and _case(session_for, case_id).status == "closed"
    details = [d for a, _, c, d in audit_rows(session_for) if c == case_id and a != "view_case"]
    assert details == [
        "status new→claimed", "worker-joined message not sent: assistant unreachable", "reply not sent: assistant unreachable",
        "not closed: hand back failed, assistant unreachable", "status claimed→closed; closed anyway: hand back failed",
    ]
    assert fake_rasa.posts == []


def test_replies_need_a_claimed_live_chat(console, make_user, make_live, make_callback):
    make_user("sam")
    live, callback = make_live("live-3"), make_callback()
    client = log_in(console)
    assert "Claim this chat before replying." in post(client, console, f"/cases/{live}/reply", {"text": "hi"}).text
    assert "only for live chats" in post(client, console, f"/cases/{callback}/reply", {"text": "hi"}).text


def test_transcript_missing_and_transcript_refresh(console, make_user, make_callback, make_live, add_events, session_for):
    make_user("sam")
    case_id = make_callback(sender_id="nobody-said-anything")
    client = log_in(console)
    assert "No conversation is stored for this case." in client.get(console.url + f"/cases/{case_id}").text

    live = make_live("live-5")
    add_events("live-5", [("user", "first message", None)])
    assert 'data-refresh-url="/cases/%d/transcript"' % live in client.get(console.url + f"/cases/{live}").text
    add_events("live-5", [("user", "a newer message", None)])
    part = client.get(console.url + f"/cases/{live}/transcript")
    assert "a newer message" in part.text and "<html" not in part.text
    client.get(console.url + f"/cases/{live}/transcript")
    # Refreshes within minutes of viewing the case are not logged one by one.
    assert [a for a, _, c, _ in audit_rows(session_for) if c == live] == ["view_case"]


def test_no_events_table_yet(settings, make_user, make_callback, tmp_path):
    import dataclasses

    from tests.support.console import Console

    make_user("sam")
    case_id = make_callback()
    served = Console(dataclasses.replace(settings, tracker_store_url=f"sqlite:///{tmp_path / 'empty-tracker.db'}"))
    try:
        client = log_in(served)
        assert "No conversation is stored for this case." in client.get(served.url + f"/cases/{case_id}").text
        stats = client.get(served.url + "/stats")
        assert stats.status_code == 200 and '<strong id="total-referrals"><span class="few" title="fewer than 5">&lt;5</span></strong>' in stats.text
    finally:
        served.stop()


def test_everything_people_typed_is_escaped(console, make_user, make_callback, add_events, session_for):
    make_user("sam", name="<b>Sam</b>")
    case_id = make_callback(name=XSS, summary=XSS, best_time=XSS, area=XSS, sender_id="xss-sender")
    add_events("xss-sender", [("user", XSS, None), ("bot", XSS)])
    client = log_in(console)
    post(client, console, f"/cases/{case_id}/note", {"text": XSS})
    post(client, console, f"/cases/{case_id}/claim")
    html = client.get(console.url + f"/cases/{case_id}").text
    assert XSS not in html and "<b>Sam</b>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6  # name, summary, best time, area, note, 2 transcript lines
    queue = client.get(console.url + "/").text
    assert XSS not in queue and "&lt;script&gt;" in queue


def test_shift_start_and_end(console, make_user, session_for):
    from bot import handoff

    sam = make_user("sam")
    client = log_in(console)
    assert "nobody is on shift" in client.get(console.url + "/").text
    on = post(client, console, "/shift", {"action": "start"})
    assert "You are on shift until" in on.text and "someone is on shift" in on.text
    with session_for() as s:
        assert handoff.staff_on_shift(session=s)
    off = post(client, console, "/shift", {"action": "end"})
    assert "You are not on shift" in off.text
    with session_for() as s:
        assert not handoff.staff_on_shift(session=s)
    assert [(a, u) for a, u, _, _ in audit_rows(session_for) if a.startswith("shift")] == [("shift_start", sam), ("shift_end", sam)]


def test_audit_page_is_newest_first_and_paginated(console, make_user, session_for):
    from bot.staff import audit

    ada = make_user("ada", role="admin")
    with session_for() as s, s.begin():
        for i in range(audit.PAGE_SIZE + 5):
            audit.record("view_case", session=s, user_id=ada, detail=f"entry {i}")
    client = log_in(console, "ada")
    first = client.get(console.url + "/audit").text
    assert "Page 1 of 2" in first and "logged in" in first
    assert first.index(f"entry {audit.PAGE_SIZE + 4}") < first.index(f"entry {audit.PAGE_SIZE}")
    second = client.get(console.url + "/audit?page=2").text
    assert "entry 0" in second and "Page 2 of 2" in second


def test_urgent_live_chats_head_the_queue_labelled_urgent_with_the_time(console, make_user, make_live, make_callback, session_for):
    from bot.referrals import cases

    make_user("sam")
    older = make_live("tg:100")
    make_callback()
    urgent = make_live("tg:200")
    with session_for() as s, s.begin():
        cases.mark_urgent("tg:200", session=s, now=datetime(2026, 12, 1, 14, 7))  # a crisis message while waiting
    client = log_in(console)
    html = client.get(console.url + "/").text
    rows = re.findall(r"<tr class=\"([^\"]*)\">\s*<td>(.*?)</td>", html, re.S)
    assert [_references(cell)[0] for _, cell in rows][0] == _case(session_for, urgent).reference  # first, though newest
    first_class, first_cell = rows[0]
    assert "urgent" in first_class.split()
    assert '<strong class="badge urgent">Urgent</strong>' in first_cell and "since Tue 01 Dec 2026 14:07" in first_cell
    assert all("Urgent" not in cell and "urgent" not in cls.split() for cls, cell in rows[1:])  # only that one
    page = client.get(console.url + f"/cases/{urgent}").text
    assert "Urgent</strong>" in page and "a crisis message came at Tue 01 Dec 2026 14:07" in page
    assert "Urgent</strong>" not in client.get(console.url + f"/cases/{older}").text
