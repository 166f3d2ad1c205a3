"""Open Referral UK (HSDS) JSON: reading councils' directories in, writing ours out.

Export writes every service as the directory API does (bot.directory.hsds: HSDS 3.0, fully
nested), as {"services": [...]}. Import reads that, a bare list, an API page ({"contents": [...]}
or ORUK 1's {"content": [...]}), and both shapes of a service: HSDS 3.0 (attributes with
taxonomy terms, service_areas[].name, locations' addresses, organization.website) and ORUK 1
(service_taxonomys, eligibilitys, service_areas[].service_area, physical_addresses,
organization.url). What HSDS has no field for travels in "x_families_connect" (bot.directory.hsds).

States map to HSDS `status`: verified and unchecked entries are "active", replaced and
closed ones "inactive"; `assured_date` is the date of the last check. A file without
our extension reads "active" with an assured_date as verified, "active" without one as
unchecked, and anything else as closed.

Import checks every record before writing any: an error names the record (its
position and id) and the field, and nothing is written. Re-importing updates
entries by id (our key, or the UUID we publish for it) and never duplicates them, and never
overwrites a value staff changed or checked on or after the record's own assured_date: that
value is kept and reported (bot.directory.conflicts).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from tqdm import tqdm

from bot.directory import conflicts, hsds, search, staff_edits
from bot.directory.models import CLOSED, OFFERED_STATES, UNCHECKED, VERIFIED, Location, Organization, Service, ServiceAtLocation
from bot.directory.records import Checker, LocationRecord, RecordError, ServiceRecord, check_successors, ensure_taxonomy, upsert
from bot.directory.taxonomy import ELIGIBILITY, NEEDS

VOCABULARY = hsds.NEEDS_VOCABULARY
EXTENSION = hsds.EXTENSION
_NEED_BY_NAME = {v.lower(): k for k, v in NEEDS.items()}
_ELIGIBILITY_BY_NAME = {v.lower(): k for k, v in ELIGIBILITY.items()}


class ImportFailed(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, errors: list[RecordError], total: int) -> None:
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in {total} record(s); nothing was imported:\n{shown}{more}")
        self.errors = errors


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)  # things skipped that are not errors
    conflicts: list[conflicts.Conflict] = field(default_factory=list)  # values staff vouched for since, kept


def _records_in(data: Any, path_name: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("services", "contents", "content"):
            if isinstance(data.get(key), list):
                return data[key]
    raise RecordError(path_name, "(top level)", 'expected a list of services, {"services": [...]} or {"contents": [...]}')


def read_file(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(str(path), "(file)", "no such file") from None
    except UnicodeDecodeError:
        raise RecordError(str(path), "(file)", "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RecordError(str(path), "(file)", f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return _records_in(data, str(path))


def parse_service(raw: Any, position: int, notes: list[str]) -> ServiceRecord:
    """One ORUK service as a checked record."""
    label = f"record {position + 1}"
    if isinstance(raw, dict) and raw.get("id"):
        label += f" (id {raw['id']})"
    check = Checker(label)
    if not isinstance(raw, dict):
        raise check.fail("(record)", "must be an object")
    org = raw.get("organization")
    if not isinstance(org, dict):
        raise check.fail("organization", "is required (an object with id and name)")
    ext = raw.get(EXTENSION) or {}
    if not isinstance(ext, dict):
        raise check.fail(EXTENSION, "must be an object")
    record = _service_fields(raw, org, ext, label)
    _read_state(record, raw, ext, label)
    _read_phones(record, raw, org, label)
    _read_areas(record, raw, check)
    _read_needs(record, raw, check, notes)
    _read_eligibility(record, raw, check, notes)
    _read_locations(record, raw, ext, label, check)
    return record


def _service_fields(raw: dict, org: dict, ext: dict, label: str) -> ServiceRecord:
    """The service's and its organization's own fields, and what our extension says of its source."""
    check, org_check, ext_check = Checker(label), Checker(f"{label}: organization"), Checker(f"{label}: {EXTENSION}")
    source = ext.get("source") or {}
    record = ServiceRecord(
        id=ext_check.ident(ext, "key") if ext.get("key") else check.ident(raw),
        name=check.text(raw, "name", required=True, max_len=200),
        description=check.text(raw, "description", max_len=2000) or "",
        organization_id=ext_check.ident(ext, "organization_key") if ext.get("organization_key") else org_check.ident(org),
        organization_name=org_check.text(org, "name", required=True, max_len=200),
        organization_description=org_check.text(org, "description") or "",
        organization_url=org_check.url(org, "website" if org.get("website") else "url"),
        organization_email=org_check.email(org),
        url=check.url(raw),
        email=check.email(raw),
        status=(check.text(raw, "status") or "active").lower(),
        opening_times=ext_check.text(ext, "opening_times") or _schedule_text(raw, check),
        last_verified=check.day(raw, "assured_date"),
        verified_by=ext_check.text(ext, "verified_by"),
        quote=ext_check.text(ext, "quote"),
        source_id=source.get("id") if isinstance(source, dict) else None,
        source_title=source.get("title") if isinstance(source, dict) else None,
        source_published=check.published(source.get("published"), f"{EXTENSION}.source.published") if isinstance(source, dict) else None,
        source_reference=source.get("reference") if isinstance(source, dict) else None,
        modified_at=_moment(check, raw.get("last_modified")),
    )
    if record.status not in ("active", "inactive", "defunct", "temporarily closed"):
        raise check.fail("status", f"{record.status!r} is not one of active, inactive, defunct, temporarily closed")
    return record


def _read_state(record: ServiceRecord, raw: dict, ext: dict, label: str) -> None:
    """The entry's state: from our extension when it has one, else from the HSDS status and assured_date."""
    check, ext_check = Checker(label), Checker(f"{label}: {EXTENSION}")
    if ext.get("state"):
        ext_check.freshness(record, {**ext, "checked": raw.get("assured_date")}, successor="successor")
        if record.state in OFFERED_STATES and record.status != "active":
            raise check.fail("status", f"is {record.status!r} but {EXTENSION}.state is {record.state!r}")
    elif record.status != "active":
        record.state = CLOSED
        record.checked_source = ext_check.text(ext, "checked_source", max_len=500)
    else:
        record.state = VERIFIED if record.last_verified else UNCHECKED
        record.checked_source = ext_check.text(ext, "checked_source", max_len=500)


