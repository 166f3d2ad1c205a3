"""When staff last changed or checked each field of a directory entry (table directory_staff_edit).

An import or a seed reload compares these dates with the date its own record was checked
(bot.directory.conflicts): a value staff vouched for on or after that date is kept. Checking an
entry (verifying it) vouches for every field at once; an edit, for the fields it changed.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.directory.models import StaffEdit

# Every field staff can vouch for. Address and postcode are those of the entry's own location.
CONTACT_FIELDS = ("description", "url", "email", "phones", "opening_times", "address", "postcode")
STATE = "state"  # with the check's date and source, and the successor
FIELDS = ("name",) + CONTACT_FIELDS + ("needs", "eligibility", "areas", STATE)


def note(session: Session, service_id: str, fields: Iterable[str], on: date | None = None) -> None:
    """Staff changed or checked `fields` of the entry on `on` (default today); a later date
    already noted stands."""
    on = on or date.today()
    existing = {row.field: row for row in session.execute(select(StaffEdit).where(StaffEdit.service_id == service_id)).scalars()}
    for name in fields:
        if name not in FIELDS:
            raise ValueError(f"{name!r} is not a directory field staff keep")
        row = existing.get(name)
        if row is not None and name == STATE:
            # A new row (a new id) for every change of state: other processes' searches see the
            # newest id change and read the checked and replaced entries again (bot.directory.search).
            on = max(on, row.staff_on)
            session.delete(row)
            session.flush()
            row = None
        if row is None:
            session.add(StaffEdit(service_id=service_id, field=name, staff_on=on))
        elif row.staff_on < on:
            row.staff_on, row.reported = on, None
    session.flush()


def stamps(session: Session, service_ids: Iterable[str] | None = None) -> dict[str, dict[str, StaffEdit]]:
    """service id -> field -> its row, for every entry staff have touched (or those of `service_ids`)."""
    query = select(StaffEdit)
    if service_ids is not None:
        query = query.where(StaffEdit.service_id.in_(list(service_ids)))
    out: dict[str, dict[str, StaffEdit]] = {}
    for row in session.execute(query).scalars():
        out.setdefault(row.service_id, {})[row.field] = row
    return out
