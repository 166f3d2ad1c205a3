"""The directory as staff browse it: a search by name, organisation, area, need and state; the
entries due a check, oldest first; and one entry with what surrounds it (its successor, the
entries it replaced, its own location, when staff last vouched for each field)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.directory import areas, conflicts, search, staff_edits
from bot.directory.audit import first_day
from bot.directory.models import (
    REPLACED, STATES, UNCHECKED, VERIFIED, Location, Organization, Service, ServiceArea, ServiceAtLocation,
    SourceDocument, service_taxonomy,
)
from bot.directory.taxonomy import ELIGIBILITY, NEEDS
from bot.geo import gazetteer

PAGE_SIZE = 20


class BadFilter(ValueError):
    """A search filter that names nothing we know; the message says what to write instead."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(problem)
        self.name = name


@dataclass(frozen=True)
class Entry:
    """One entry in a list."""

    id: str
    name: str
    organisation: str
    state: str
    last_verified: date | None
    as_of: date | None  # the last check, else the source document's date (its first day)
    contact: str
    successor_id: str | None


@dataclass(frozen=True)
class Listing:
    entries: list[Entry]
    page: int
    pages: int
    total: int


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when that month is shorter)."""
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - 28 always exists


def area_keys(text: str) -> list[str]:
    """The area keys a place serves locally: a council's own and its county's, or exactly the
    region, nation or national key named ("North East", "Wales", "United Kingdom")."""
    try:
        key = areas.area_key_from_name(text)
    except areas.UnknownArea:
        raise BadFilter("area", f"No council, region or nation is called {text!r}. Try a council (Stockton-on-Tees), "
                                "a region (North East), a nation (Wales) or United Kingdom.") from None
    kind, _, code = key.partition(":")
    if kind not in ("council", "county"):
        return [key]
    return [k for k, scope in areas.keys_covering(gazetteer().council(code)).items() if scope <= areas.COUNTY]


def find(session: Session, *, text: str = "", area: str = "", need: str = "", state: str = "", page: int = 1,
         size: int = PAGE_SIZE) -> Listing:
    """Entries whose name, organisation or id contains `text`, serving `area` (locally), meeting
    `need`, in `state`; by name, a page at a time."""
    query = select(Service.id).join(Organization, Organization.id == Service.organization_id)
    words = " ".join(text.split()).lower()
    if words:
        query = query.where(or_(*(func.lower(column).contains(words, autoescape=True)
                                  for column in (Service.name, Organization.name, Service.id))))
    if area.strip():
        query = query.where(Service.id.in_(select(ServiceArea.service_id).where(ServiceArea.area_key.in_(area_keys(area)))))
    if need:
        if need not in NEEDS:
            raise BadFilter("need", "Choose a need from the list.")
        query = query.where(Service.id.in_(select(service_taxonomy.c.service_id).where(service_taxonomy.c.taxonomy_term_id == need)))
    if state:
        if state not in STATES:
            raise BadFilter("state", f"Choose a state: {', '.join(STATES)}.")
        query = query.where(Service.state == state)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages, page = _pages(total, page, size)
    ids = list(session.execute(query.order_by(Service.name, Service.id).offset((page - 1) * size).limit(size)).scalars())
    return Listing(_entries(session, ids), page, pages, total)


def due_for_check(session: Session, *, months: int, today: date | None = None, page: int = 1, size: int = PAGE_SIZE) -> Listing:
    """Entries still offered that are unchecked, or were last checked more than `months` ago:
    oldest first (an unchecked entry counts from its source document's date; undated ones first)."""
    cutoff = months_before(today or date.today(), months)
    rows = session.execute(
        select(Service.id, Service.last_verified, SourceDocument.published)
        .outerjoin(SourceDocument, SourceDocument.id == Service.source_id)
        .where(or_(Service.state == UNCHECKED, (Service.state == VERIFIED) & (Service.last_verified < cutoff)))
    ).all()
    rows.sort(key=lambda r: (r.last_verified or first_day(r.published) or date.min, r.id))
    pages, page = _pages(len(rows), page, size)
    ids = [r.id for r in rows[(page - 1) * size: page * size]]
    return Listing(_entries(session, ids), page, pages, len(rows))


def _pages(total: int, page: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return pages, min(max(1, page), pages)


def _entries(session: Session, ids: list[str]) -> list[Entry]:
    """The rows for `ids`, in that order."""
    services = {
        s.id: s for s in session.execute(
            select(Service).where(Service.id.in_(ids)).options(
                selectinload(Service.organization).selectinload(Organization.phones), selectinload(Service.phones),
                selectinload(Service.source),
            )
        ).scalars()
    }
    out = []
    for service_id in ids:
        s = services[service_id]
        out.append(Entry(
            id=s.id, name=s.name, organisation=s.organization.name, state=s.state, last_verified=s.last_verified,
            as_of=s.last_verified or first_day(s.source.published if s.source else None),
            contact=s.phone or s.url or s.organization.url or s.email or "", successor_id=s.successor_id,
        ))
    return out


@dataclass
class EntryPage:
    """One entry and what surrounds it, for its page."""

    service: Service
    successor: Service | None  # the entry named as its successor
    offered_instead: Service | None  # what people are offered in its place (the end of the chain)
    replaces: list[Service]  # entries that name this one as their successor
    location: Location | None  # the location staff may edit (bot.directory.conflicts.own_location)
    other_locations: list[Location]
    area_names: list[str]
    need_names: list[str]
    eligibility_names: list[str]
    staff_changes: dict[str, date] = field(default_factory=dict)  # field -> when staff last changed or checked it


def entry(session: Session, service_id: str) -> EntryPage:
    """The entry with id `service_id` (LookupError if there is none)."""
    service = session.execute(
        select(Service).where(Service.id == service_id).options(
            selectinload(Service.organization).selectinload(Organization.phones), selectinload(Service.phones),
            selectinload(Service.areas), selectinload(Service.taxonomy_terms), selectinload(Service.eligibility),
            selectinload(Service.locations).selectinload(ServiceAtLocation.location), selectinload(Service.source),
        )
    ).scalar_one_or_none()
    if service is None:
        raise LookupError(service_id)
    own = conflicts.own_location(service)
    stamps = staff_edits.stamps(session, [service.id]).get(service.id, {})
    return EntryPage(
        service=service,
        successor=session.get(Service, service.successor_id) if service.successor_id else None,
        offered_instead=search.current_successor(session, service.id) if service.state == REPLACED else None,
        replaces=list(session.execute(select(Service).where(Service.successor_id == service.id).order_by(Service.name)).scalars()),
        location=own,
        other_locations=[link.location for link in service.locations if link.location is not own],
        area_names=[areas.area_name(a.area_key) for a in sorted(service.areas, key=lambda a: a.area_key)],
        need_names=[NEEDS.get(t.id, t.name) for t in sorted(service.taxonomy_terms, key=lambda t: t.id)],
        eligibility_names=[ELIGIBILITY.get(e.eligibility, e.eligibility) for e in sorted(service.eligibility, key=lambda e: e.eligibility)],
        staff_changes={name: row.staff_on for name, row in stamps.items()},
    )


def organisations(session: Session) -> list[tuple[str, str]]:
    """(id, name) of every organisation, by name, for the add-a-service form."""
    return [tuple(row) for row in session.execute(select(Organization.id, Organization.name).order_by(Organization.name, Organization.id))]
