"""The directory as Human Services Data Specification 3.0 JSON (what Open Referral UK profiles):
one shape for the directory API's responses (bot.directory_api) and for `bot directory export`,
so an export imports back unchanged (bot.directory.oruk reads it).

Ids are each record's stable UUID (bot.directory.models.stable_uuid); the child records HSDS
wants ids for (phones, areas, schedules, addresses, attributes) get UUIDs derived from their
parent's. Optional fields without a value are left out, as Open Referral UK asks. What HSDS has
no field for travels in "x_families_connect": our key for the entry, its organisation and its
locations (so an export imports back under the same keys), its state (verified, unchecked,
replaced, closed), the source document and quote it came from, the source of its last check and
its successor. Who checked an entry (a worker's name) is never published.
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable

from bot.directory import areas
from bot.directory.models import (
    OFFERED_STATES,
    UUID_NAMESPACE,
    Location,
    Organization,
    Phone,
    Service,
    ServiceAtLocation,
    stable_uuid,
)
from bot.directory.taxonomy import ELIGIBILITY, NEEDS
from bot.geo import gazetteer

VERSION = "3.0"
PROFILE = "https://openreferraluk.org/"
EXTENSION = "x_families_connect"
NEEDS_VOCABULARY = "families-connect-needs"
ELIGIBILITY_VOCABULARY = "families-connect-eligibility"
TAXONOMIES = {
    NEEDS_VOCABULARY: ("Families Connect needs", "What a service helps with, as the Families Connect assistant asks about it."),
    ELIGIBILITY_VOCABULARY: ("Families Connect eligibility", "Who a service is for."),
}
PRISON_REGISTER = "Ministry of Justice prison register code"


def child_uuid(parent: str, *parts: object) -> str:
    """A stable UUID for a child record HSDS needs an id for (a phone, an area, an address)."""
    return str(uuid.uuid5(UUID_NAMESPACE, ":".join([parent, *map(str, parts)])))


def _kept(data: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """`data` without its empty optional fields (None, "" or [])."""
    keep = set(required)
    return {k: v for k, v in data.items() if k in keep or v not in (None, "", [], {})}


def timestamp(value: Any) -> str | None:
    """A stored UTC datetime as RFC 3339 ("2026-12-04T22:00:00Z")."""
    return value.replace(microsecond=0).isoformat() + "Z" if value is not None else None


def status(service: Service) -> str:
    """HSDS status: offered entries are active; replaced and closed ones inactive."""
    return "active" if service.state in OFFERED_STATES and service.status == "active" else "inactive"


# --- taxonomies and terms ------------------------------------------------------------------
def taxonomy_id(vocabulary: str) -> str:
    return stable_uuid("taxonomy", vocabulary)


def taxonomy_json(vocabulary: str) -> dict[str, Any]:
    name, description = TAXONOMIES[vocabulary]
    return {"id": taxonomy_id(vocabulary), "name": name, "description": description, "version": "1"}


def term_id(vocabulary: str, key: str) -> str:
    """A term's UUID: the stored one for needs (TaxonomyTerm.uuid has the same value), derived for eligibility."""
    return stable_uuid("taxonomy_term" if vocabulary == NEEDS_VOCABULARY else "eligibility", key)


def term_json(vocabulary: str, key: str) -> dict[str, Any]:
    """One term of our vocabularies: its key is its `code`."""
    name = (NEEDS if vocabulary == NEEDS_VOCABULARY else ELIGIBILITY)[key]
    return {
        "id": term_id(vocabulary, key), "code": key, "name": name, "description": name,
        "taxonomy": vocabulary, "taxonomy_id": taxonomy_id(vocabulary), "language": "en",
    }


def all_terms() -> list[tuple[str, str]]:
    """Every (vocabulary, key) we publish, in a fixed order."""
    return [(NEEDS_VOCABULARY, k) for k in NEEDS] + [(ELIGIBILITY_VOCABULARY, k) for k in ELIGIBILITY]


def _attribute(link_id: str, vocabulary: str, key: str) -> dict[str, Any]:
    term = term_json(vocabulary, key)
    return {
        "id": child_uuid(link_id, "attribute", term["id"]), "link_id": link_id, "link_type": vocabulary,
        "link_entity": "service", "taxonomy_term_id": term["id"], "taxonomy_term": term,
    }


# --- organisations ---------------------------------------------------------------------------
def _phone(phone: Phone, owner: str, owner_field: str, index: int) -> dict[str, Any]:
    return _kept({"id": child_uuid(owner, "phone", index), owner_field: owner, "number": phone.number, "description": phone.description}, ("id", "number"))


def organization_brief(org: Organization) -> dict[str, Any]:
    """An organisation as an item of GET /organizations (its one-to-one fields)."""
    return _kept({"id": org.uuid, "name": org.name, "description": org.description or "", "website": org.url, "email": org.email}, ("id", "name", "description"))