def _read_phones(record: ServiceRecord, raw: dict, org: dict, label: str) -> None:
    """The service's phone numbers (each required to be valid) and its organization's first."""
    check, org_check = Checker(label), Checker(f"{label}: organization")
    numbers: list[str] = []
    for i, phone in enumerate(_list(check, raw, "phones")):
        number = check.phone(phone.get("number") if isinstance(phone, dict) else None, f"phones[{i}].number")
        if number is None:
            raise check.fail(f"phones[{i}].number", "is required")
        numbers += [number] if number not in numbers else []
    record.phone, record.phones = (numbers[0] if numbers else None), numbers
    for i, phone in enumerate(_list(org_check, org, "phones")):
        number = org_check.phone(phone.get("number") if isinstance(phone, dict) else None, f"phones[{i}].number")
        record.organization_phone = record.organization_phone or number


def _schedule_text(raw: dict, check: Checker) -> str | None:
    """Opening times as text: the first HSDS 3.0 schedule's description."""
    schedules = _list(check, raw, "schedules")
    first = schedules[0] if schedules and isinstance(schedules[0], dict) else {}
    return check.text(first, "description", max_len=500) if first else None


def _read_areas(record: ServiceRecord, raw: dict, check: Checker) -> None:
    """The areas served: at least one, each a council, region, nation or the whole of two or more."""
    service_areas = _list(check, raw, "service_areas")
    if not service_areas:
        raise check.fail("service_areas", "at least one service area is required (a council, region, nation, 'England and Wales' or 'United Kingdom')")
    for i, area in enumerate(service_areas):
        name = (area.get("service_area") or area.get("name")) if isinstance(area, dict) else None
        key = check.area(name, f"service_areas[{i}].service_area")
        if key not in record.area_keys:
            record.area_keys.append(key)
            # ORUK 1 names the area as the source wrote it; HSDS 3.0 has a name and a description.
            record.area_descriptions[key] = area.get("description") if "name" in area else name


