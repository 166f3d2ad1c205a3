"""Service areas over the geography in bot.geo, and the places a query can name.

A service covers area keys; a council is inside several: its own, its county's (for
district councils), its region's, its nation's and the national ones. Nearer keys
rank first.
"""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.geo import Council, gazetteer
from bot.geo.names import normalise

ENGLAND_AND_WALES = "england_and_wales"
UK = "uk"
NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")
ENGLISH_REGIONS = (
    "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
)

# How near an area key is to the person asking: lower is nearer.
LOCAL, COUNTY, REGION, NATION, NATIONAL = 0, 1, 2, 3, 4
SCOPE_NAMES = {LOCAL: "local", COUNTY: "county", REGION: "region", NATION: "nation", NATIONAL: "national"}


class UnknownArea(ValueError):
    """An area description that names nothing we know."""


def area_key(spec: str) -> str:
    """The stored key for an area as written in seed or import data.

    "council:Stockton-on-Tees" -> "council:STT"; a county council -> "county:KEN";
    "region:North East"; "nation:Wales"; "england_and_wales"; "uk".
    """
    kind, _, value = spec.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind in (UK, ENGLAND_AND_WALES) and not value:
        return kind
    if kind == "nation":
        for nation in NATIONS:
            if value.lower() == nation.lower():
                return f"nation:{nation}"
    elif kind == "region":
        for region in ENGLISH_REGIONS:
            if value.lower() == region.lower():
                return f"region:{region}"
        for nation in NATIONS[1:]:  # Wales, Scotland and Northern Ireland are regions in the council list too
            if value.lower() == nation.lower():
                return f"nation:{nation}"
    elif kind in ("council", "county"):
        council = find_council(value)
        if council is not None:
            return council_key(council)
    raise UnknownArea(f"unknown area {spec!r}: use council:<name>, region:<name>, nation:<name>, england_and_wales or uk")


_NATIONAL_NAMES = {
    "uk": UK, "united kingdom": UK, "the uk": UK, "national": UK, "uk wide": UK, "uk-wide": UK,
    "england and wales": ENGLAND_AND_WALES, "england & wales": ENGLAND_AND_WALES,
}


def area_key_from_name(name: str) -> str:
    """The key for an area named in words, as Open Referral UK files do: "North East",
    "England and Wales", "United Kingdom", "Stockton-on-Tees" (a council, its alternative
    name or a close misspelling)."""
    text = " ".join((name or "").split()).strip()
    lowered = text.lower()
    if lowered in _NATIONAL_NAMES:
        return _NATIONAL_NAMES[lowered]
    for nation in NATIONS:
        if lowered == nation.lower():
            return f"nation:{nation}"
    for region in ENGLISH_REGIONS:
        if lowered in (region.lower(), region.lower().replace(" and the ", " & the ")):
            return f"region:{region}"
    council = find_council(text) if text else None
    if council is None:
        raise UnknownArea(f"unknown area {name!r}: not a UK council, region, nation, 'England and Wales' or 'United Kingdom'")
    return council_key(council)


def area_name(key: str) -> str:
    """The words for an area key that area_key_from_name reads back to the same key."""
    kind, _, value = key.partition(":")
    if kind in ("council", "county"):
        council = gazetteer().council(value)
        clashes = council.name.lower() in {r.lower() for r in ENGLISH_REGIONS + NATIONS}
        return council.official_name if clashes else council.name
    return {UK: "United Kingdom", ENGLAND_AND_WALES: "England and Wales"}.get(key, value)


def council_key(council: Council) -> str:
    return f"county:{council.code}" if council.kind == "CTY" else f"council:{council.code}"


def keys_covering(council: Council) -> dict[str, int]:
    """Every area key whose services serve people in `council`, with how near each is."""
    keys = {f"council:{council.code}": LOCAL}
    if council.kind == "CTY":
        keys[f"county:{council.code}"] = LOCAL
    if council.county_code:
        keys[f"county:{council.county_code}"] = COUNTY
    if council.nation == "England" and council.region in ENGLISH_REGIONS:
        keys[f"region:{council.region}"] = REGION
    keys[f"nation:{council.nation}"] = NATION
    if council.nation in ("England", "Wales"):
        keys[ENGLAND_AND_WALES] = NATIONAL
    keys[UK] = NATIONAL
    return keys


@dataclass(frozen=True)
class Place:
    """Where someone is, as a current council."""

    council: Council
    matched: str  # what the text was read as: a council name, an alternative name, a postcode


def find_council(text: str) -> Council | None:
    """The current council named by a council or town name, alternative name, postcode or district,
    or a close misspelling of a name."""
    g = gazetteer()
    council = g.find_council(text)
    if council is None:
        names = _alias_names()
        match = process.extractOne(normalise(text), names, scorer=fuzz.ratio, score_cutoff=85)
        council = g.council_by_alias(match[0]) if match else None
    if council is None:
        return None
    current = g.successors(council)
    return current[0] if current else None


def council_code(area: str | None) -> str | None:
    """The code of the current council an `area` slot value names ("Stockton" -> "STT"), if any."""
    council = find_council(area) if area else None
    return council.code if council else None


def find_place(text: str) -> Place:
    """Like find_council, but says clearly what it could not read."""
    text = (text or "").strip()
    if not text:
        raise UnknownArea("no place given: name a town, council or postcode")
    council = find_council(text)
    if council is None:
        raise UnknownArea(f"no UK council or postcode district matches {text!r}")
    return Place(council, text)


_ALIASES: list[str] | None = None


def _alias_names() -> list[str]:
    global _ALIASES
    if _ALIASES is None:
        _ALIASES = sorted(a for a in gazetteer().council_aliases if len(a) >= 4)
    return _ALIASES
