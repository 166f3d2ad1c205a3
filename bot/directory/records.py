"""Directory entries as plain records, checked field by field before anything is written.

Seed YAML and Open Referral UK JSON are both read into `ServiceRecord`s; `upsert`
writes one (inserting or updating by id, so loading a file twice changes nothing the
second time).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.directory import areas, search, staff_edits
from bot.directory.models import (
    CLOSED,
    REPLACED,
    STATES,
    UNCHECKED,
    VERIFIED,
    Eligibility,
    Location,
    Organization,
    Phone,
    Service,
    ServiceArea,
    ServiceAtLocation,
    SourceDocument,
    TaxonomyTerm,
)
from bot.directory.taxonomy import AUDIENCE_ELIGIBILITY, NEEDS
from bot.geo import gazetteer

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,119}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UK_PHONE = re.compile(r"^(?:\+44\s?|0)[0-9 ()-]{8,16}$")
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


class RecordError(ValueError):
    """A record that cannot be loaded; the message names the record and the field."""

    def __init__(self, record: str, field_name: str, problem: str) -> None:
        super().__init__(f"{record}: {field_name}: {problem}")
        self.record, self.field_name, self.problem = record, field_name, problem


@dataclass
class LocationRecord:
    id: str
    name: str
    address: str | None = None
    postcode: str | None = None
    prison_id: str | None = None
    council_code: str | None = None
    latitude: float | None = None  # WGS84, as imported; else the postcode district's centre
    longitude: float | None = None


@dataclass
class ServiceRecord:
    id: str
    name: str
    description: str
    organization_id: str
    organization_name: str
    organization_description: str = ""
    organization_url: str | None = None
    organization_email: str | None = None
    organization_phone: str | None = None
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    phones: list[str] | None = None  # every number, in order, when staff gave more than one (else `phone`)
    status: str = "active"
    opening_times: str | None = None
    needs: list[str] = field(default_factory=list)
    eligibility: list[str] = field(default_factory=list)
    area_keys: list[str] = field(default_factory=list)
    area_descriptions: dict[str, str] = field(default_factory=dict)
    locations: list[LocationRecord] = field(default_factory=list)
    source_id: str | None = None
    source_title: str | None = None
    source_published: str | None = None
    source_reference: str | None = None
    quote: str | None = None
    last_verified: date | None = None  # the date of the last check
    verified_by: str | None = None
    state: str = UNCHECKED
    checked_source: str | None = None
    successor_id: str | None = None
    modified_at: datetime | None = None  # an import's last_modified: kept when the entry is new here


class Checker:
    """Field checks that name the record being read."""

    def __init__(self, record: str) -> None:
        self.record = record

    def fail(self, field_name: str, problem: str) -> RecordError:
        return RecordError(self.record, field_name, problem)

    def text(self, data: Mapping[str, Any], name: str, required: bool = False, max_len: int = 2000) -> str | None:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, "is required")
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.fail(name, f"must be text, not {type(value).__name__}")
        value = str(value).strip()
        if len(value) > max_len:
            raise self.fail(name, f"is {len(value)} characters; at most {max_len}")
        return value

    def ident(self, data: Mapping[str, Any], name: str = "id") -> str:
        value = self.text(data, name, required=True, max_len=120)
        if not _ID.match(value):
            raise self.fail(name, f"{value!r} is not a usable id (letters, digits, . _ : / -)")
        return value

    def email(self, data: Mapping[str, Any], name: str = "email") -> str | None:
        value = self.text(data, name)
        if value and not _EMAIL.match(value):
            raise self.fail(name, f"{value!r} is not an email address")
        return value

    def url(self, data: Mapping[str, Any], name: str = "url") -> str | None:
        value = self.text(data, name)
        if value and not re.match(r"^(?:https?://)?[\w.-]+\.[a-z]{2,}(?:[/?#].*)?$", value, re.I):
            raise self.fail(name, f"{value!r} is not a web address")
        return value

    def phone(self, value: Any, name: str = "phone") -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _UK_PHONE.match(value.strip()):
            raise self.fail(name, f"{value!r} is not a UK phone number")
        return value.strip()

    def keys(self, values: Any, name: str, allowed: Mapping[str, str]) -> list[str]:
        if values is None:
            return []
        if not isinstance(values, list):
            raise self.fail(name, "must be a list")
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise self.fail(name, f"unknown value(s) {', '.join(map(repr, unknown))}; known: {', '.join(allowed)}")
        return list(dict.fromkeys(values))

    def area(self, spec: Any, name: str) -> str:
        if not isinstance(spec, str):
            raise self.fail(name, "must be text")
        try:
            return areas.area_key(spec) if ":" in spec or spec.strip().lower() in (areas.UK, areas.ENGLAND_AND_WALES) else areas.area_key_from_name(spec)
        except areas.UnknownArea as exc:
            raise self.fail(name, str(exc)) from None

    def day(self, data: Mapping[str, Any], name: str) -> date | None:
        value = data.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise self.fail(name, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def freshness(self, record: "ServiceRecord", data: Mapping[str, Any], *, state: str = "state", checked: str = "checked",
                  source: str = "checked_source", successor: str = "successor") -> None:
        """The entry's state, last check and successor, read from `data` onto `record`.

        A verified, replaced or closed entry must say when and against what it was checked;
        a replaced one must name its successor, and only a replaced one may.
        """
        value = self.text(data, state) or UNCHECKED
        if value not in STATES:
            raise self.fail(state, f"{value!r} is not a state; use one of {', '.join(STATES)}")
        record.state = value
        record.last_verified = self.day(data, checked)
        record.checked_source = self.text(data, source, max_len=500)
        record.successor_id = self.ident(data, successor) if data.get(successor) else None
        if value != UNCHECKED and (record.last_verified is None or not record.checked_source):
            raise self.fail(checked if record.last_verified is None else source,
                            f"a {value} entry needs the date ({checked}) and source ({source}) of its check")
        if value == REPLACED and not record.successor_id:
            raise self.fail(successor, "a replaced entry must name its successor (a service id)")
        if value != REPLACED and record.successor_id:
            raise self.fail(successor, f"only a replaced entry has a successor; this one is {value}")
        if record.successor_id == record.id:
            raise self.fail(successor, "an entry cannot succeed itself")
        if value in (REPLACED, CLOSED):
            record.status = "inactive"  # what Open Referral calls an entry no longer offered

    def published(self, value: Any, name: str) -> str | None:
        if value in (None, ""):
            return None
        if not _DATE.match(str(value)):
            raise self.fail(name, f"{value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
        return str(value)


def prison_location(check: Checker, service_id: str, prison_name: str) -> LocationRecord:
    """A location record for the prison a service is based at, from the register."""
    prison = gazetteer().find_prison(prison_name)
    if prison is None:
        raise check.fail("prison", f"{prison_name!r} is not in the prison register")
    return LocationRecord(
        id=f"prison-{prison.id}", name=prison.display_name, address=prison.address, postcode=prison.postcode,
        prison_id=prison.id, council_code=prison.council_code,
    )


# --- writing --------------------------------------------------------------------------
def ensure_taxonomy(session: Session) -> None:
    """Our needs vocabulary as taxonomy terms."""
    existing = set(session.execute(select(TaxonomyTerm.id)).scalars())
    session.add_all(TaxonomyTerm(id=k, name=v) for k, v in NEEDS.items() if k not in existing)
    session.flush()


def upsert(session: Session, record: ServiceRecord) -> str:
    """Insert or update one service with its organisation, areas, needs, phones and locations.

    Returns "created", "updated" or "unchanged".
    """
    if record.source_id:
        source = session.get(SourceDocument, record.source_id) or SourceDocument(id=record.source_id, title=record.source_title or record.source_id)
        source.title = record.source_title or source.title
        source.published = record.source_published or source.published
        source.reference = record.source_reference or source.reference
        session.add(source)

    org = session.get(Organization, record.organization_id)
    if org is None:
        org = Organization(id=record.organization_id, name=record.organization_name)
        session.add(org)
    org.name = record.organization_name
    org.description = record.organization_description or org.description or ""
    org.url = record.organization_url or org.url
    org.email = record.organization_email or org.email
    if record.organization_phone and record.organization_phone not in [p.number for p in org.phones]:
        org.phones.append(Phone(number=record.organization_phone))

    service = session.get(Service, record.id)
    before = _snapshot(service) if service is not None else None
    if service is None:
        service = Service(id=record.id)
        if record.modified_at is not None:
            service.modified_at = record.modified_at
        session.add(service)
    service.organization = org
    service.name, service.description = record.name, record.description
    service.url, service.email = record.url, record.email
    service.opening_times, service.source_id, service.source_quote = record.opening_times, record.source_id, record.quote
    # The newest check wins: reloading the seed does not undo a later check staff recorded
    # with `bot directory verify`.
    newer = record.last_verified is not None and (service.last_verified is None or record.last_verified >= service.last_verified)
    if newer or (record.last_verified is None and service.last_verified is None):
        service.last_verified, service.verified_by = record.last_verified, record.verified_by
        service.state, service.checked_source, service.successor_id = record.state, record.checked_source, record.successor_id
        service.status = record.status

    # Keep the rows that stay (a unique row deleted and re-inserted in one flush would clash).
    numbers = record.phones if record.phones is not None else [record.phone] if record.phone else []
    service.phones = _keep(service.phones, numbers, lambda p: p.number, lambda n: Phone(number=n))
    service.taxonomy_terms = [session.get(TaxonomyTerm, n) for n in record.needs]
    service.eligibility = _keep(service.eligibility, record.eligibility, lambda e: e.eligibility, lambda e: Eligibility(eligibility=e))
    set_suits(service, record.eligibility)
    service.areas = _keep(service.areas, record.area_keys, lambda a: a.area_key, lambda k: ServiceArea(area_key=k))
    for area in service.areas:
        area.description = record.area_descriptions.get(area.area_key)
    links = []
    for loc in record.locations:
        location = session.get(Location, loc.id) or Location(id=loc.id, name=loc.name)
        location.name, location.address, location.postcode = loc.name, loc.address, loc.postcode
        location.prison_id, location.council_code = loc.prison_id, loc.council_code
        if loc.latitude is not None and loc.longitude is not None:
            location.latitude, location.longitude = loc.latitude, loc.longitude
        session.add(location)
        link_id = f"{record.id}@{loc.id}"
        links.append(session.get(ServiceAtLocation, link_id) or ServiceAtLocation(id=link_id, service=service, location=location))
    service.locations = links
    session.flush()
    if before is None:
        return "created"
    return "unchanged" if _snapshot(service) == before else "updated"


def set_suits(service: Service, eligibility: list[str]) -> None:
    """The audience flags search ranks by, from who the service is for."""
    groups = set(eligibility)
    service.suits_family = bool(groups & AUDIENCE_ELIGIBILITY["family"])
    service.suits_young_person = bool(groups & AUDIENCE_ELIGIBILITY["young_person"])
    service.suits_professional = bool(groups & AUDIENCE_ELIGIBILITY["professional"])
    service.professionals_only = groups == {"professionals"}


def _keep(existing: list, wanted: list, key, make) -> list:
    """The rows for `wanted` keys: existing ones reused, new ones made."""
    have = {key(row): row for row in existing}
    return [have.get(k) or make(k) for k in wanted]


def _snapshot(service: Service) -> tuple:
    return (
        service.name, service.description, service.url, service.email, service.status, service.opening_times,
        service.source_id, service.source_quote, service.last_verified, service.organization_id,
        service.state, service.checked_source, service.successor_id,
        tuple(sorted(p.number for p in service.phones)),
        tuple(sorted(t.id for t in service.taxonomy_terms)),
        tuple(sorted(e.eligibility for e in service.eligibility)),
        tuple(sorted(a.area_key for a in service.areas)),
        tuple(sorted(link.location_id or link.location.id for link in service.locations)),
    )


def mark_verified(session: Session, service_id: str, by: str, *, source: str, on: date | None = None) -> Service:
    """Staff have checked this entry against `source` and found it current: record who, when
    and against what. A replaced or closed entry cannot be verified (it is not offered)."""
    service = session.get(Service, service_id)
    if service is None:
        raise LookupError(f"no service with id {service_id!r}")
    if service.state in (REPLACED, CLOSED):
        raise RecordError(service_id, "state", f"is {service.state}; a {service.state} entry is not verified")
    service.last_verified, service.verified_by = on or date.today(), by
    service.state, service.successor_id = VERIFIED, None
    if not (source or "").strip():
        raise RecordError(service_id, "checked_source", "say what the entry was checked against (a URL or document)")
    service.checked_source = source.strip()
    staff_edits.note(session, service_id, staff_edits.FIELDS, on=service.last_verified)  # a later import keeps what was checked
    search.forget_curated()  # this process sees the check at once
    return service


def check_successors(session: Session, label: str = "directory") -> None:
    """Every replaced entry's successor exists and the chain of successors ends in an entry
    that is offered (no loops, no closed ends)."""
    states = dict(session.execute(select(Service.id, Service.state)).all())
    successors = dict(session.execute(select(Service.id, Service.successor_id).where(Service.state == REPLACED)).all())
    for service_id, successor in successors.items():
        seen = {service_id}
        while successor in successors:
            if successor in seen:
                raise RecordError(f"{label}: {service_id}", "successor", f"the successors loop back to {successor!r}")
            seen.add(successor)
            successor = successors[successor]
        if successor not in states:
            raise RecordError(f"{label}: {service_id}", "successor", f"{successor!r} is not a service in the directory")
        if states[successor] == CLOSED:
            raise RecordError(f"{label}: {service_id}", "successor", f"{successor!r} is closed; name the service that carries on")


def remove_missing(session: Session, keep_ids: set[str], source_id: str) -> int:
    """Delete services from `source_id` that a reload no longer contains."""
    stale = [s for s in session.execute(select(Service.id).where(Service.source_id == source_id)).scalars() if s not in keep_ids]
    if stale:
        session.execute(delete(Service).where(Service.id.in_(stale)))
    return len(stale)
