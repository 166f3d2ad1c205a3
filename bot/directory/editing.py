"""Staff keep the directory current: correct an entry's contact details, mark it checked, closed
or replaced by another entry, and add a service with the Open Referral UK fields we hold.

Each function checks what staff typed and raises EditError naming every field that cannot be
saved and what to write instead; nothing is saved then. Each change notes which fields staff
vouched for and when (bot.directory.staff_edits: a later import keeps them) and is audited
(ids and field names only: the details are on the entry itself).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Callable, Mapping

import phonenumbers
from phonenumbers import shortnumberinfo
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.directory import areas, conflicts, records, search, staff_edits
from bot.directory.models import CLOSED, REPLACED, UNCHECKED, VERIFIED, Location, Organization, Phone, Service
from bot.directory.taxonomy import ELIGIBILITY, NEEDS
from bot.staff import audit

MAX_DESCRIPTION = 300  # with its contact line, an entry fits one text message (as the seed's do)
MAX_SOURCE = 500
# The UK and the Crown Dependencies that share +44 (as bot.referrals.form; any kind of number here:
# a service's freephone or 03 number is as good as a landline).
UK_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEB = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#]\S*)?$", re.I)
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")


class EditError(ValueError):
    """What staff typed cannot be saved: `problems` maps each form field to what to write instead."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class _Bad(ValueError):
    """One field's problem, in words for the person filling in the form."""


# --- reading what staff typed ---------------------------------------------------------------
def clean_text(value: Any, label: str, *, max_len: int, required: bool = False) -> str | None:
    text = " ".join(str(value or "").split())  # one line: it is sent in a text message
    if not text:
        if required:
            raise _Bad(f"{label} is needed.")
        return None
    if len(text) > max_len:
        raise _Bad(f"{label} is {len(text)} characters long; make it {max_len} or fewer.")
    return text


def clean_url(value: Any) -> str | None:
    """A web address: http(s) only (a bare www.example.org is kept as written)."""
    text = (str(value or "")).strip()
    if not text:
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*:", text, re.I) and not re.match(r"^https?://", text, re.I):
        raise _Bad("The web address must start with https:// or http:// (or just www.).")
    if len(text) > 500 or not _WEB.match(text):
        raise _Bad(f"{text[:80]!r} is not a web address: write it like https://www.example.org.uk/help.")
    return text


def clean_email(value: Any) -> str | None:
    text = (str(value or "")).strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise _Bad(f"{text[:80]!r} is not an email address: write it like help@example.org.uk.")
    return text


def uk_phone(text: str) -> str:
    """A UK phone number (any kind, or a valid short number such as a helpline's six digits) in the usual national format."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and number.country_code == 44:
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in UK_REGIONS:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if shortnumberinfo.is_valid_short_number_for_region(number, "GB"):
            return " ".join(text.split())  # as written, spaces tidied
    raise _Bad(f"{text[:40]!r} is not a UK phone number: write it in full with its area code (starting 0), or starting +44.")


def clean_phones(value: Any) -> list[str]:
    """Phone numbers, one a line, in the usual national format (each checked)."""
    numbers = [uk_phone(line.strip()) for line in str(value or "").splitlines() if line.strip()]
    if len(numbers) > 5:
        raise _Bad("Give at most 5 phone numbers.")
    return list(dict.fromkeys(numbers))


def clean_postcode(value: Any) -> str | None:
    text = " ".join(str(value or "").upper().split())
    if not text:
        return None
    match = _POSTCODE.match(text)
    if not match:
        raise _Bad(f"{text[:12]!r} is not a UK postcode: write it like TS18 1AB.")
    return f"{match.group(1)} {match.group(2)}"


def clean_address(value: Any) -> str | None:
    """An address on one line: its lines joined with commas."""
    lines = [" ".join(line.split()) for line in str(value or "").splitlines()]
    return clean_text(", ".join(line.strip(", ") for line in lines if line.strip(", ")), "The address", max_len=300)


def clean_source(value: Any) -> str:
    return clean_text(value, "What you checked it against (a web address, a document or a call)", max_len=MAX_SOURCE, required=True)


def collect(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every check; EditError with every field's problem if any fails."""
    cleaned, problems = {}, {}
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except _Bad as exc:
            problems[name] = str(exc)
    if problems:
        raise EditError(problems)
    return cleaned


