"""Each prison's page on GOV.UK, where its booking line, phone numbers, visiting times and
Safer Custody line are listed.

GOV.UK names a prison's page after the prison: https://www.gov.uk/guidance/durham-prison.
Exceptions checked by hand are in data/prison_pages.csv (with the date checked); where a
page's name could not be confirmed and the rule is doubtful (children's establishments,
a removal centre), the answer is GOV.UK's "Find a prison" page, never a made-up address.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache

from bot.geo.loader import DATA_DIR
from bot.geo.names import normalise
from bot.geo.records import Prison

PAGES_CSV = DATA_DIR / "prison_pages.csv"
GUIDANCE = "https://www.gov.uk/guidance/"
FIND_PRISON = "https://www.gov.uk/find-prison"
PAGE_RE = re.compile(r"^https://www\.gov\.uk/guidance/[a-z0-9]+(?:-[a-z0-9]+)*$")
# Register types whose page names do not follow the rule (children's and immigration
# establishments): unless checked, these get Find a prison.
DOUBTFUL_TYPES = frozenset({"YCS", "STC", "IRC"})


@lru_cache(maxsize=1)
def checked_pages() -> dict[str, str]:
    """prison id -> page ('' for Find a prison), from data/prison_pages.csv."""
    with PAGES_CSV.open(newline="", encoding="utf-8") as fh:
        return {row["prison_id"]: row["page"].strip() for row in csv.DictReader(fh)}


def slug(prison: Prison) -> str:
    """The rule: the register's name in lower case, words joined by hyphens, then '-prison'."""
    return "-".join(normalise(prison.base_name).split()) + "-prison"


def gov_uk_page(prison: Prison) -> str | None:
    """The prison's GOV.UK page, or GOV.UK's Find a prison page where that is not known; None
    for a Scottish or Northern Irish prison (their own prison services, not GOV.UK, run them)."""
    if prison.country in ("Scotland", "Northern Ireland"):
        return None
    checked = checked_pages()
    if prison.id in checked:
        return checked[prison.id] or FIND_PRISON
    if not prison.active or set(prison.types) & DOUBTFUL_TYPES:
        return FIND_PRISON
    return GUIDANCE + slug(prison)
