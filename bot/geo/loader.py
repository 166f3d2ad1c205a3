"""Reading the reference data in bot/geo/data into a Gazetteer: councils and their other names,
postcode districts, the prison registers and the hand-made overrides."""
from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

from bot.geo.gazetteer import Gazetteer
from bot.geo.names import NEVER_ALIASES, normalise, short_forms, strip_filler
from bot.geo.records import Council, PostcodeDistrict, Prison

DATA_DIR = Path(__file__).parent / "data"
COUNCILS_CSV = DATA_DIR / "uk_local_authorities_mysociety_2025-07.csv"
POSTCODES_CSV = DATA_DIR / "postcode_districts_doogal.csv"
PRISONS_CSV = DATA_DIR / "prisons_moj_register_2026.csv"
PRISON_PHONES_TSV = DATA_DIR / "prisons_noms_prison_estate_nov2016.tsv"
OVERRIDES_CSV = DATA_DIR / "overrides.csv"
# Scotland and Northern Ireland run their own prisons, which the MoJ register leaves out.
DEVOLVED_PRISONS_CSV = DATA_DIR / "prisons_scotland_ni_2026.csv"


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: str) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def _load_councils() -> dict[str, Council]:
    councils = {}
    with COUNCILS_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["local-authority-code"]
            councils[code] = Council(
                code=code,
                name=row["nice-name"].strip(),
                official_name=row["official-name"].strip(),
                gss=row["gss-code"],
                nation=row["nation"],
                region=row["region"],
                kind=row["local-authority-type"],
                kind_name=row["local-authority-type-name"],
                county_code=row["county-la"] or None,
                end_date=row["end-date"] or None,
                replaced_by=tuple(c for c in row["replaced-by"].split(",") if c),
                lat=_float(row["lat"]),
                long=_float(row["long"]),
                population=_int(row["pop-2020"]),
            )
    return councils


def _council_alias_rows() -> list[tuple[str, str]]:
    pairs = []
    with COUNCILS_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names = [row["nice-name"], row["official-name"], *row["alt-names"].split(",")]
            pairs.extend((row["local-authority-code"], n) for n in names if n.strip())
    return pairs


def _build_council_aliases(councils: dict[str, Council]) -> dict[str, set[str]]:
    aliases: dict[str, set[str]] = {}
    own_names = {normalise(c.name): c.code for c in councils.values()}

    def add(alias: str, code: str) -> None:
        if len(alias) < 3 or alias in NEVER_ALIASES or not alias.isascii():
            return
        aliases.setdefault(alias, set()).add(code)

    for code, raw in _council_alias_rows():
        name = normalise(raw)
        if own_names.get(name, code) != code:
            # A combined authority's alt-names list its members ("Newcastle upon Tyne,
            # North Tyneside and Northumberland"); a member's name stays the member's.
            continue
        for alias in {name, strip_filler(name)}:
            add(alias, code)
            for short in short_forms(alias):
                add(short, code)
    return aliases


def _load_overrides() -> list[dict[str, str]]:
    with OVERRIDES_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _load_prisons(phones: dict[str, str]) -> dict[str, Prison]:
    prisons: dict[str, Prison] = {}
    with PRISONS_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["prison_id"] in prisons or row["name"] in ("Foreign Prison", "Ghost Holding Establishment"):
                continue  # the register repeats Hatfield; the other two are not places
            base = row["name"].split(" (")[0].strip()
            prisons[row["prison_id"]] = Prison(
                id=row["prison_id"],
                base_name=base,
                register_name=row["name"],
                welsh_name=row["prison_name_in_welsh"],
                active=row["active"] == "1",
                male=row["male"] == "1",
                female=row["female"] == "1",
                types=tuple(t for t in row["types"].split("|") if t) or _types_from_name(row["name"]),
                categories=tuple(c for c in row["categories"].split("|") if c),
                operator=row["operators"],
                address_lines=tuple(a for a in (row["address_line1"], row["address_line2"]) if a),
                town=row["town"],
                county=row["county"],
                postcode=row["postcode"],
                country=row["country"],
                switchboard_2016=phones.get(normalise(base)),
            )
    return prisons


def _load_devolved_prisons() -> tuple[dict[str, Prison], list[tuple[str, str]]]:
    """The Scottish and Northern Irish prisons, and their other names as (alias, id) pairs."""
    prisons: dict[str, Prison] = {}
    aliases: list[tuple[str, str]] = []
    with DEVOLVED_PRISONS_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            base = row["name"].split(" (")[0].strip()
            prisons[row["prison_id"]] = Prison(
                id=row["prison_id"],
                base_name=base,
                register_name=row["name"],
                welsh_name="",
                active=True,
                male=row["male"] == "1",
                female=row["female"] == "1",
                types=tuple(t for t in row["types"].split("|") if t),
                categories=(),
                operator=row["operator"],
                address_lines=(),
                town=row["town"],
                county="",
                postcode="",
                country=row["nation"],
            )
            aliases.extend((normalise(a), row["prison_id"]) for a in row["aliases"].split("|") if a.strip())
    return prisons, aliases


def _types_from_name(name: str) -> tuple[str, ...]:
    inside = name[name.find("(") + 1 : name.find(")")] if "(" in name else ""
    return tuple(t for t in ("HMP", "YOI", "STC", "IRC") if t in inside.upper())


def _load_prison_phones() -> dict[str, str]:
    phones = {}
    with PRISON_PHONES_TSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["telephone"]:
                phones[normalise(row["name"])] = row["telephone"]
    return phones


