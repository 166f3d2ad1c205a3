"""A later import never silently overwrites what staff vouched for more recently.

Before an imported (or seed) record is written, each field staff changed or checked on or after
the date the record itself was checked (its `assured_date` / `checked:`; a record never checked
counts as older than any staff change) keeps the value in the database, and the difference is
reported as a conflict: in the import's result, the command's output and, once per imported
value, the audit log. A record checked after staff's change wins, as the newer check.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from sqlalchemy.orm import Session

from bot.directory import staff_edits
from bot.directory.models import Location, Service, StaffEdit
from bot.directory.records import LocationRecord, ServiceRecord
import bot.referrals.models  # noqa: F401  (audit_entry's foreign key names helpline_case: it must be mapped to write one)
from bot.staff import audit


@dataclass(frozen=True)
class Conflict:
    """One field an import would have overwritten with an older value."""

    service_id: str
    field: str
    staff_on: date
    file_checked: date | None
    new: bool = True  # not reported before for this imported value (the audit log records it once)

    def __str__(self) -> str:
        checked = f"checked {self.file_checked.isoformat()}" if self.file_checked else "never checked"
        return (f"{self.service_id}: {self.field}: kept the value staff changed or checked on {self.staff_on.isoformat()} "
                f"(the imported record was {checked})")


def own_location(service: Service) -> Location | None:
    """The location staff may edit: the entry's only one, when no other entry shares it and it is
    not a prison (a prison's address comes from the register in bot/geo)."""
    if len(service.locations) != 1:
        return None
    location = service.locations[0].location
    if location is None or location.prison_id or len(location.services) != 1:
        return None
    return location


def _record_phones(record: ServiceRecord) -> list[str]:
    return list(record.phones) if record.phones is not None else [record.phone] if record.phone else []


def _record_location(record: ServiceRecord, location: Location | None) -> LocationRecord | None:
    return next((loc for loc in record.locations if location is not None and loc.id == location.id), None)


def _current(service: Service, name: str) -> Any:
    if name == "phones":
        return [p.number for p in service.phones]
    if name in ("needs", "eligibility", "areas"):
        return sorted({"needs": lambda: [t.id for t in service.taxonomy_terms],
                       "eligibility": lambda: [e.eligibility for e in service.eligibility],
                       "areas": lambda: [a.area_key for a in service.areas]}[name]())
    if name in ("address", "postcode"):
        location = own_location(service)
        return getattr(location, name) if location is not None else None
    if name == "state":
        return (service.state, service.successor_id)
    return getattr(service, name)


def _imported(record: ServiceRecord, service: Service, name: str) -> Any:
    if name == "phones":
        return _record_phones(record)
    if name in ("needs", "eligibility"):
        return sorted(getattr(record, name))
    if name == "areas":
        return sorted(record.area_keys)
    if name in ("address", "postcode"):
        location = own_location(service)
        found = _record_location(record, location)
        return getattr(found, name) if found is not None else None
    if name == "state":
        return (record.state, record.successor_id)
    return getattr(record, name)


def _overwrites_state(record: ServiceRecord, service: Service) -> bool:
    """Whether upsert would write the record's state (it keeps the newer check: records.upsert)."""
    if record.last_verified is None:
        return service.last_verified is None
    return service.last_verified is None or record.last_verified >= service.last_verified


def _keep(record: ServiceRecord, service: Service, name: str) -> None:
    """Put the database's value of `name` into the record, so writing it changes nothing there."""
    keepers: dict[str, Callable[[], None]] = {
        "phones": lambda: _keep_phones(record, service),
        "needs": lambda: setattr(record, "needs", [t.id for t in service.taxonomy_terms]),
        "eligibility": lambda: setattr(record, "eligibility", [e.eligibility for e in service.eligibility]),
        "areas": lambda: _keep_areas(record, service),
        "address": lambda: _keep_location(record, service),
        "postcode": lambda: _keep_location(record, service),
        "state": lambda: _keep_state(record, service),
    }
    keepers.get(name, lambda: setattr(record, name, getattr(service, name)))()


def _keep_phones(record: ServiceRecord, service: Service) -> None:
    record.phones = [p.number for p in service.phones]
    record.phone = record.phones[0] if record.phones else None


def _keep_areas(record: ServiceRecord, service: Service) -> None:
    record.area_keys = [a.area_key for a in service.areas]
    record.area_descriptions = {a.area_key: a.description for a in service.areas}


def _keep_location(record: ServiceRecord, service: Service) -> None:
    location = own_location(service)
    found = _record_location(record, location)
    if found is None:
        found = LocationRecord(id=location.id, name=location.name, council_code=location.council_code)
        record.locations.append(found)
    found.address, found.postcode = location.address, location.postcode


def _keep_state(record: ServiceRecord, service: Service) -> None:
    record.state, record.successor_id, record.status = service.state, service.successor_id, service.status
    record.last_verified, record.verified_by, record.checked_source = service.last_verified, service.verified_by, service.checked_source


def keep_staff_values(session: Session, record: ServiceRecord, stamps: dict[str, StaffEdit]) -> list[Conflict]:
    """Change `record` (before it is written) to keep every value staff vouched for on or after
    the record's own check; returns the conflicts (fields whose imported value differed)."""
    service = session.get(Service, record.id)
    if service is None or not stamps:
        return []
    checked = record.last_verified
    found = []
    for name in staff_edits.FIELDS:
        stamp = stamps.get(name)
        if stamp is None or (checked is not None and checked > stamp.staff_on):
            continue
        if name == "state" and not _overwrites_state(record, service):
            continue
        if name in ("address", "postcode") and own_location(service) is None:
            continue
        imported = _imported(record, service, name)
        if imported == _current(service, name):
            continue
        _keep(record, service, name)
        # A seed reloaded at every start finds the same conflict every time: new only once per imported value.
        digest = hashlib.sha256(repr(imported).encode("utf-8")).hexdigest()
        found.append(Conflict(record.id, name, stamp.staff_on, checked, new=stamp.reported != digest))
        stamp.reported = digest
    return found


def audit_conflicts(session: Session, conflicts: list[Conflict], source: str) -> int:
    """One audit entry per entry with newly found conflicts (ids, field names and dates only: the
    values are public but can be long). Returns how many entries were written."""
    by_service: dict[str, list[Conflict]] = {}
    for conflict in conflicts:
        if conflict.new:
            by_service.setdefault(conflict.service_id, []).append(conflict)
    for service_id, found in by_service.items():
        fields = ", ".join(c.field for c in found)
        latest = max(c.staff_on for c in found).isoformat()
        checked = found[0].file_checked.isoformat() if found[0].file_checked else "never"
        audit.record_system(
            "directory_import_conflict",
            f"{source[:100]}: {service_id}: kept staff's {fields} (staff {latest}; imported record checked {checked})",
            session=session,
        )
    return len(by_service)
