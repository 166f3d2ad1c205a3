"""A concern for someone inside on the console, over HTTP with the real app (SQLite and
PostgreSQL): the case page's "Concern for someone inside" section (the prison and its GOV.UK
page, the name given, the kind of worry, when last heard) and POST /cases/<id>/concern-passed
(once, CSRF-checked, audited, bad input refused with what was chosen kept)."""
from __future__ import annotations

import re

import requests

from bot.referrals.models import Case
from tests.support.console import audit_rows, csrf_from, log_in, post

XSS = "<script>alert(1)</script>"
CONCERN = dict(
    consent_version="concern-1", summary="Asked about someone's safety in prison.", topic="risk_prisoner",
    priority="urgent", priority_reason="concern", concern=True, concern_prison_id="DMI", concern_person_name="Jamie Reed",
    concern_kind="self_harm", concern_last_heard="last night",
)


def _case(session_for, case_id: int) -> Case:
    with session_for() as s:
        return s.get(Case, case_id)


def _section(html: str) -> str:
    match = re.search(r'<section id="concern".*?</section>', html, re.S)
    assert match, "no concern section on the page"
    return match.group(0)


def test_the_case_page_shows_the_concern_and_the_prisons_page(console, make_user, make_callback):
    make_user("sam", name="Sam Smith")
    case_id = make_callback(**CONCERN)
    section = _section(log_in(console).get(console.url + f"/cases/{case_id}").text)
    assert "Concern for someone inside" in section and "HMP Durham" in section
    assert '<a href="https://www.gov.uk/guidance/durham-prison" rel="noopener noreferrer" target="_blank">' in section
    for shown in ("Jamie Reed", "self-harm", "last night", "not yet", "Passed to the prison"):
        assert shown in section, shown


def test_an_ordinary_call_back_has_no_concern_section(console, make_user, make_callback):
    make_user("sam")
    page = log_in(console).get(console.url + f"/cases/{make_callback()}").text
    assert 'id="concern"' not in page and "concern-passed" not in page


def test_a_prison_not_known_or_in_scotland_gets_the_right_pointer(console, make_user, make_callback):
    make_user("sam")
    client = log_in(console)
    unknown = _section(client.get(console.url + f"/cases/{make_callback(**{**CONCERN, 'concern_prison_id': None})}").text)
    assert "not known: the caller was not sure" in unknown and 'href="https://www.gov.uk/find-prison"' in unknown
    scottish = _section(client.get(console.url + f"/cases/{make_callback(**{**CONCERN, 'concern_prison_id': 'SPS-BAR'})}").text)
    assert "HMP Barlinnie" in scottish and "gov.uk" not in scottish and "nation's prison service" in scottish


def test_passing_it_on_is_recorded_once_shown_and_audited(console, make_user, make_callback, session_for):
    sam = make_user("sam", name="Sam Smith")
    make_user("jo", name="Jo Jones")
    case_id = make_callback(**CONCERN)
    client = log_in(console)
    done = post(client, console, f"/cases/{case_id}/concern-passed", {"how": "safer_custody_line", "note": "spoke to the duty officer"})
    assert done.status_code == 200 and re.search(rf"/cases/{case_id}\?done=concern_passed", done.url)
    assert "Recorded: the concern has been passed to the prison." in done.text
    section = _section(done.text)
    assert "by Sam Smith" in section and "rang the Safer Custody line: spoke to the duty officer" in section
    assert "concern-passed" not in section  # the form is gone once it is recorded
    case = _case(session_for, case_id)
    assert case.concern_passed_by_id == sam and case.concern_passed_at is not None

    # Someone else, from a page opened before: refused, and the first record stands.
    again = post(log_in(console, "jo"), console, f"/cases/{case_id}/concern-passed", {"how": "email"},
                 page=f"/cases/{make_callback()}")
    assert again.status_code == 409 and "already passed to the prison by Sam Smith" in again.text
    assert _case(session_for, case_id).concern_passed_by_id == sam

    rows = [(a, u, c, d) for a, u, c, d in audit_rows(session_for) if a == "concern_passed"]
    assert rows == [("concern_passed", sam, case_id, "how: safer_custody_line")]
    everything = " ".join(str(r) for r in audit_rows(session_for))
    for secret in ("Jamie", "duty officer", "last night", "+447700900123"):
        assert secret not in everything, secret


def test_bad_input_is_refused_clearly_and_keeps_what_was_chosen(console, make_user, make_callback, session_for):
    make_user("sam")
    case_id = make_callback(**CONCERN)
    client = log_in(console)
    refused = post(client, console, f"/cases/{case_id}/concern-passed", {"how": "email", "note": "their number is 07700 900123"})
    assert refused.status_code == 409 and "Leave phone and prison numbers out of the note" in refused.text
    section = _section(refused.text)
    assert '<option value="email" selected>' in section and 'value="their number is 07700 900123"' in section
    nothing = post(client, console, f"/cases/{case_id}/concern-passed", {"how": ""})
    assert nothing.status_code == 409 and "Choose how you passed it on" in nothing.text
    assert _case(session_for, case_id).concern_passed_at is None
    assert not [r for r in audit_rows(session_for) if r[0] == "concern_passed"]


def test_an_ordinary_call_back_cannot_be_marked_passed_to_a_prison(console, make_user, make_callback, session_for):
    make_user("sam")
    case_id = make_callback()
    refused = post(log_in(console), console, f"/cases/{case_id}/concern-passed", {"how": "email"})
    assert refused.status_code == 409 and "not a concern for someone inside" in refused.text
    assert post(log_in(console), console, "/cases/99999/concern-passed", {"how": "email"}, page="/").status_code == 404


def test_the_form_needs_a_login_and_the_sessions_csrf_token(console, make_user, make_callback, session_for):
    make_user("sam")
    case_id = make_callback(**CONCERN)
    assert requests.post(console.url + f"/cases/{case_id}/concern-passed", data={"how": "email"}).status_code == 403
    client = log_in(console)
    assert client.post(console.url + f"/cases/{case_id}/concern-passed", data={"how": "email", "csrf_token": "wrong"}).status_code == 403
    assert csrf_from(client.get(console.url + f"/cases/{case_id}").text)  # the page's own form carries the token
    assert _case(session_for, case_id).concern_passed_at is None


def test_what_the_caller_typed_is_shown_as_text(console, make_user, make_callback):
    make_user("sam")
    case_id = make_callback(**{**CONCERN, "concern_person_name": XSS, "concern_last_heard": XSS})
    section = _section(log_in(console).get(console.url + f"/cases/{case_id}").text)
    assert XSS not in section and "&lt;script&gt;alert(1)&lt;/script&gt;" in section
