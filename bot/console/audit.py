"""The audit log: who viewed or changed what. Details name states and actions, never what
anyone typed, a name or a phone number."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from bot.console.models import AuditEntry

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
}


def record(action: str, *, session: Session, user_id: int | None, case_id: int | None = None, detail: str = "") -> AuditEntry:
    """Add one entry; committed with the change it records."""
    entry = AuditEntry(action=action, staff_user_id=user_id, case_id=case_id, detail=detail[:500], at=datetime.utcnow())
    session.add(entry)
    return entry


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