def organization_full(org: Organization, services: Iterable[Service] = ()) -> dict[str, Any]:
    """An organisation with its phones (and, for GET /organizations/{id}, its services in brief)."""
    out = organization_brief(org)
    out["phones"] = [_phone(p, org.uuid, "organization_id", i) for i, p in enumerate(org.phones)]
    out["services"] = [service_brief(s, with_organization=False) for s in services]
    return _kept(out, ("id", "name", "description"))


# --- locations -------------------------------------------------------------------------------
def _address(location: Location) -> dict[str, Any] | None:
    """The location's postal address, with the town and council from its postcode district."""
    if not (location.address or location.postcode):
        return None
    district = gazetteer().find_district(location.postcode) if location.postcode else None
    council = gazetteer().councils.get(location.council_code or (district.council_code if district else "") or "")
    return {
        "id": child_uuid(location.uuid, "address"), "location_id": location.uuid,
        "address_1": location.address or "", "city": district.post_town if district and district.post_town else "",
        "state_province": council.name if council else "", "postal_code": location.postcode or "",
        "country": "GB", "address_type": "physical",
    }


def location_json(location: Location) -> dict[str, Any]:
    """A location: a physical place, with coordinates when known and the prison it is, if one."""
    address = _address(location)
    out = {
        "id": location.uuid, "location_type": "physical", "name": location.name, "description": location.description,
        "latitude": location.latitude, "longitude": location.longitude,
        "addresses": [address] if address else [],
    }
    if location.prison_id:
        out.update(external_identifier=location.prison_id, external_identifier_type=PRISON_REGISTER)
    return _kept(out, ("id", "location_type"))


def service_at_location_json(link: ServiceAtLocation, *, with_service: bool = True) -> dict[str, Any]:
    """A service at a location (GET /service_at_locations): the location in full, the service in brief."""
    out = {
        "id": link.uuid, "service_id": link.service.uuid, "location_id": link.location.uuid,
        "location": location_json(link.location),
    }
    if with_service:
        out["service"] = service_brief(link.service)
    return out


# --- services --------------------------------------------------------------------------------
def service_brief(s: Service, *, with_organization: bool = True) -> dict[str, Any]:
    """A service as an item of GET /services: its one-to-one fields and its organisation's."""
    eligibility = [ELIGIBILITY.get(e.eligibility, e.eligibility) for e in sorted(s.eligibility, key=lambda e: e.eligibility)]
    out = {
        "id": s.uuid, "organization_id": s.organization.uuid, "name": s.name, "description": s.description,
        "url": s.url, "email": s.email, "status": status(s),
        "eligibility_description": "; ".join(eligibility),
        "assured_date": s.last_verified.isoformat() if s.last_verified else None,
        "last_modified": timestamp(s.modified_at),
    }
    if with_organization:
        out["organization"] = organization_brief(s.organization)
    return _kept(out, ("id", "name", "status"))


def service_full(s: Service, successor: Service | None = None) -> dict[str, Any]:
    """A service with everything about it (GET /services/{id}, and each record of an export)."""
    out = service_brief(s, with_organization=False)
    out["phones"] = [_phone(p, s.uuid, "service_id", i) for i, p in enumerate(s.phones)]
    if s.opening_times:
        out["schedules"] = [{"id": child_uuid(s.uuid, "schedule"), "service_id": s.uuid, "description": s.opening_times}]
    out["service_areas"] = [
        _kept({"id": child_uuid(s.uuid, "area", a.area_key), "service_id": s.uuid, "name": areas.area_name(a.area_key), "description": a.description}, ("id",))
        for a in sorted(s.areas, key=lambda a: a.area_key)
    ]
    links = sorted(s.locations, key=lambda link: link.id)
    out["service_at_locations"] = [service_at_location_json(link, with_service=False) for link in links]
    out["organization"] = organization_full(s.organization)
    out["attributes"] = [_attribute(s.uuid, NEEDS_VOCABULARY, t.id) for t in sorted(s.taxonomy_terms, key=lambda t: t.id)] + [
        _attribute(s.uuid, ELIGIBILITY_VOCABULARY, e.eligibility) for e in sorted(s.eligibility, key=lambda e: e.eligibility) if e.eligibility in ELIGIBILITY
    ]
    out[EXTENSION] = _extension(s, links, successor)
    return _kept(out, ("id", "name", "status"))


def _extension(s: Service, links: list[ServiceAtLocation], successor: Service | None) -> dict[str, Any]:
    """What HSDS has no field for (see the module's docstring)."""
    ext: dict[str, Any] = {
        "key": s.id, "organization_key": s.organization.id, "state": s.state,
        "location_keys": {link.location.uuid: link.location.id for link in links},
    }
    if s.source:
        ext["source"] = _kept({"id": s.source.id, "title": s.source.title, "published": s.source.published, "reference": s.source.reference})
    for key, value in (("quote", s.source_quote), ("checked_source", s.checked_source), ("successor", s.successor_id)):
        if value:
            ext[key] = value
    if successor is not None:
        ext["successor_service_id"] = successor.uuid
    return _kept(ext, ("key", "organization_key", "state"))
