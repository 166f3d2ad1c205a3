"""Finding services: by need, place and who is asking; local first, then county, region, nation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.directory import areas
from bot.directory.models import (
    Location,
    Organization,
    Phone,
    Service,
    ServiceArea,
    ServiceAtLocation,
    SourceDocument,
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


@dataclass(frozen=True)
class Page:
    results: list[Found]
    offset: int
    has_more: bool
    local_count: int  # how many of the matches looked at serve the council itself (its own or its county's)


_SUITS = {"family": Service.suits_family, "young_person": Service.suits_young_person, "professional": Service.suits_professional}


def search_services(
    session: Session,
    *,
    council: Council,
    need: str | None = None,
    audience: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page:
    """Active services serving `council`: nearest first (its own council, its county, region,
    nation, then national ones), then those suiting `audience`, then the most recently checked.

    One small query per distance, nearest first, stopping once the page is full: most
    searches are answered by the council's own services alone.
    """
    tiers: dict[int, list[str]] = {}
    for key, scope in areas.keys_covering(council).items():
        tiers.setdefault(scope, []).append(key)
    wanted = offset + limit + 1  # one more than the page shows, to know whether there are more
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for scope in sorted(tiers):
        query = (
            select(Service.id)
            .join(ServiceArea, ServiceArea.service_id == Service.id)
            .where(ServiceArea.area_key.in_(tiers[scope]), Service.status == "active")
        )
        if need:
            query = query.join(
                service_taxonomy,
                and_(service_taxonomy.c.service_id == Service.id, service_taxonomy.c.taxonomy_term_id == need),
            )
        order = []
        if audience in _SUITS:
            order.append(case((_SUITS[audience], 0), else_=1))
        if audience != "professional":
            # Contacts only for professionals are offered to those who say they are one; most
            # people who have not said who they are are family.
            query = query.where(Service.professionals_only.is_(False))
        order += [Service.last_verified.desc().nulls_last(), Service.name, Service.id]
        # No DISTINCT (PostgreSQL would need the ORDER BY terms selected): a service listed twice in
        # one tier, or already found nearer, is skipped below, so fetch enough rows to allow for it.
        query = query.order_by(*order).limit(len(tiers[scope]) * wanted + len(seen))
        for service_id in session.execute(query).scalars():
            if service_id not in seen and len(found) < wanted:
                seen.add(service_id)
                found.append((service_id, scope))
        if len(found) >= wanted:
            break
    page = found[offset : offset + limit]
    details = {row.id: row for row in session.execute(_details_query().where(Service.id.in_([i for i, _ in page])))}
    return Page(
        results=[_found(details[i], scope) for i, scope in page],
        offset=offset,
        has_more=len(found) > offset + limit,
        local_count=sum(1 for _, scope in found if scope <= areas.COUNTY),
    )


def _details_query():
    """What a result shows, in one query: the service, its organisation, its source's date, and
    its first phone number (the service's own, else the organisation's)."""
    own_phone = select(Phone.number).where(Phone.service_id == Service.id).order_by(Phone.id).limit(1).scalar_subquery()
    org_phone = select(Phone.number).where(Phone.organization_id == Service.organization_id).order_by(Phone.id).limit(1).scalar_subquery()
    return (
        select(
            Service.id, Service.name, Service.description, Service.last_verified,
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
    """Services based at a prison (visitors' centres, family services)."""
    query = (
        _details_query()
        .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(Location.prison_id == prison_id, Service.status == "active")
        .order_by(Service.name)
        .limit(limit)
    )
    return [_found(row, areas.LOCAL) for row in session.execute(query)]


def _found(row, scope: int) -> Found:
    return Found(
        id=row.id, name=row.name, organization=row.organization, description=row.description,
        phone=row.phone, url=row.url, email=row.email, scope=scope,
        as_of=row.last_verified or row.published, verified=row.last_verified is not None,
    )


def council_for(place: str) -> Council | None:
    """The current council for an `area` slot value or free text."""
    return areas.find_council(place) if place else None


def prison_id_for(name: str) -> str | None:
    prison = gazetteer().find_prison(name) if name else None
    return prison.id if prison else None