def _service(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise LookupError(service_id)
    return service


def _same_number(stored: str) -> str:
    try:
        return uk_phone(stored)
    except _Bad:
        return stored


# --- contact details ------------------------------------------------------------------------
CONTACT_INPUTS = staff_edits.CONTACT_FIELDS


def contact_values(service: Service) -> dict[str, str]:
    """The edit form's fields as the entry has them now."""
    location = conflicts.own_location(service)
    return {
        "description": service.description or "", "url": service.url or "", "email": service.email or "",
        "phones": "\n".join(p.number for p in service.phones), "opening_times": service.opening_times or "",
        "address": (location.address or "") if location else "", "postcode": (location.postcode or "") if location else "",
    }


def edit_contact(session: Session, service_id: str, values: Mapping[str, Any], *, user_id: int | None) -> list[str]:
    """Save the contact details staff corrected; returns the fields that changed (none: nothing is
    written or audited)."""
    service = _service(session, service_id)
    location = conflicts.own_location(service)
    checks: dict[str, Callable[[], Any]] = {
        "description": lambda: clean_text(values.get("description"), "A description", max_len=MAX_DESCRIPTION, required=True),
        "url": lambda: clean_url(values.get("url")),
        "email": lambda: clean_email(values.get("email")),
        "phones": lambda: clean_phones(values.get("phones")),
        "opening_times": lambda: clean_text(values.get("opening_times"), "Opening times", max_len=200),
    }
    if location is not None:
        checks["address"] = lambda: clean_address(values.get("address"))
        checks["postcode"] = lambda: clean_postcode(values.get("postcode"))
    cleaned = collect(checks)
    changed = []
    for name in ("description", "url", "email", "opening_times"):
        if (cleaned[name] or None) != (getattr(service, name) or None):
            setattr(service, name, cleaned[name])  # a description is required: never None
            changed.append(name)
    if [_same_number(p.number) for p in service.phones] != cleaned["phones"]:
        kept = {_same_number(p.number): p for p in service.phones}
        service.phones = [kept.get(n) or Phone(number=n) for n in cleaned["phones"]]
        changed.append("phones")
    for name in ("address", "postcode"):
        if location is not None and (cleaned[name] or None) != (getattr(location, name) or None):
            setattr(location, name, cleaned[name])
            changed.append(name)
    changed = [name for name in CONTACT_INPUTS if name in changed]
    if changed:
        staff_edits.note(session, service.id, changed)
        audit.record("directory_edited", session=session, user_id=user_id, detail=f"{service.id}: {', '.join(changed)}")
    return changed


# --- checked, closed, replaced --------------------------------------------------------------
def verify(session: Session, service_id: str, *, by: str, source: Any, user_id: int | None, on: date | None = None) -> Service:
    """Staff checked the entry against `source` and found it current (who: `by`; when: today)."""
    checked_against = collect({"source": lambda: clean_source(source)})["source"]
    service = _service(session, service_id)
    if service.state in (REPLACED, CLOSED):
        raise EditError({"state": f"This entry is {service.state}, so it is not offered and cannot be marked checked."})
    records.mark_verified(session, service.id, by[:300], source=checked_against, on=on)
    audit.record("directory_verified", session=session, user_id=user_id,
                 detail=f"{service.id} checked {service.last_verified.isoformat()}")
    return service


def _retire(service: Service, state: str, *, by: str, source: str, successor: str | None) -> None:
    service.state, service.successor_id, service.status = state, successor, "inactive"
    service.last_verified, service.verified_by, service.checked_source = date.today(), by[:300], source


def close(session: Session, service_id: str, *, by: str, source: Any, user_id: int | None) -> Service:
    """The service has stopped, or its contact is gone for good: never offered again."""
    checked_against = collect({"source": lambda: clean_source(source)})["source"]
    service = _service(session, service_id)
    if service.state == CLOSED:
        raise EditError({"state": "This entry is already closed."})
    pointing = list(session.execute(select(Service.id).where(Service.successor_id == service.id, Service.state == REPLACED)).scalars())
    if pointing:
        raise EditError({"state": f"{', '.join(pointing)} {'is' if len(pointing) == 1 else 'are'} replaced by this entry. "
                                  "Mark them replaced by the service that carries on (or closed) first."})
    _retire(service, CLOSED, by=by, source=checked_against, successor=None)
    staff_edits.note(session, service.id, ["state"])
    audit.record("directory_closed", session=session, user_id=user_id, detail=f"{service.id} closed")
    search.forget_curated()
    return service


def successor_id_from(value: Any) -> str:
    """An entry's id as typed, or pasted with its page's address."""
    text = str(value or "").strip()
    return text.split("/directory/entries/", 1)[1].strip("/") if "/directory/entries/" in text else text


def replace(session: Session, service_id: str, successor: Any, *, by: str, source: Any, user_id: int | None) -> Service:
    """The service carries on as another entry: people are offered that one instead."""
    successor_id = successor_id_from(successor)

    def check_successor() -> str:
        if not successor_id:
            raise _Bad("Give the id of the entry that carries on this service (search for it: ids are in the results).")
        if successor_id == service_id:
            raise _Bad("An entry cannot replace itself: give the id of the entry that carries on.")
        target = session.get(Service, successor_id)
        if target is None:
            raise _Bad(f"There is no entry with the id {successor_id[:120]!r}.")
        seen = {service_id}
        while target is not None:
            if target.id in seen:
                raise _Bad(f"{successor_id} leads back to this entry: the replacements would go round in a circle.")
            if target.state != REPLACED:
                break
            seen.add(target.id)
            target = session.get(Service, target.successor_id) if target.successor_id else None
        if target is None or target.state == CLOSED:
            raise _Bad(f"{successor_id} is closed (or leads to a closed entry): give the entry people should be offered.")
        return successor_id

    cleaned = collect({"successor": check_successor, "source": lambda: clean_source(source)})
    service = _service(session, service_id)
    _retire(service, REPLACED, by=by, source=cleaned["source"], successor=cleaned["successor"])
    session.flush()
    try:
        records.check_successors(session, "directory")
    except records.RecordError as exc:  # checked above; this guards the whole directory's chains
        raise EditError({"successor": str(exc)}) from None
    staff_edits.note(session, service.id, ["state"])
    audit.record("directory_replaced", session=session, user_id=user_id, detail=f"{service.id} replaced by {cleaned['successor']}")
    search.forget_curated()
    return service


# --- a new service --------------------------------------------------------------------------
def new_id(session: Session, model: type, *names: str) -> str:
    """An unused id made of `names` ("nepacs-frankland-visitors-centre")."""
    plain = unicodedata.normalize("NFKD", " ".join(names)).encode("ascii", "ignore").decode("ascii")  # café -> cafe
    words = re.findall(r"[a-z0-9]+", plain.lower().replace("'", ""))
    base = "-".join(words)[:80].strip("-") or "entry"
    candidate, n = base, 2
    while session.get(model, candidate) is not None:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _area_keys(text: Any) -> list[str]:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    if not lines:
        raise _Bad("Say where the service is offered: a council, region or nation on each line, or United Kingdom.")
    keys = []
    for line in lines:
        try:
            keys.append(records.Checker("new service").area(line, "area"))
        except records.RecordError:
            raise _Bad(f"{line[:60]!r} is not a UK council, region (North East), nation (Wales), "
                       "England and Wales or United Kingdom.") from None
    return list(dict.fromkeys(keys))


def _choices(values: Any, allowed: Mapping[str, str], label: str, *, required: bool) -> list[str]:
    chosen = [v for v in (values or []) if v]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise _Bad(f"Choose {label} from the list.")
    if required and not chosen:
        raise _Bad(f"Choose at least one {label}: the assistant finds services by it.")
    return list(dict.fromkeys(chosen))


def _organisation(session: Session, values: Mapping[str, Any]) -> Organization | dict[str, Any]:
    """The existing organisation chosen, or the new one's checked fields."""
    chosen = str(values.get("organisation") or "").strip()
    if chosen:
        org = session.get(Organization, chosen)
        if org is None:
            raise _Bad("Choose the organisation from the list, or leave it empty and name a new one.")
        return org
    return {"name": clean_text(values.get("organisation_name"), "The new organisation's name", max_len=200, required=True),
            "url": clean_url(values.get("organisation_url"))}


def add_service(session: Session, values: Mapping[str, Any], *, by: str, user_id: int | None) -> Service:
    """A new entry with its organisation (existing or new), contact details, needs, who it is
    for, where it is offered and, optionally, its place; checked (verified today by `by`) when
    staff say what they checked it against, else unchecked."""
    cleaned = collect({
        "organisation": lambda: _organisation(session, values),
        "name": lambda: clean_text(values.get("name"), "The service's name", max_len=200, required=True),
        "description": lambda: clean_text(values.get("description"), "A description", max_len=MAX_DESCRIPTION, required=True),
        "url": lambda: clean_url(values.get("url")), "email": lambda: clean_email(values.get("email")),
        "phones": lambda: clean_phones(values.get("phones")),
        "opening_times": lambda: clean_text(values.get("opening_times"), "Opening times", max_len=200),
        "needs": lambda: _choices(values.get("needs"), NEEDS, "need", required=True),
        "eligibility": lambda: _choices(values.get("eligibility"), ELIGIBILITY, "group", required=False),
        "areas": lambda: _area_keys(values.get("areas")),
        "location_name": lambda: clean_text(values.get("location_name"), "The place's name", max_len=200),
        "address": lambda: clean_address(values.get("address")),
        "postcode": lambda: clean_postcode(values.get("postcode")),
        "source": lambda: clean_text(values.get("source"), "What you checked it against", max_len=MAX_SOURCE),
    })
    if not (cleaned["phones"] or cleaned["url"] or cleaned["email"]):
        raise EditError({"phones": "Give at least one way to reach the service: a phone number, a web address or an email."})
    org = cleaned["organisation"]
    record = _new_record(session, cleaned, org)
    if cleaned["source"]:
        record.state, record.last_verified, record.verified_by, record.checked_source = VERIFIED, date.today(), by[:300], cleaned["source"]
    records.ensure_taxonomy(session)
    records.upsert(session, record)
    staff_edits.note(session, record.id, staff_edits.FIELDS)
    audit.record("directory_added", session=session, user_id=user_id, detail=f"{record.id} added ({record.state})")
    search.forget_curated()
    return session.get(Service, record.id)


def _new_record(session: Session, cleaned: dict[str, Any], org: Organization | dict[str, Any]) -> records.ServiceRecord:
    """The new entry as a record, written by records.upsert like an imported one."""
    is_new_org = isinstance(org, dict)
    org_name = org["name"] if is_new_org else org.name
    service_id = new_id(session, Service, cleaned["name"])
    record = records.ServiceRecord(
        id=service_id, name=cleaned["name"], description=cleaned["description"],
        organization_id=new_id(session, Organization, org_name) if is_new_org else org.id, organization_name=org_name,
        organization_description="" if is_new_org else org.description, organization_url=org["url"] if is_new_org else None,
        url=cleaned["url"], email=cleaned["email"], phone=cleaned["phones"][0] if cleaned["phones"] else None,
        phones=cleaned["phones"], opening_times=cleaned["opening_times"], needs=cleaned["needs"],
        eligibility=cleaned["eligibility"], area_keys=cleaned["areas"], state=UNCHECKED,
    )
    if cleaned["address"] or cleaned["postcode"]:
        council = areas.find_council(cleaned["postcode"]) if cleaned["postcode"] else None
        record.locations.append(records.LocationRecord(
            id=new_id(session, Location, service_id, "place"), name=cleaned["location_name"] or cleaned["name"],
            address=cleaned["address"], postcode=cleaned["postcode"], council_code=council.code if council else None,
        ))
    return record
