"""A concern for someone inside, passed on (bot/referrals/concern.py), against real SQLite and
PostgreSQL: what the case page shows of it, and recording who passed it to the prison, how and
when, once, audited without anything anyone typed."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.referrals import cases, concern
from bot.referrals.models import Case
from bot.staff.models import AuditEntry, StaffUser


def request(key="sender-1:m1", **changes) -> cases.CallbackRequest:
    fields = dict(
        sender_id="sender-1", channel="webchat", request_key=key, consent_version="concern-1", consent_at=datetime.utcnow(),
        phone="+447700900123", safe_to_call=True, safe_to_leave_message=False, name="Jo", best_time="evening",
        summary="Asked about someone's safety in prison.", topic="risk_prisoner", audience="family",
        priority="urgent", priority_reason="risk_prisoner",
        concern=True, concern_prison_id="DMI", concern_person_name="Jamie Reed", concern_kind="threats_or_bullying",
        concern_last_heard="two weeks ago",
    )
    fields.update(changes)
    return cases.CallbackRequest(**fields)


def staff(session, username="sam") -> int:
    user = StaffUser(username=username, display_name=username.title() + " Smith", password_hash="x", role="worker")
    session.add(user)
    session.flush()
    return user.id


def make(session_for, worker="sam", **changes) -> tuple[int, int]:
    """A concern case and a worker: (case id, staff id)."""
    with session_for() as s, s.begin():
        case, _ = cases.create_callback(request(**changes), session=s)
        return case.id, staff(s, worker)


def audit(session_for) -> list[tuple[str, int | None, int | None, str]]:
    with session_for() as s:
        return [(e.action, e.staff_user_id, e.case_id, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_the_case_page_view_names_the_prison_and_its_gov_uk_page(session_for):
    case_id, _ = make(session_for)
    with session_for() as s:
        shown = concern.view(s.get(Case, case_id))
    assert (shown.prison_name, shown.prison_page) == ("HMP Durham", "https://www.gov.uk/guidance/durham-prison")
    assert (shown.person_name, shown.kind, shown.last_heard) == ("Jamie Reed", "threats or bullying", "two weeks ago")
    assert shown.passed_at is None and shown.passed_by is None and not shown.devolved


def test_a_prison_in_scotland_has_no_gov_uk_page_and_an_unknown_prison_no_name(session_for):
    scottish, _ = make(session_for, concern_prison_id="SPS-BAR")
    unknown, _ = make(session_for, "jo", key="sender-1:m2", concern_prison_id=None, concern_person_name=None)
    with session_for() as s:
        barlinnie, not_known = concern.view(s.get(Case, scottish)), concern.view(s.get(Case, unknown))
    assert (barlinnie.prison_name, barlinnie.prison_page, barlinnie.devolved) == ("HMP Barlinnie", None, True)
    assert (not_known.prison_name, not_known.prison_page, not_known.person_name) == (None, None, None)


def test_an_ordinary_call_back_has_no_concern(session_for):
    case_id, _ = make(session_for, concern=False, concern_prison_id=None, concern_person_name=None, concern_kind=None,
                      concern_last_heard=None)
    with session_for() as s:
        assert concern.view(s.get(Case, case_id)) is None


def test_passing_it_on_records_who_how_and_when_and_is_audited(session_for):
    case_id, sam = make(session_for)
    before = datetime.utcnow().replace(microsecond=0)
    with session_for() as s, s.begin():
        concern.record_passed(case_id, sam, "safer_custody_voicemail", note="also rang switchboard, said urgent", session=s)
    with session_for() as s:
        case = s.get(Case, case_id)
        assert case.concern_passed_by_id == sam and before <= case.concern_passed_at <= datetime.utcnow()
        assert case.concern_passed_how == "left a voicemail on the Safer Custody line: also rang switchboard, said urgent"
        shown = concern.view(case)
        assert (shown.passed_by, shown.passed_how) == ("Sam Smith", case.concern_passed_how)
    assert audit(session_for) == [("concern_passed", sam, case_id, "how: safer_custody_voicemail")]


def test_it_is_recorded_once_a_second_time_is_refused_and_changes_nothing(session_for):
    case_id, sam = make(session_for)
    with session_for() as s, s.begin():
        jo = staff(s, "jo")
    with session_for() as s, s.begin():
        concern.record_passed(case_id, sam, "safer_custody_line", session=s)
    with pytest.raises(cases.CaseError, match="already passed to the prison by Sam Smith"):
        with session_for() as s, s.begin():
            concern.record_passed(case_id, jo, "email", session=s)
    with session_for() as s:
        case = s.get(Case, case_id)
        assert (case.concern_passed_by_id, case.concern_passed_how) == (sam, "rang the Safer Custody line")
    assert [a[0] for a in audit(session_for)] == ["concern_passed"]


@pytest.mark.parametrize("how, note, refused", [
    ("", "", "Choose how you passed it on"),
    ("fax", "", "Choose how you passed it on"),
    ("email", "x" * 201, "too long"),
    ("safer_custody_line", "told them to ring 07700 900123", "Leave phone and prison numbers out"),
    ("safer_custody_line", "his number is A1234BC", "Leave phone and prison numbers out"),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_recorded(session_for, how, note, refused):
    case_id, sam = make(session_for)
    with pytest.raises(cases.CaseError, match=refused):
        with session_for() as s, s.begin():
            concern.record_passed(case_id, sam, how, note=note, session=s)
    with session_for() as s:
        assert s.get(Case, case_id).concern_passed_at is None
    assert audit(session_for) == []


def test_an_ordinary_call_back_or_a_cancelled_concern_cannot_be_passed_on(session_for):
    ordinary, sam = make(session_for, concern=False, concern_prison_id=None)
    cancelled, _ = make(session_for, "jo", key="sender-1:m2")
    with session_for() as s, s.begin():
        s.get(Case, cancelled).status = "cancelled"
    with pytest.raises(cases.CaseError, match="not a concern"):
        with session_for() as s, s.begin():
            concern.record_passed(ordinary, sam, "email", session=s)
    with pytest.raises(cases.CaseError, match="cancelled"):
        with session_for() as s, s.begin():
            concern.record_passed(cancelled, sam, "email", session=s)
    with pytest.raises(cases.CaseError, match="no case"):
        with session_for() as s, s.begin():
            concern.record_passed(99999, sam, "email", session=s)


def test_two_workers_at_once_one_is_recorded(session_for):
    case_id, sam = make(session_for)
    with session_for() as s, s.begin():
        workers = [sam, staff(s, "jo"), staff(s, "ali")]
    barrier = threading.Barrier(len(workers))
    outcomes: list[str] = []

    def record(worker: int) -> None:
        barrier.wait()
        for _ in range(20):
            try:
                with session_for() as s, s.begin():
                    concern.record_passed(case_id, worker, "safer_custody_line", session=s)
                outcomes.append("recorded")
                return
            except cases.CaseError:
                outcomes.append("refused")
                return
            except Exception as exc:  # SQLite: "database is locked" under contention; the worker tries again
                if "locked" not in str(exc):
                    raise

    threads = [threading.Thread(target=record, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["recorded", "refused", "refused"]
    assert [a[0] for a in audit(session_for)] == ["concern_passed"]


def test_cancelling_the_call_back_removes_what_they_said_about_the_person_inside(session_for):
    case_id, _ = make(session_for)
    with session_for() as s, s.begin():
        assert cases.cancel_callbacks("sender-1", session=s)
    with session_for() as s:
        case = s.get(Case, case_id)
        assert case.status == "cancelled" and case.concern_person_name is None and case.concern_last_heard is None
