"""Open Referral UK (HSDS) JSON: reading councils' directories in, writing ours out.

The file is the "full service" form of the ORUK API: a list of services, each with
its organization, phones, service_areas, eligibilitys, service_taxonomys and
service_at_locations (locations with physical_addresses). Accepted wrappers: a bare
list, {"services": [...]}, or an API page {"content": [...]}. What ORUK has no field
for (the source document, the quote supporting an entry, opening times as text, the
prison a location is, the entry's state, the source of its last check and its
successor) travels in "x_families_connect"; other importers ignore it.

States map to HSDS `status`: verified and unchecked entries are "active", replaced and
closed ones "inactive"; `assured_date` is the date of the last check. A file without
our extension reads "active" with an assured_date as verified, "active" without one as
unchecked, and anything else as closed.

Import checks every record before writing any: an error names the record (its
position and id) and the field, and nothing is written. Re-importing updates
entries by id and never duplicates them, and never overwrites a value staff changed
or checked on or after the record's own assured_date: that value is kept and reported
(bot.directory.conflicts).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from tqdm import tqdm

from bot.directory import areas, conflicts, search, staff_edits
from bot.directory.models import CLOSED, OFFERED_STATES, UNCHECKED, VERIFIED, Organization, Service, ServiceAtLocation
from bot.directory.records import Checker, LocationRecord, RecordError, ServiceRecord, check_successors, ensure_taxonomy, upsert
from bot.directory.taxonomy import ELIGIBILITY, NEEDS

VOCABULARY = "families-connect-needs"
EXTENSION = "x_families_connect"
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
        for key in ("services", "content"):
            if isinstance(data.get(key), list):
                return data[key]
    raise RecordError(path_name, "(top level)", 'expected a list of services, {"services": [...]} or {"content": [...]}')


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
        id=check.ident(raw),
        name=check.text(raw, "name", required=True, max_len=200),
        description=check.text(raw, "description", max_len=2000) or "",
        organization_id=org_check.ident(org),
        organization_name=org_check.text(org, "name", required=True, max_len=200),
        organization_description=org_check.text(org, "description") or "",
        organization_url=org_check.url(org),
        organization_email=org_check.email(org),
        url=check.url(raw),
        email=check.email(raw),
        status=(check.text(raw, "status") or "active").lower(),
        opening_times=ext_check.text(ext, "opening_times"),
        last_verified=check.day(raw, "assured_date"),
        verified_by=ext_check.text(ext, "verified_by"),
        quote=ext_check.text(ext, "quote"),
        source_id=source.get("id") if isinstance(source, dict) else None,
        source_title=source.get("title") if isinstance(source, dict) else None,
        source_published=check.published(source.get("published"), f"{EXTENSION}.source.published") if isinstance(source, dict) else None,
        source_reference=source.get("reference") if isinstance(source, dict) else None,
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


def _read_areas(record: ServiceRecord, raw: dict, check: Checker) -> None:
    """The areas served: at least one, each a council, region, nation or the whole of two or more."""
    service_areas = _list(check, raw, "service_areas")
    if not service_areas:
        raise check.fail("service_areas", "at least one service area is required (a council, region, nation, 'England and Wales' or 'United Kingdom')")
    for i, area in enumerate(service_areas):
        name = area.get("service_area") if isinstance(area, dict) else None
        key = check.area(name, f"service_areas[{i}].service_area")
        if key not in record.area_keys:
            record.area_keys.append(key)
            record.area_descriptions[key] = name


def _read_needs(record: ServiceRecord, raw: dict, check: Checker, notes: list[str]) -> None:
    """Our needs among the taxonomy terms; another vocabulary's terms are skipped with a note."""
    for i, item in enumerate(_list(check, raw, "service_taxonomys")):
        term = item.get("taxonomy") if isinstance(item, dict) else None
        if not isinstance(term, dict):
            raise check.fail(f"service_taxonomys[{i}].taxonomy", "must be an object with id and name")
        term_id, term_name = str(term.get("id") or ""), str(term.get("name") or "")
        need = term_id if term_id in NEEDS else _NEED_BY_NAME.get(term_name.lower())
        if need:
            record.needs.append(need)
        elif term.get("vocabulary") == VOCABULARY:
            raise check.fail(f"service_taxonomys[{i}].taxonomy.id", f"{term_id!r} is not one of our needs: {', '.join(NEEDS)}")
        else:
            notes.append(f"{check.record}: taxonomy term {term_name or term_id!r} ({term.get('vocabulary') or 'no vocabulary'}) is not one of ours; skipped")
    record.needs = list(dict.fromkeys(record.needs))


