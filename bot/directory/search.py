"""Finding services: by need, place and who is asking; local first, then county, region, nation."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot import texts
from bot.directory import areas
from bot.directory.models import (
    CLOSED,
    OFFERED_STATES,
    REPLACED,
    UNCHECKED,
    VERIFIED,
    Location,
    Organization,
    Phone,
    Service,
    ServiceArea,
    ServiceAtLocation,
    SourceDocument,
    StaffEdit,
    service_taxonomy,
)
from bot.geo import Council, gazetteer

PAGE_SIZE = 3


@dataclass(frozen=True)
class Found:
    """One service as the assistant shows it."""

    id: str
    name: str
    organization: str
    description: str
    phone: str | None
    url: str | None
    email: str | None
    scope: int  # areas.LOCAL ... areas.NATIONAL
    as_of: date | str | None
    verified: bool
    state: str = UNCHECKED
    opening_times: str | None = None


@dataclass(frozen=True)
class Page:
    results: list[Found]
    offset: int
    has_more: bool
    local_count: int  # how many of the matches looked at serve the council itself (its own or its county's)

    @property
    def all_unchecked(self) -> bool:
        """Nothing on this page has been checked recently."""
        return bool(self.results) and not any(f.verified for f in self.results)


_SUITS = {"family": Service.suits_family, "young_person": Service.suits_young_person, "professional": Service.suits_professional}
_OFFERED = and_(Service.state.in_(OFFERED_STATES), Service.status == "active")
# Successor chains are short (a charity renamed, then merged); a longer one is a data error.
_MAX_CHAIN = 10


@dataclass(frozen=True)
class _Search:
    """One search's filter and order: the areas covering the council (area key -> distance),
    the need and who is asking."""

    keys: dict[str, int]
    need: str | None
    audience: str | None

    def matching(self, *columns, area_keys: list[str]):
        """A query for `columns` of services in `area_keys` that meet the need and suit the asker."""
        query = (
            select(*columns)
            .join(ServiceArea, ServiceArea.service_id == Service.id)
            .where(ServiceArea.area_key.in_(area_keys))
        )
        if self.need:
            query = query.join(
                service_taxonomy,
                and_(service_taxonomy.c.service_id == Service.id, service_taxonomy.c.taxonomy_term_id == self.need),
            )
        if self.audience != "professional":
            # Contacts only for professionals are offered to those who say they are one; most
            # people who have not said who they are are family.
            query = query.where(Service.professionals_only.is_(False))
        return query

    def then_by(self) -> list:
        """The order within one distance: suiting the asker, then the most recently checked."""
        order = [case((_SUITS[self.audience], 0), else_=1)] if self.audience in _SUITS else []
        return order + [Service.last_verified.desc().nulls_last(), Service.name, Service.id]


# Each found service: id -> (rank: 0 checked, 1 unchecked; distance; order found; verified).
_Best = dict[str, tuple[int, int, int, bool]]


def _add_checked(session: Session, search: _Search, best: _Best) -> int:
    """Checked entries, and the successors of replaced ones, in the answer's order; returns how
    many rows were read. Staff curate these, so they are few: all of them that serve the place
    are read (a limit could cut off a replaced entry whose successor belongs at the top)."""
    curated = _curated_ids(session)
    if not curated:
        return 0
    keys = search.keys
    scope_of = case(*((ServiceArea.area_key == key, scope) for key, scope in keys.items()), else_=areas.NATIONAL)
    checked = (
        search.matching(Service.id, Service.state, scope_of.label("scope"), area_keys=list(keys))
        # The state is checked here too: a remembered id never offers what is now closed.
        .where(Service.id.in_(curated), or_(and_(Service.state == VERIFIED, Service.status == "active"), Service.state == REPLACED))
        .order_by(scope_of, *search.then_by())
    )
    replaced: list[tuple[str, int, int]] = []
    position = 0
    for service_id, state, scope in session.execute(checked).all():
        position += 1
        if state == REPLACED:
            replaced.append((service_id, scope, position))
        elif service_id not in best:
            best[service_id] = (0, scope, position, True)
    for service_id, scope, order_at in replaced:
        successor = current_successor(session, service_id)
        if successor is None or successor.id in best:
            continue
        if successor.professionals_only and search.audience != "professional":
            continue
        serves = [keys[a.area_key] for a in successor.areas if a.area_key in keys]
        if serves:  # only where the successor serves the place
            verified = successor.state == VERIFIED
            best[successor.id] = (0 if verified else 1, min(serves), order_at, verified)
    return position


def _add_unchecked(session: Session, search: _Search, best: _Best, wanted: int, position: int) -> None:
    """Unchecked entries, nearest first, only as many as the page still needs. No DISTINCT
    (PostgreSQL would need the ORDER BY terms selected): a service listed twice in one tier, or
    already found nearer, is skipped, so enough rows are fetched to allow for it. The council's
    own and its county's tiers are always looked at, so an answer never says there is nothing
    local when there is."""
    tiers: dict[int, list[str]] = {}
    for key, scope in search.keys.items():
        tiers.setdefault(scope, []).append(key)
    for scope in sorted(tiers):
        if len(best) >= wanted and scope > areas.COUNTY:
            break
        query = (
            search.matching(Service.id, area_keys=tiers[scope])
            # "not one of the others" rather than "== unchecked": an equality would tempt SQLite's
            # planner onto the state index, which nearly every row shares, instead of the area index.
            .where(Service.state.notin_((VERIFIED, REPLACED, CLOSED)), Service.status == "active")
            .order_by(*search.then_by())
            .limit(len(tiers[scope]) * wanted + len(best))
        )
        for service_id in session.execute(query).scalars():
            position += 1
            if service_id not in best:
                best[service_id] = (1, scope, position, False)


def search_services(
    session: Session,
    *,
    council: Council,
    need: str | None = None,
    audience: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page:
    """Services serving `council` that are offered (verified or unchecked, never closed or
    replaced): verified ones first, then nearest first (its own council, its county, region,
    nation, then national ones), then those suiting `audience`, then the most recently checked.

    A replaced entry that matches brings its successor instead, where the successor serves
    the council. Two steps: checked entries (and replaced ones) in one query over every key,
    in the answer's order; then, while the page is not full, unchecked ones one distance at a
    time, nearest first, stopping once it is (most searches need the council's own alone).
    """
    search = _Search(areas.keys_covering(council), need, audience)
    wanted = offset + limit + 1  # one more than the page shows, to know whether there are more
    best: _Best = {}
    position = _add_checked(session, search, best)
    _add_unchecked(session, search, best, wanted, position)
    ranked = sorted(best.items(), key=lambda item: item[1][:3])
    page = ranked[offset : offset + limit]
    details = {row.id: row for row in session.execute(_details_query().where(Service.id.in_([i for i, _ in page])))}
    return Page(
        results=[_found(details[i], rank[1]) for i, rank in page],
        offset=offset,
        has_more=len(ranked) > offset + limit,
        local_count=sum(1 for _, rank in ranked if rank[1] <= areas.COUNTY),
    )


# Which entries are verified or replaced, per database, remembered for a short while: they are
# few and change only when staff check them, while a planner with statistics scans the whole
# table to find them (nearly every row shares the state "unchecked"). Being a little late only
# delays a new check's effect; nothing now closed or replaced is ever offered, as every query
# also tests the state itself.
CURATED_TTL_SECONDS = 30.0
_curated: dict[str, tuple[float, list[str], int | None]] = {}
_curated_lock = threading.Lock()


def _curated_ids(session: Session) -> list[str]:
    key = str(session.get_bind().url)
    now = time.monotonic()
    # Staff's changes of state (console or `bot directory verify`, in any process) each add a
    # row to directory_staff_edit: its newest id (a primary-key lookup) says the list is stale.
    version = session.execute(select(func.max(StaffEdit.id))).scalar()
    with _curated_lock:
        cached = _curated.get(key)
        if cached and now - cached[0] < CURATED_TTL_SECONDS and cached[2] == version:
            return cached[1]
    ids = list(session.execute(select(Service.id).where(Service.state.in_((VERIFIED, REPLACED)))).scalars())
    with _curated_lock:
        _curated[key] = (now, ids, version)
    return ids


def forget_curated() -> None:
    """Drop the remembered verified and replaced entries (after loading or checking entries)."""
    with _curated_lock:
        _curated.clear()


def current_successor(session: Session, service_id: str) -> Service | None:
    """The offered service that carries on a replaced one (following a chain of
    replacements), or None if the chain ends in a closed or missing entry."""
    service = session.get(Service, service_id)
    for _ in range(_MAX_CHAIN):
        if service is None or service.state != REPLACED or not service.successor_id:
            break
        service = session.get(Service, service.successor_id)
    if service is None or service.id == service_id or service.state not in OFFERED_STATES or service.status != "active":
        return None
    return service


def _details_query():
    """What a result shows, in one query: the service, its organisation, its source's date, and
    its first phone number (the service's own, else the organisation's)."""
    own_phone = select(Phone.number).where(Phone.service_id == Service.id).order_by(Phone.id).limit(1).scalar_subquery()
    org_phone = select(Phone.number).where(Phone.organization_id == Service.organization_id).order_by(Phone.id).limit(1).scalar_subquery()
    return (
        select(
            Service.id, Service.name, Service.description, Service.last_verified, Service.state, Service.opening_times,
            func.coalesce(Service.url, Organization.url).label("url"),
            func.coalesce(Service.email, Organization.email).label("email"),
            Organization.name.label("organization"),
            SourceDocument.published.label("published"),
            func.coalesce(own_phone, org_phone).label("phone"),
        )
        .join(Organization, Organization.id == Service.organization_id)
        .outerjoin(SourceDocument, SourceDocument.id == Service.source_id)
    )


def services_at_prison(session: Session, prison_id: str, limit: int = PAGE_SIZE) -> list[Found]:
    """Services based at a prison (visitors' centres, family services) that are offered,
    verified first; a replaced one brings its successor instead."""
    query = (
        select(Service.id, Service.state)
        .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(Location.prison_id == prison_id, or_(_OFFERED, Service.state == REPLACED))
        .order_by(case((Service.state == UNCHECKED, 1), else_=0), Service.name, Service.id)
    )
    ids: list[str] = []
    for service_id, state in session.execute(query):
        if state == REPLACED:
            successor = current_successor(session, service_id)
            service_id = successor.id if successor is not None else None
        if service_id and service_id not in ids:
            ids.append(service_id)
    details = {row.id: row for row in session.execute(_details_query().where(Service.id.in_(ids)))}
    found = [_found(details[i], areas.LOCAL) for i in ids]
    found.sort(key=lambda f: not f.verified)  # stable: verified first, then as ordered above
    return found[:limit]


def _found(row, scope: int) -> Found:
    return Found(
        id=row.id, name=row.name, organization=row.organization, description=row.description,
        phone=row.phone, url=row.url, email=row.email, scope=scope,
        as_of=row.last_verified or row.published, verified=row.state == VERIFIED,
        state=row.state, opening_times=row.opening_times,
    )


# --- how a result reads (the words are domain.yml's utter_directory_* responses) ----------------
CONTACT_PHONE = "utter_directory_contact_phone"
CONTACT_PHONE_HOURS = "utter_directory_contact_phone_hours"
CONTACT_WEB = "utter_directory_contact_web"
CONTACT_EMAIL = "utter_directory_contact_email"
CHECKED = "utter_directory_checked"
LAST_CHECKED = "utter_directory_last_checked"
NOT_CHECKED_SINCE = "utter_directory_not_checked_since"
NOT_CHECKED = "utter_directory_not_checked"
# Dates as a text message shows them ("3 Nov 2026"), whatever the process's locale.
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def contact_line(found: Found) -> str:
    """How to reach a service: phone first (works from any phone), else web, else email."""
    if found.phone and found.opening_times:
        return texts.text(CONTACT_PHONE_HOURS, service_phone=found.phone, service_opening_times=found.opening_times)
    if found.phone:
        return texts.text(CONTACT_PHONE, service_phone=found.phone)
    if found.url:
        return texts.text(CONTACT_WEB, service_url=found.url)
    if found.email:
        return texts.text(CONTACT_EMAIL, service_email=found.email)
    return ""


def freshness(found: Found) -> str:
    """How recent the entry is, in a few words short enough for a text: when it was checked,
    or since when it has not been (an answer of such entries also says they may have changed)."""
    when = found.as_of
    if found.verified and isinstance(when, date):
        return texts.text(CHECKED, checked_on=f"{when.day} {MONTHS[when.month - 1]} {when.year}")
    if isinstance(when, date):
        return texts.text(LAST_CHECKED, checked_month=f"{MONTHS[when.month - 1]} {when.year}")
    if isinstance(when, str) and when:
        year, _, month = when.partition("-")
        month = month[:2]
        label = f"{MONTHS[int(month) - 1]} {year}" if month.isdigit() and 1 <= int(month) <= 12 else year
        return texts.text(NOT_CHECKED_SINCE, checked_month=label)
    return texts.text(NOT_CHECKED)


def council_for(place: str) -> Council | None:
    """The current council for an `area` slot value or free text."""
    return areas.find_council(place) if place else None


def prison_id_for(name: str) -> str | None:
    prison = gazetteer().find_prison(name) if name else None
    return prison.id if prison else None
