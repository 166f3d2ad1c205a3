"""Reading an API request's query string: every parameter checked, each problem a sentence (a 400)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping, Sequence

from bot.directory.open_data import BadFilter, Filters, point_for

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
MAX_PROXIMITY = 200_000  # metres: "near" beyond 200 km is the whole country; ask without proximity
MAX_SEARCH = 200

PAGING = ("page", "per_page")
SERVICE_FILTERS = ("search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after", "postcode", "proximity")
# What each list takes (HSDS 3.0's parameters, with Open Referral UK's postcode and proximity).
ALLOWED: dict[str, tuple[str, ...]] = {
    "services": SERVICE_FILTERS + PAGING + ("full",),
    "service_at_locations": SERVICE_FILTERS + PAGING,
    "organizations": ("search",) + PAGING,
    "taxonomies": PAGING,
    "taxonomy_terms": ("taxonomy_id", "search") + PAGING,
}


class BadRequest(ValueError):
    """A request we cannot answer as asked; the message says why and what would work."""


@dataclass(frozen=True)
class ListRequest:
    filters: Filters
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    full: bool = False


def _whole(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, not {value[:40]!r}") from None
    if not low <= number <= high:
        raise BadRequest(f"{name} must be from {low} to {high}, not {number}")
    return number


def _moment(value: str) -> datetime:
    """An RFC 3339 date-time or a date, as UTC without a zone (how modified_at is stored)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(f"modified_after must be a date or date-time like 2026-12-01 or 2026-12-01T09:30:00Z, not {value[:40]!r}") from None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _flag(name: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, not {value[:40]!r}")


def _single(query: Mapping[str, Sequence[str]], endpoint: str) -> dict[str, str]:
    """Each parameter once, known to this endpoint, and not empty."""
    allowed = ALLOWED[endpoint]
    values: dict[str, str] = {}
    for name, given in query.items():
        if name not in allowed:
            raise BadRequest(f"unknown parameter {name[:40]!r}: /{endpoint} takes {', '.join(allowed)}")
        if len(given) != 1:
            raise BadRequest(f"give {name} once")
        if not given[0].strip():
            raise BadRequest(f"{name} is empty")
        if any(ord(c) < 32 or ord(c) == 127 for c in given[0]):
            raise BadRequest(f"{name} holds control characters")
        values[name] = given[0].strip()
    return values


def read_list(query: Mapping[str, Sequence[str]], endpoint: str) -> ListRequest:
    """A list request's filters and page, checked."""
    values = _single(query, endpoint)
    search = values.get("search")
    if search is not None and len(search) > MAX_SEARCH:
        raise BadRequest(f"search is too long: at most {MAX_SEARCH} characters")
    proximity = values.get("proximity")
    if proximity is not None and "postcode" not in values:
        raise BadRequest("proximity needs a postcode to measure from")
    try:
        point = point_for(values["postcode"][:12]) if "postcode" in values else None
    except BadFilter as error:
        raise BadRequest(str(error)) from None
    filters = Filters(
        search=search,
        taxonomy_term_id=values.get("taxonomy_term_id"),
        taxonomy_id=values.get("taxonomy_id"),
        organization_id=values.get("organization_id"),
        modified_after=_moment(values["modified_after"]) if "modified_after" in values else None,
        point=point,
        proximity=_metres(proximity) if proximity is not None else None,
    )
    return ListRequest(
        filters=filters,
        page=_whole("page", values["page"], 1, MAX_PAGE) if "page" in values else 1,
        per_page=_whole("per_page", values["per_page"], 1, MAX_PER_PAGE) if "per_page" in values else DEFAULT_PER_PAGE,
        full=_flag("full", values["full"]) if "full" in values else False,
    )


def _metres(value: str) -> int:
    """Proximity in metres: a number (decimals allowed, rounded) from 1 to MAX_PROXIMITY."""
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"proximity must be a distance in metres (1 to {MAX_PROXIMITY}), not {value[:40]!r}") from None
    if not 1 <= number <= MAX_PROXIMITY:
        raise BadRequest(f"proximity must be from 1 to {MAX_PROXIMITY} metres, not {value[:40]}")
    return round(number)
