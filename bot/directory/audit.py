"""The directory's freshness audit: every entry by state and age, for staff to work through.

Within a state the oldest check comes first; an entry never checked counts from its source
document's date (an undated source counts as oldest of all).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from typing import IO, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.directory.models import CLOSED, REPLACED, UNCHECKED, VERIFIED, Organization, Service

# Work to do first: entries nobody has checked, then checked ones (oldest due first), then
# those already retired.
STATE_ORDER = (UNCHECKED, VERIFIED, REPLACED, CLOSED)
COLUMNS = ("state", "id", "name", "organisation", "last_checked", "as_of", "age_days", "checked_source", "successor", "contact")


@dataclass(frozen=True)
class AuditRow:
    state: str
    id: str
    name: str
    organisation: str
    last_checked: date | None
    as_of: date | None  # the last check, else the source document's date (its first day)
    age_days: int | None
    checked_source: str
    successor: str
    contact: str

    def values(self) -> list[str]:
        return [
            self.state, self.id, self.name, self.organisation,
            self.last_checked.isoformat() if self.last_checked else "never",
            self.as_of.isoformat() if self.as_of else "undated",
            "" if self.age_days is None else str(self.age_days),
            self.checked_source, self.successor, self.contact,
        ]


def first_day(published: str | None) -> date | None:
    """"2011", "2011-05" or "2011-05-01" as the first day it can mean."""
    if not published:
        return None
    parts = [int(p) for p in published.split("-")[:3]]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def audit_rows(session: Session, today: date | None = None) -> list[AuditRow]:
    """Every service, by state (STATE_ORDER) and then oldest first."""
    today = today or date.today()
    services = session.execute(
        select(Service).options(
            selectinload(Service.organization).selectinload(Organization.phones), selectinload(Service.phones),
            selectinload(Service.source),
        )
    ).scalars()
    rows = []
    for s in services:
        as_of = s.last_verified or first_day(s.source.published if s.source else None)
        rows.append(
            AuditRow(
                state=s.state, id=s.id, name=s.name, organisation=s.organization.name,
                last_checked=s.last_verified, as_of=as_of,
                age_days=(today - as_of).days if as_of else None,
                checked_source=s.checked_source or "", successor=s.successor_id or "",
                contact=s.phone or s.url or s.organization.url or s.email or "",
            )
        )
    order = {state: i for i, state in enumerate(STATE_ORDER)}
    rows.sort(key=lambda r: (order.get(r.state, len(order)), r.as_of or date.min, r.id))
    return rows


def counts(rows: Iterable[AuditRow]) -> dict[str, int]:
    out = {state: 0 for state in STATE_ORDER}
    for row in rows:
        out[row.state] = out.get(row.state, 0) + 1
    return out


def write_table(rows: list[AuditRow], out: IO[str], width: int = 48) -> None:
    """A fixed-width table for a terminal: the columns staff work from (long text cut short)."""
    shown = ("state", "id", "last_checked", "as_of", "age_days", "contact", "successor")
    index = [COLUMNS.index(c) for c in shown]
    table = [[row.values()[i] for i in index] for row in rows]
    table = [[cell if len(cell) <= width else cell[: width - 1] + "…" for cell in line] for line in table]
    widths = [max([len(h)] + [len(line[i]) for line in table]) for i, h in enumerate(shown)]
    out.write("  ".join(h.ljust(w) for h, w in zip(shown, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in table:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n")
    total = counts(rows)
    out.write(", ".join(f"{n} {state}" for state, n in total.items()) + f"; {len(rows)} in all\n")


def write_csv(rows: list[AuditRow], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.values())
