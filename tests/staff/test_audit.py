"""The audit log's own functions (bot.staff.audit): entries made with the caller's change or
on their own, and refusals counted in a bounded number of rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.staff import audit
from bot.staff.models import AuditEntry


def entries(session_for) -> list[tuple[str, int | None, int | None, str]]:
    """(action, staff_user_id, case_id, detail) of every audit entry, oldest first."""
    with session_for() as s:
        return [(e.action, e.staff_user_id, e.case_id, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_system_events_are_recorded_with_the_callers_change_or_on_their_own(database_url, session_for):
    with session_for() as s, s.begin():
        audit.record_system("purge", "3 closed cases past 90 days", session=s)
    with session_for() as s:
        s.begin()
        audit.record_system("erasure", "rolled back with its change", session=s)
        s.rollback()
    audit.record_system("erasure", "1 conversation erased", database_url=database_url)
    assert entries(session_for) == [
        ("purge", None, None, "3 closed cases past 90 days"), ("erasure", None, None, "1 conversation erased"),
    ]
    assert audit.ACTIONS["erasure"] and audit.ACTIONS["purge"]


def test_refusals_are_counted_in_at_most_21_rows_a_minute(session_for):
    sessions = session_for
    minute = datetime(2026, 12, 1, 9, 30, 5)
    for source in range(30):
        for _ in range(4):
            audit.record_refusal("login_failed", "unknown username", source=f"203.0.113.{source}", sessions=sessions, now=minute)
    audit.record_refusal("refused", "bad CSRF token", source="203.0.113.99", sessions=sessions, now=minute)
    rows = entries(session_for)
    assert len(rows) == audit.MAX_REFUSAL_ROWS_PER_MINUTE + 1
    assert rows[:2] == [
        ("login_failed", None, None, "unknown username; from 203.0.113.0; 4 times"),
        ("login_failed", None, None, "unknown username; from 203.0.113.1; 4 times"),
    ]
    assert rows[-1] == ("refused_more", None, None, "and 41 more from other sources")  # 10 sources x 4, and the CSRF one
    # The next minute starts afresh.
    audit.record_refusal("login_failed", "unknown username", source="203.0.113.29", sessions=sessions, now=minute.replace(minute=31))
    assert entries(session_for)[-1] == ("login_failed", None, None, "unknown username; from 203.0.113.29; 1 time")
