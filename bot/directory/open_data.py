"""Reading the directory for the Open Referral UK API (bot.directory_api): filters, pages and the
records each endpoint serves, shaped by bot.directory.hsds.

Lists serve only entries the assistant would offer (verified or unchecked, and running): a closed
or replaced entry is never listed as active, though its own page (by id) still answers, marked
inactive, so a tool that copied it learns it has gone. Filters add up (HSDS: "cumulative"); a
postcode keeps services whose service area covers it, and with a proximity (metres) only those
with a location within that distance of the postcode district's centre, nearest first.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from bot.directory import areas, hsds
from bot.directory.models import (
    Eligibility,
    Location,
    Organization,
    Service,
    ServiceArea,
    ServiceAtLocation,
    service_taxonomy,
)
from bot.directory.oruk import FULL_SERVICE
from bot.directory.taxonomy import ELIGIBILITY, NEEDS
from bot.geo import gazetteer

METRES_PER_DEGREE = 111_320.0
EARTH_RADIUS_M = 6_371_000.0


class BadFilter(ValueError):
    """A filter that names nothing we know (said to the caller as a 400)."""


@dataclass(frozen=True)
class Point:
    """Where "near" is measured from: a postcode district's centre, and the council it is in."""

    postcode: str
    lat: float
    long: float
    area_keys: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None
    point: Point | None = None
    proximity: int | None = None  # metres from the point


@dataclass(frozen=True)
class Page:
    contents: list[dict[str, Any]]
    total_items: int
    page: int
    per_page: int

    def as_json(self) -> dict[str, Any]:
        """The HSDS page: its counts first, then `contents`."""
        pages = max(1, math.ceil(self.total_items / self.per_page))
        return {
            "total_items": self.total_items, "total_pages": pages, "page_number": self.page, "size": len(self.contents),
            "first_page": self.page == 1, "last_page": self.page >= pages, "empty": self.total_items == 0,
            "contents": self.contents,
        }


def point_for(postcode: str) -> Point:
    """The centre of a postcode's district and the area keys that cover it; BadFilter if unknown."""
    district = gazetteer().find_district(postcode)
    if district is None or district.lat is None or district.long is None:
        raise BadFilter(f"postcode {postcode!r} is not a UK postcode or postcode district we know (write it like TS18 1AB or TS18)")
    council = gazetteer().councils.get(district.council_code or "")
    keys = tuple(areas.keys_covering(council)) if council else ()
    return Point(district.district, district.lat, district.long, keys)


# --- services ---------------------------------------------------------------------------------
def _term_condition(term_id: str) -> Any:
    """Services carrying one of our terms, by its UUID or its code."""
    for vocabulary, key in hsds.all_terms():
        if term_id in (key, hsds.term_id(vocabulary, key)):
            if vocabulary == hsds.NEEDS_VOCABULARY:
                return exists().where(service_taxonomy.c.service_id == Service.id, service_taxonomy.c.taxonomy_term_id == key)
            return exists().where(Eligibility.service_id == Service.id, Eligibility.eligibility == key)
    raise BadFilter(f"taxonomy_term_id {term_id!r} is not one of our taxonomy terms (GET /taxonomy_terms lists them)")


def _taxonomy_condition(taxonomy: str) -> Any:
    for vocabulary in hsds.TAXONOMIES:
        if taxonomy in (vocabulary, hsds.taxonomy_id(vocabulary)):
            if vocabulary == hsds.NEEDS_VOCABULARY:
                return exists().where(service_taxonomy.c.service_id == Service.id)
            return exists().where(Eligibility.service_id == Service.id)
    raise BadFilter(f"taxonomy_id {taxonomy!r} is not one of our taxonomies (GET /taxonomies lists them)")


def _service_conditions(filters: Filters) -> list[Any]:
    """The WHERE clauses every list of services (or their locations) shares."""
    conditions = [Service.offered == true()]
    for word in (filters.search or "").split()[:8]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        conditions.append(or_(Service.name.ilike(pattern), Service.description.ilike(pattern)))
    if filters.taxonomy_term_id:
        conditions.append(_term_condition(filters.taxonomy_term_id))
    if filters.taxonomy_id:
        conditions.append(_taxonomy_condition(filters.taxonomy_id))
    if filters.organization_id:
        org = select(Organization.id).where(or_(Organization.uuid == filters.organization_id, Organization.id == filters.organization_id))
        conditions.append(Service.organization_id.in_(org.scalar_subquery()))
    if filters.modified_after:
        conditions.append(Service.modified_at >= filters.modified_after)
    if filters.point:
        covered = exists().where(ServiceArea.service_id == Service.id, ServiceArea.area_key.in_(filters.point.area_keys))
        conditions.append(covered)
    return conditions


