"""The directory's own entries (data/seed_services.yml): every service the seed documents
name, what has changed since (each change with its source), and the national services
families are referred to today.

Each service may carry `state` (verified, unchecked, replaced, closed; default unchecked),
`checked` (the date of its last check), `checked_source` (the URL or document checked
against) and, when replaced, `successor` (a service id). A source may be a document
(`file:`) or a web page (`url:`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml
from sqlalchemy.orm import Session

from bot.directory import conflicts, search, staff_edits
from bot.directory.records import Checker, RecordError, ServiceRecord, check_successors, ensure_taxonomy, prison_location, upsert
from bot.directory.taxonomy import ELIGIBILITY, NEEDS

SEED_FILE = Path(__file__).parent / "data" / "seed_services.yml"


def read_seed(path: Path = SEED_FILE) -> Iterator[ServiceRecord]:
    """Service records from a seed file, checked field by field."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sources: dict[str, Any] = data.get("sources") or {}
    for oi, org in enumerate(data.get("organisations") or []):
        check = Checker(f"{path.name}: organisations[{oi}] ({org.get('id', '?')})")
        org_id = check.ident(org)
        org_phone = check.phone(org.get("phone"))
        for si, svc in enumerate(org.get("services") or []):
            check = Checker(f"{path.name}: {org_id}: services[{si}] ({svc.get('id', '?')})")
            source_id = check.text(svc, "source", required=True)
            source = sources.get(source_id)
            if source is None:
                raise check.fail("source", f"{source_id!r} is not listed under sources")
            record = ServiceRecord(
                id=check.ident(svc),
                name=check.text(svc, "name", required=True, max_len=200),
                description=check.text(svc, "description", required=True, max_len=300),
                organization_id=org_id,
                organization_name=check.text(org, "name", required=True, max_len=200),
                organization_description=check.text(org, "description") or "",
                organization_url=check.url(org, "website"),
                organization_email=check.email(org),
                organization_phone=org_phone,
                url=check.url(svc, "website"),
                email=check.email(svc),
                phone=check.phone(svc.get("phone")),
                opening_times=check.text(svc, "opening_times"),
                status=check.text(svc, "status") or "active",
                needs=check.keys(svc.get("needs"), "needs", NEEDS),
                eligibility=check.keys(svc.get("eligibility"), "eligibility", ELIGIBILITY),
                source_id=source_id,
                source_title=source.get("title"),
                source_published=check.published(source.get("date"), f"sources.{source_id}.date"),
                source_reference=source.get("file") or source.get("url"),
                quote=check.text(svc, "quote"),
            )
            if record.status not in ("active", "inactive"):
                raise check.fail("status", f"{record.status!r} is not active or inactive")
            if record.status == "inactive" and svc.get("state") in (None, "verified", "unchecked"):
                raise check.fail("status", "an inactive entry must have state: closed or replaced (with its check and source)")
            check.freshness(record, svc)
            if record.last_verified is not None:
                record.verified_by = f"{path.name} ({record.checked_source})"[:300]
            specs = svc.get("areas") or []
            if not specs:
                raise check.fail("areas", "at least one area is required")
            for ai, spec in enumerate(specs):
                key = check.area(spec, f"areas[{ai}]")
                record.area_keys.append(key)
                record.area_descriptions[key] = spec
            record.area_keys = list(dict.fromkeys(record.area_keys))
            if svc.get("prison"):
                record.locations.append(prison_location(check, record.id, svc["prison"]))
            yield record


def load_seed(session: Session, path: Path = SEED_FILE, *, kept: list[conflicts.Conflict] | None = None) -> dict[str, int]:
    """Load (or reload) the seed entries; returns counts of created/updated/unchanged and of
    conflicts: values staff changed or checked since the seed's check, kept (listed into `kept`)."""
    ensure_taxonomy(session)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    found: list[conflicts.Conflict] = []
    stamps = staff_edits.stamps(session)
    seen: set[str] = set()
    for record in read_seed(path):
        if record.id in seen:
            raise RecordError(f"{path.name}: {record.id}", "id", "used by more than one service")
        seen.add(record.id)
        found += conflicts.keep_staff_values(session, record, stamps.get(record.id, {}))
        counts[upsert(session, record)] += 1
    check_successors(session, path.name)
    conflicts.audit_conflicts(session, found, path.name)
    counts["conflicts"] = len(found)
    if kept is not None:
        kept += found
    search.forget_curated()  # this process sees the new states at once
    return counts