def _nearest_council(councils: dict[str, Council], lat: float, long: float, uk_region: str) -> str | None:
    best, best_km = None, float("inf")
    for c in councils.values():
        if not (c.current and c.lower_tier and c.lat is not None and c.long is not None):
            continue
        if uk_region and c.region != uk_region:
            continue
        km = _distance_km(lat, long, c.lat, c.long)
        if km < best_km:
            best, best_km = c.code, km
    return best


def load() -> Gazetteer:
    """Read all the reference data (about half a second; callers should keep the result)."""
    councils = _load_councils()
    council_aliases = _build_council_aliases(councils)
    overrides, local_prison_names = _apply_overrides(councils, council_aliases)
    prisons = _load_prisons(_load_prison_phones())
    devolved, devolved_aliases = _load_devolved_prisons()
    prison_aliases = _build_prison_aliases(prisons, devolved, devolved_aliases, local_prison_names)
    town_names = _load_town_names()
    # A devolved prison's own name said bare ("he's in Barlinnie") means the prison unless it is a
    # council or a town too (Perth, Greenock): those need "HMP" or "prison" beside them.
    devolved_bare = {normalise(p.base_name) for p in devolved.values()} | {a for a, _ in devolved_aliases}
    gaz = Gazetteer(
        devolved_prisons=devolved,
        local_prison_names=frozenset(alias for alias, _ in local_prison_names) | frozenset(devolved_bare - town_names),
        town_names=town_names,
        councils=councils,
        districts={},
        prisons=prisons,
        council_aliases={k: frozenset(v) for k, v in council_aliases.items()},
        prison_aliases={k: frozenset(v) for k, v in prison_aliases.items()},
        _overrides=overrides,
    )
    gaz.districts = _load_districts(gaz)
    gaz.prisons = {pid: _with_council(p, gaz) for pid, p in prisons.items()}
    return gaz


def _apply_overrides(
    councils: dict[str, Council], council_aliases: dict[str, set[str]]
) -> tuple[dict[tuple[str, str], str], list[tuple[str, str]]]:
    """Add overrides.csv's council names to `council_aliases`; return the choices it makes between
    councils sharing a name, and its local prison names as (alias, register name) pairs."""
    overrides: dict[tuple[str, str], str] = {}
    prison_names: list[tuple[str, str]] = []
    for row in _load_overrides():
        alias = normalise(row["name"])
        if row["kind"] != "council":
            prison_names.append((alias, normalise(row["target"])))
            continue
        target = normalise(row["target"])
        codes = council_aliases.get(target) or council_aliases.get(strip_filler(target))
        if not codes:
            raise ValueError(f"overrides.csv: council {row['target']!r} for {row['name']!r} is not in the council list")
        chosen = min(
            (councils[c] for c in codes),
            key=lambda c: (not c.current, not c.lower_tier, -(c.population or 0), c.code),
        ).code
        council_aliases.setdefault(alias, set()).add(chosen)
        overrides[("council", alias)] = chosen
    return overrides, prison_names


def _build_prison_aliases(
    prisons: dict[str, Prison], devolved: dict[str, Prison], devolved_aliases: list[tuple[str, str]],
    local_names: list[tuple[str, str]],
) -> dict[str, set[str]]:
    """Normalised name -> prison ids: each prison's own (and Welsh) name, the devolved prisons'
    other names ((alias, id) pairs), and the overrides' local names ((alias, name) pairs)."""
    aliases: dict[str, set[str]] = {}
    for prison in prisons.values():
        for name in {normalise(prison.base_name), normalise(prison.welsh_name)} - {""}:
            aliases.setdefault(name, set()).add(prison.id)
    for prison in devolved.values():
        aliases.setdefault(normalise(prison.base_name), set()).add(prison.id)
    for alias, prison_id in devolved_aliases:
        aliases.setdefault(alias, set()).add(prison_id)
    for alias, target in local_names:
        ids = aliases.get(target)
        if not ids:
            raise ValueError(f"overrides.csv: prison {target!r} is not in the register")
        aliases.setdefault(alias, set()).update(ids)
    return aliases


def _with_council(prison: Prison, gaz: Gazetteer) -> Prison:
    district = gaz.find_district(prison.postcode) if prison.postcode else None
    if district is None or district.council_code is None:
        return prison
    return replace(prison, council_code=district.council_code)


def _load_town_names() -> frozenset[str]:
    """Normalised post towns and town/area names: places that are not councils but are still places."""
    names: set[str] = set()
    with POSTCODES_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for value in [row["Post Town"], *row["Town/Area"].split(",")]:
                name = normalise(value)
                if name:
                    names.add(name)
    return frozenset(names)


def _load_districts(gaz: Gazetteer) -> dict[str, PostcodeDistrict]:
    districts = {}
    with POSTCODES_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lat, long = _float(row["Latitude"]), _float(row["Longitude"])
            council = gaz.council_by_alias(normalise(row["Region"]))
            code = None
            if council is not None:
                successors = gaz.successors(council)
                code = successors[0].code if len(successors) == 1 else None
            if code is None and lat is not None and long is not None and row["UK region"]:
                code = _nearest_council(gaz.councils, lat, long, row["UK region"])
            district = row["Postcode"].strip().upper()
            districts[district] = PostcodeDistrict(
                district=district,
                council_code=code,
                uk_region=row["UK region"],
                post_town=row["Post Town"].strip(),
                lat=lat,
                long=long,
                active_postcodes=_int(row["Active postcodes"]) or 0,
            )
    return districts