def _near(session: Session, filters: Filters, key: Any) -> list[tuple[Any, float]]:
    """(key, metres) for every location within `filters.proximity` of the point, nearest first."""
    point, metres = filters.point, float(filters.proximity or 0)
    assert point is not None
    dlat = metres / METRES_PER_DEGREE
    dlong = metres / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(point.lat))))
    rows = session.execute(
        select(key, Location.latitude, Location.longitude)
        .select_from(Location)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(Location.latitude.between(point.lat - dlat, point.lat + dlat), Location.longitude.between(point.long - dlong, point.long + dlong))
        .where(*_service_conditions(filters))
    ).all()
    best: dict[Any, float] = {}
    for found, lat, long in rows:
        distance = _metres(point.lat, point.long, lat, long)
        if distance <= metres and distance < best.get(found, math.inf):
            best[found] = distance
    return sorted(best.items(), key=lambda item: (item[1], str(item[0])))


def _metres(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(long2 - long1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# How many match a list's filters, kept COUNT_SECONDS: a tool paging through the directory asks the
# same count once per page, and counting 100,000 rows is most of a page's time on PostgreSQL. Kept
# per database and per latest change (max modified_at, read from its index), so any change to an
# entry counts afresh; only a row deleted outright could leave a count that old.
COUNT_SECONDS = 30.0
_counts: dict[tuple, tuple[float, int]] = {}
_counts_lock = threading.Lock()


def _count(session: Session, base: Any, cache_key: tuple) -> int:
    now = time.monotonic()
    with _counts_lock:
        cached = _counts.get(cache_key)
    if cached is not None and now - cached[0] < COUNT_SECONDS:
        return cached[1]
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    with _counts_lock:
        if len(_counts) > 1000:
            _counts.clear()
        _counts[cache_key] = (now, total)
    return total


def _paged(session: Session, filters: Filters, page: int, per_page: int, key: Any, load: Callable[[list], list]) -> tuple[list, int]:
    """One page of the things `key` identifies (Service.id or ServiceAtLocation.id), and how many match."""
    if filters.proximity:
        near = _near(session, filters, key)
        keys = [k for k, _ in near[(page - 1) * per_page: page * per_page]]
        return load(keys), len(near)
    base = select(key).join(Service, Service.id == ServiceAtLocation.service_id) if key is ServiceAtLocation.id else select(key)
    base = base.where(*_service_conditions(filters))
    latest = session.execute(select(func.max(Service.modified_at))).scalar()
    total = _count(session, base, (str(session.get_bind().url), latest, str(key), filters))
    keys = session.execute(base.order_by(key).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return load(keys), total


def list_services(session: Session, filters: Filters, page: int, per_page: int, full: bool = False) -> Page:
    """GET /services: one-to-one fields (or everything, `full`), by key or nearest first."""
    def load(keys: list[str]) -> list[dict[str, Any]]:
        options = FULL_SERVICE if full else (selectinload(Service.organization), selectinload(Service.eligibility))
        found = {s.id: s for s in session.execute(select(Service).where(Service.id.in_(keys)).options(*options)).scalars()}
        shape = hsds.service_full if full else hsds.service_brief
        return [shape(found[k]) for k in keys if k in found]

    contents, total = _paged(session, filters, page, per_page, Service.id, load)
    return Page(contents, total, page, per_page)


def get_service(session: Session, service_id: str) -> dict[str, Any] | None:
    """GET /services/{id}: by UUID (or our key), whatever its state."""
    s = session.execute(
        select(Service).where(or_(Service.uuid == service_id, Service.id == service_id)).options(*FULL_SERVICE)
    ).scalars().first()
    if s is None:
        return None
    successor = session.get(Service, s.successor_id) if s.successor_id else None
    return hsds.service_full(s, successor)


# --- services at locations --------------------------------------------------------------------
_SAL_OPTIONS = (
    selectinload(ServiceAtLocation.location),
    selectinload(ServiceAtLocation.service).selectinload(Service.organization),
    selectinload(ServiceAtLocation.service).selectinload(Service.eligibility),
)


def list_service_at_locations(session: Session, filters: Filters, page: int, per_page: int) -> Page:
    """GET /service_at_locations: each with its location in full and its service in brief."""
    def load(keys: list[str]) -> list[dict[str, Any]]:
        found = {x.id: x for x in session.execute(select(ServiceAtLocation).where(ServiceAtLocation.id.in_(keys)).options(*_SAL_OPTIONS)).scalars()}
        return [hsds.service_at_location_json(found[k]) for k in keys if k in found]

    contents, total = _paged(session, filters, page, per_page, ServiceAtLocation.id, load)
    return Page(contents, total, page, per_page)


def get_service_at_location(session: Session, link_id: str) -> dict[str, Any] | None:
    link = session.execute(
        select(ServiceAtLocation).where(or_(ServiceAtLocation.uuid == link_id, ServiceAtLocation.id == link_id)).options(*_SAL_OPTIONS)
    ).scalars().first()
    return hsds.service_at_location_json(link) if link is not None else None


# --- organisations ----------------------------------------------------------------------------
def list_organizations(session: Session, filters: Filters, page: int, per_page: int) -> Page:
    """GET /organizations: those with at least one service on offer."""
    offering = exists().where(Service.organization_id == Organization.id, Service.offered == true())
    conditions = [offering] + [Organization.name.ilike(f"%{w}%") for w in (filters.search or "").split()[:8]]
    total = session.execute(select(func.count()).select_from(Organization).where(*conditions)).scalar_one()
    orgs = session.execute(
        select(Organization).where(*conditions).order_by(Organization.id).limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    return Page([hsds.organization_brief(o) for o in orgs], total, page, per_page)


def get_organization(session: Session, org_id: str) -> dict[str, Any] | None:
    """GET /organizations/{id}: with its phones and its services in brief (each with its status)."""
    org = session.execute(
        select(Organization).where(or_(Organization.uuid == org_id, Organization.id == org_id))
        .options(selectinload(Organization.phones), selectinload(Organization.services).selectinload(Service.eligibility))
    ).scalars().first()
    if org is None:
        return None
    return hsds.organization_full(org, sorted(org.services, key=lambda s: s.id))


# --- taxonomies -------------------------------------------------------------------------------
def list_taxonomies(page: int, per_page: int) -> Page:
    everything = [hsds.taxonomy_json(v) for v in hsds.TAXONOMIES]
    return Page(everything[(page - 1) * per_page: page * per_page], len(everything), page, per_page)


def get_taxonomy(taxonomy: str) -> dict[str, Any] | None:
    return next((hsds.taxonomy_json(v) for v in hsds.TAXONOMIES if taxonomy in (v, hsds.taxonomy_id(v))), None)


def list_taxonomy_terms(filters: Filters, page: int, per_page: int) -> Page:
    """GET /taxonomy_terms (filters: taxonomy_id, search)."""
    terms = hsds.all_terms()
    if filters.taxonomy_id:
        vocabulary = next((v for v in hsds.TAXONOMIES if filters.taxonomy_id in (v, hsds.taxonomy_id(v))), None)
        if vocabulary is None:
            raise BadFilter(f"taxonomy_id {filters.taxonomy_id!r} is not one of our taxonomies (GET /taxonomies lists them)")
        terms = [t for t in terms if t[0] == vocabulary]
    words = (filters.search or "").lower().split()
    names = {**NEEDS, **ELIGIBILITY}
    terms = [t for t in terms if all(w in names[t[1]].lower() or w in t[1] for w in words)]
    chosen = terms[(page - 1) * per_page: page * per_page]
    return Page([hsds.term_json(v, k) for v, k in chosen], len(terms), page, per_page)


def get_taxonomy_term(term_id: str) -> dict[str, Any] | None:
    return next((hsds.term_json(v, k) for v, k in hsds.all_terms() if term_id in (k, hsds.term_id(v, k))), None)