def _terms(raw: dict, check: Checker) -> list[tuple[str, dict]]:
    """(field path, term) for every taxonomy term the service carries, in either shape."""
    found = []
    for i, item in enumerate(_list(check, raw, "service_taxonomys")):
        term = item.get("taxonomy") if isinstance(item, dict) else None
        if not isinstance(term, dict):
            raise check.fail(f"service_taxonomys[{i}].taxonomy", "must be an object with id and name")
        found.append((f"service_taxonomys[{i}].taxonomy", {**term, "taxonomy": term.get("vocabulary")}))
    for i, item in enumerate(_list(check, raw, "attributes")):
        term = item.get("taxonomy_term") if isinstance(item, dict) else None
        if not isinstance(term, dict):
            raise check.fail(f"attributes[{i}].taxonomy_term", "must be an object with id and name")
        found.append((f"attributes[{i}].taxonomy_term", term))
    return found


def _read_needs(record: ServiceRecord, raw: dict, check: Checker, notes: list[str]) -> None:
    """Our needs among the taxonomy terms; another vocabulary's terms are skipped with a note."""
    for path, term in _terms(raw, check):
        vocabulary = term.get("taxonomy") or term.get("vocabulary")
        if vocabulary == hsds.ELIGIBILITY_VOCABULARY:
            continue  # read by _read_eligibility
        term_id, term_name = str(term.get("code") or term.get("id") or ""), str(term.get("name") or "")
        need = term_id if term_id in NEEDS else _NEED_BY_NAME.get(term_name.lower())
        if need:
            record.needs.append(need)
        elif vocabulary == VOCABULARY:
            raise check.fail(f"{path}.id", f"{term_id!r} is not one of our needs: {', '.join(NEEDS)}")
        else:
            notes.append(f"{check.record}: taxonomy term {term_name or term_id!r} ({vocabulary or 'no vocabulary'}) is not one of ours; skipped")
    record.needs = list(dict.fromkeys(record.needs))


def _read_eligibility(record: ServiceRecord, raw: dict, check: Checker, notes: list[str]) -> None:
    """Our eligibility keys, by key or by name (ORUK 1 eligibilitys, or our eligibility terms); others are skipped with a note."""
    values = [str(item.get("eligibility") or "") if isinstance(item, dict) else "" for item in _list(check, raw, "eligibilitys")]
    values += [str(t.get("code") or t.get("name") or "") for _, t in _terms(raw, check) if t.get("taxonomy") == hsds.ELIGIBILITY_VOCABULARY]
    for value in values:
        key = value if value in ELIGIBILITY else _ELIGIBILITY_BY_NAME.get(value.lower())
        if key:
            record.eligibility.append(key)
        else:
            notes.append(f"{check.record}: eligibility {value!r} is not one of ours; skipped")
    record.eligibility = list(dict.fromkeys(record.eligibility))


def _read_locations(record: ServiceRecord, raw: dict, ext: dict, label: str, check: Checker) -> None:
    """The places the service is offered at, with the prison a location is and its coordinates."""
    prisons = ext.get("prisons") if isinstance(ext.get("prisons"), dict) else {}
    keys = ext.get("location_keys") if isinstance(ext.get("location_keys"), dict) else {}
    for i, link in enumerate(_list(check, raw, "service_at_locations")):
        loc = link.get("location") if isinstance(link, dict) else None
        loc_check = Checker(f"{label}: service_at_locations[{i}].location")
        if not isinstance(loc, dict):
            raise loc_check.fail("(location)", "is required")
        shape = "addresses" if "addresses" in loc else "physical_addresses"
        found = loc.get(shape)
        address = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}
        # Our own export's address_1 is the whole stored address; another publisher's has the town apart.
        parts = ("address_1",) if loc.get("id") in keys else ("address_1", "address_2", "city", "state_province") if shape == "physical_addresses" else ("address_1", "address_2", "city")
        lines = [str(address[k]) for k in parts if address.get(k)]
        prison = loc.get("external_identifier") if loc.get("external_identifier_type") == hsds.PRISON_REGISTER else prisons.get(loc.get("id"))
        record.locations.append(
            LocationRecord(
                id=loc_check.ident(keys, loc["id"]) if loc.get("id") in keys else loc_check.ident(loc),
                name=loc_check.text(loc, "name", required=True, max_len=200),
                address=", ".join(lines) or None,
                postcode=address.get("postal_code") or None,
                prison_id=prison,
                latitude=_coordinate(loc_check, loc, "latitude", 90),
                longitude=_coordinate(loc_check, loc, "longitude", 180),
            )
        )


