"""The audit log: who viewed or changed what (admins read it on the console's audit page).
Details name states and actions, never what anyone typed, a name or a phone number.

Besides staff's own actions it records account changes made with `bot staff` (by whom on the
machine), erasures and purges (`record_system`), and refused requests: failed logins, bad CSRF
tokens, a worker opening an admin page (`record_refusal`). Refusals are counted, not listed:
one row per (kind, account, source address, minute) with a count, at most 20 such rows a
minute, then one "and N more" row, so a flood of bad logins cannot fill the log.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.db import session_factory
from bot.staff.models import AuditEntry

PAGE_SIZE = 50

# What each action means, for the audit page.
ACTIONS = {
    "login": "logged in",
    "login_failed": "failed login",
    "logout": "logged out",
    "view_case": "viewed case and transcript",
    "view_transcript": "refreshed transcript",
    "claim": "claimed",
    "note": "added a note",
    "called_back": "marked called back",
    "close": "closed",
    "reply": "replied in live chat",
    "shift_start": "started shift",
    "shift_end": "ended shift",
    "view_stats": "viewed statistics",
    "export_stats": "exported statistics",
    "view_audit": "viewed audit log",
    "view_users": "viewed users",
    "refused": "refused request",
    "refused_more": "more refused requests (other sources)",
    "account_added": "account added",
    "account_deactivated": "account deactivated",
    "password_set": "password set",
    "erasure": "erased a person's data",
    "purge": "retention purge",
    "directory_verified": "directory entry checked",
    "directory_edited": "directory entry's details changed",
    "directory_closed": "directory entry marked closed",
    "directory_replaced": "directory entry marked replaced",
    "directory_added": "directory service added",
    "directory_import_conflict": "directory import kept staff's newer values",
    "reply_added": "saved reply added",
    "reply_changed": "saved reply changed",
    "reply_retired": "saved reply retired",
    "concern_passed": "passed a concern to the prison",
    "review_view": "read a conversation for review",
    "review_tag": "tagged a conversation in review",
    "review_untag": "took a review tag off",
    "review_label": "labelled a message in review",
    "review_export": "exported reviewed messages as training data (bot review export)",
}

# Refused requests: counted per (kind, account, source, minute), in at most this many rows a
# minute; past it, one "refused_more" row counts the rest.
REFUSAL_ACTIONS = ("login_failed", "refused")
MAX_REFUSAL_ROWS_PER_MINUTE = 20
_refusals_lock = threading.Lock()  # the console is one process; its threads update counts in turn


def record(action: str, *, session: Session, user_id: int | None, case_id: int | None = None, detail: str = "") -> AuditEntry:
    """Add one entry; committed with the change it records."""
    entry = AuditEntry(action=action, staff_user_id=user_id, case_id=case_id, detail=detail[:500], at=datetime.utcnow())
    session.add(entry)
    return entry


def record_system(event: str, detail: str = "", *, session: Session | None = None, database_url: str | None = None) -> AuditEntry:
    """An entry made by the system or an operator, not a console user (erasure, purge, ...).
    With `session` it is committed with the caller's change; else in its own transaction on
    `database_url` (default DATABASE_URL). `detail` must not hold a name, number or sender id."""
    if session is not None:
        return record(event, session=session, user_id=None, detail=detail)
    with session_factory(database_url)() as own, own.begin():
        return record(event, session=own, user_id=None, detail=detail)


def _times(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


def record_refusal(action: str, reason: str, *, source: str, sessions: sessionmaker, user_id: int | None = None, now: datetime | None = None) -> None:
    """Count a refused request (`action` "login_failed" or "refused") in its own short
    transaction: one row per (action, reason, account, source, minute) whose detail reads
    "wrong password; from 203.0.113.9; 3 times"; beyond MAX_REFUSAL_ROWS_PER_MINUTE rows in a
    minute, one "refused_more" row counts the rest."""
    minute = (now or datetime.utcnow()).replace(second=0, microsecond=0)
    prefix = f"{reason}; from {source[:100]}; "
    with _refusals_lock, sessions() as db, db.begin():
        row = db.execute(
            select(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.at == minute, AuditEntry.staff_user_id.is_(None) if user_id is None
                else AuditEntry.staff_user_id == user_id, AuditEntry.detail.startswith(prefix, autoescape=True),
            ).limit(1)
        ).scalar_one_or_none()
        if row is not None:
            row.detail = prefix + _times(int(row.detail.rsplit("; ", 1)[1].split()[0]) + 1)
            return
        rows = db.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(REFUSAL_ACTIONS), AuditEntry.at == minute)
        ).scalar_one()
        if rows < MAX_REFUSAL_ROWS_PER_MINUTE:
            db.add(AuditEntry(action=action, staff_user_id=user_id, detail=prefix + _times(1), at=minute))
            return
        more = db.execute(
            select(AuditEntry).where(AuditEntry.action == "refused_more", AuditEntry.at == minute).limit(1)
        ).scalar_one_or_none()
        if more is None:
            db.add(AuditEntry(action="refused_more", staff_user_id=None, detail="and 1 more from other sources", at=minute))
        else:
            more.detail = f"and {int(more.detail.split()[1]) + 1} more from other sources"


def recorded_since(action: str, *, user_id: int, case_id: int, minutes: int, session: Session) -> bool:
    """Whether this user has an `action` entry on this case in the last N minutes (to not log every refresh)."""
    since = datetime.utcnow() - timedelta(minutes=minutes)
    return (
        session.execute(
            select(AuditEntry.id).where(
                AuditEntry.action == action, AuditEntry.staff_user_id == user_id, AuditEntry.case_id == case_id,
                AuditEntry.at >= since,
            ).limit(1)
        ).scalar_one_or_none()
        is not None
    )


def page(number: int, *, session: Session, size: int = PAGE_SIZE) -> tuple[list[AuditEntry], int]:
    """Entries newest first, page `number` (from 1), and how many pages there are."""
    total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    entries = list(
        session.execute(
            select(AuditEntry).options(joinedload(AuditEntry.user))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset((number - 1) * size).limit(size)
        ).scalars()
    )
    return entries, pages