def _read_eligibility(record: ServiceRecord, raw: dict, check: Checker, notes: list[str]) -> None:
    """Our eligibility keys, by key or by name; others are skipped with a note."""
    for item in _list(check, raw, "eligibilitys"):
        value = str(item.get("eligibility") or "") if isinstance(item, dict) else ""
        key = value if value in ELIGIBILITY else _ELIGIBILITY_BY_NAME.get(value.lower())
        if key:
            record.eligibility.append(key)
        else:
            notes.append(f"{check.record}: eligibility {value!r} is not one of ours; skipped")
    record.eligibility = list(dict.fromkeys(record.eligibility))


def _read_locations(record: ServiceRecord, raw: dict, ext: dict, label: str, check: Checker) -> None:
    """The places the service is offered at, with the prison a location is (from our extension)."""
    prisons = ext.get("prisons") or {}
    for i, link in enumerate(_list(check, raw, "service_at_locations")):
        loc = link.get("location") if isinstance(link, dict) else None
        loc_check = Checker(f"{label}: service_at_locations[{i}].location")
        if not isinstance(loc, dict):
            raise loc_check.fail("(location)", "is required")
        address = (loc.get("physical_addresses") or [{}])[0] if isinstance(loc.get("physical_addresses"), list) else {}
        lines = [address.get(k) for k in ("address_1", "city", "state_province") if isinstance(address, dict) and address.get(k)]
        record.locations.append(
            LocationRecord(
                id=loc_check.ident(loc),
                name=loc_check.text(loc, "name", required=True, max_len=200),
                address=", ".join(lines) or None,
                postcode=address.get("postal_code") if isinstance(address, dict) else None,
                prison_id=prisons.get(loc.get("id")) if isinstance(prisons, dict) else None,
            )
        )


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
    stamps = staff_edits.stamps(session)
    for record in tqdm(records, desc="importing", unit="service", disable=not progress if progress is not None else None):
        report.conflicts += conflicts.keep_staff_values(session, record, stamps.get(record.id, {}))
        outcome = upsert(session, record)
        setattr(report, outcome, getattr(report, outcome) + 1)
    check_successors(session, str(path))
    conflicts.audit_conflicts(session, report.conflicts, path.name)
    search.forget_curated()  # this process sees the new states at once
    return report


# --- export -----------------------------------------------------------------------------
def export_services(session: Session) -> Iterator[dict[str, Any]]:
    services = session.execute(
        select(Service).order_by(Service.id).options(
            selectinload(Service.organization).selectinload(Organization.phones),
            selectinload(Service.phones), selectinload(Service.areas), selectinload(Service.eligibility),
            selectinload(Service.taxonomy_terms), selectinload(Service.source),
            selectinload(Service.locations).selectinload(ServiceAtLocation.location),
        )
    ).scalars()
    for s in services:
        yield _service_json(s)


def _service_json(s: Service) -> dict[str, Any]:
    org = s.organization
    out: dict[str, Any] = {
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "url": s.url,
        "email": s.email,
        "status": "active" if s.state in OFFERED_STATES and s.status == "active" else "inactive",
        "assured_date": s.last_verified.isoformat() if s.last_verified else None,
        "organization": {
            "id": org.id, "name": org.name, "description": org.description, "url": org.url, "email": org.email,
            "phones": [{"id": f"{org.id}-phone-{i}", "number": p.number} for i, p in enumerate(org.phones)],
        },
        "phones": [{"id": f"{s.id}-phone-{i}", "number": p.number} for i, p in enumerate(s.phones)],
        "service_areas": [{"id": f"{s.id}-area-{i}", "service_area": areas.area_name(a.area_key)} for i, a in enumerate(sorted(s.areas, key=lambda a: a.area_key))],
        "eligibilitys": [{"id": f"{s.id}-eligibility-{e.eligibility}", "eligibility": e.eligibility} for e in sorted(s.eligibility, key=lambda e: e.eligibility)],
        "service_taxonomys": [
            {"id": f"{s.id}-taxonomy-{t.id}", "taxonomy": {"id": t.id, "name": t.name, "vocabulary": t.vocabulary}}
            for t in sorted(s.taxonomy_terms, key=lambda t: t.id)
        ],
        "service_at_locations": [
            {
                "id": link.id,
                "location": {
                    "id": link.location.id, "name": link.location.name,
                    "physical_addresses": [{"id": f"{link.location.id}-address", "address_1": link.location.address, "postal_code": link.location.postcode, "country": "GB"}],
                },
            }
            for link in sorted(s.locations, key=lambda link: link.id)
        ],
    }
    ext: dict[str, Any] = {}
    if s.source:
        ext["source"] = {"id": s.source.id, "title": s.source.title, "published": s.source.published, "reference": s.source.reference}
    ext["state"] = s.state
    for key, value in (
        ("quote", s.source_quote), ("opening_times", s.opening_times), ("verified_by", s.verified_by),
        ("checked_source", s.checked_source), ("successor", s.successor_id),
    ):
        if value:
            ext[key] = value
    prisons = {link.location.id: link.location.prison_id for link in s.locations if link.location.prison_id}
    if prisons:
        ext["prisons"] = prisons
    if ext:
        out[EXTENSION] = ext
    return out


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