def _moment(check: Checker, value: Any) -> datetime | None:
    """HSDS last_modified (RFC 3339) as a UTC datetime without a zone, as stored."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise check.fail("last_modified", f"{value!r} is not a date and time (2026-12-04T22:00:00Z)") from None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _coordinate(check: Checker, loc: dict, name: str, limit: float) -> float | None:
    value = loc.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise check.fail(name, f"{value!r} is not a number of degrees") from None
    if not -limit <= number <= limit:
        raise check.fail(name, f"{number} is outside -{limit:g}..{limit:g}")
    return number


def _list(check: Checker, data: dict, name: str) -> list:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise check.fail(name, "must be a list")
    return value


def import_file(session: Session, path: Path, progress: bool | None = None) -> ImportReport:
    """Check every record, then write them all in the caller's transaction."""
    raw_records = read_file(path)
    report = ImportReport()
    records, errors, seen = [], [], set()
    for position, raw in enumerate(tqdm(raw_records, desc="checking", unit="service", disable=not progress if progress is not None else None)):
        try:
            record = parse_service(raw, position, report.notes)
        except RecordError as exc:
            errors.append(exc)
            continue
        if record.id in seen:
            errors.append(RecordError(f"record {position + 1} (id {record.id})", "id", "appears more than once in the file"))
            continue
        seen.add(record.id)
        records.append(record)
    if errors:
        raise ImportFailed(errors, len(raw_records))
    ensure_taxonomy(session)
    _resolve_keys(session, records)
    stamps = staff_edits.stamps(session)
    for record in tqdm(records, desc="importing", unit="service", disable=not progress if progress is not None else None):
        report.conflicts += conflicts.keep_staff_values(session, record, stamps.get(record.id, {}))
        outcome = upsert(session, record)
        setattr(report, outcome, getattr(report, outcome) + 1)
    check_successors(session, str(path))
    conflicts.audit_conflicts(session, report.conflicts, path.name)
    search.forget_curated()  # this process sees the new states at once
    return report


def _resolve_keys(session: Session, records: list[ServiceRecord]) -> None:
    """Records identified by the UUID we publish (another tool's copy of our feed, without our
    extension) update the entries they are, under our keys, rather than adding copies."""
    def keys_by_uuid(model: type, ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in (sorted(ids)[i:i + 500] for i in range(0, len(ids), 500)):
            found.update(session.execute(select(model.uuid, model.id).where(model.uuid.in_(chunk))).all())
        return found

    services = keys_by_uuid(Service, {r.id for r in records})
    orgs = keys_by_uuid(Organization, {r.organization_id for r in records})
    places = keys_by_uuid(Location, {loc.id for r in records for loc in r.locations})
    for record in records:
        record.id = services.get(record.id, record.id)
        record.organization_id = orgs.get(record.organization_id, record.organization_id)
        for loc in record.locations:
            loc.id = places.get(loc.id, loc.id)


# --- export -----------------------------------------------------------------------------
def export_services(session: Session) -> Iterator[dict[str, Any]]:
    """Every service, fully nested, as the directory API serves it (bot.directory.hsds)."""
    services = session.execute(select(Service).order_by(Service.id).options(*FULL_SERVICE)).scalars().all()
    by_key = {s.id: s for s in services}
    for s in services:
        yield hsds.service_full(s, by_key.get(s.successor_id) if s.successor_id else None)


# What hsds.service_full reads, loaded up front (no query per service).
FULL_SERVICE = (
    selectinload(Service.organization).selectinload(Organization.phones),
    selectinload(Service.phones), selectinload(Service.areas), selectinload(Service.eligibility),
    selectinload(Service.taxonomy_terms), selectinload(Service.source),
    selectinload(Service.locations).selectinload(ServiceAtLocation.location),
)


def export_file(session: Session, path: Path | None) -> int:
    """Write every service as ORUK JSON to `path` (stdout when None); returns the count."""
    services = list(export_services(session))
    text = json.dumps({"services": services}, indent=1, ensure_ascii=False)
    if path is None:
        print(text)
    else:
        path.write_text(text + "\n", encoding="utf-8")
    return len(services)


def today() -> date:
    return date.today()
