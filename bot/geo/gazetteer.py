"""UK local authorities, postcode districts and prisons, read from the reference data in bot/geo/data."""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.geo.names import NEVER_ALIASES, normalise, short_forms, strip_filler

DATA_DIR = Path(__file__).parent / "data"
COUNCILS_CSV = DATA_DIR / "uk_local_authorities_mysociety_2025-07.csv"
POSTCODES_CSV = DATA_DIR / "postcode_districts_doogal.csv"
PRISONS_CSV = DATA_DIR / "prisons_moj_register_2026.csv"
PRISON_PHONES_TSV = DATA_DIR / "prisons_noms_prison_estate_nov2016.tsv"
OVERRIDES_CSV = DATA_DIR / "overrides.csv"
# Scotland and Northern Ireland run their own prisons, which the MoJ register leaves out.
DEVOLVED_PRISONS_CSV = DATA_DIR / "prisons_scotland_ni_2026.csv"

# The `nation` slot's values, from the names the reference data uses.
NATIONS = {"England": "england", "Wales": "wales", "Scotland": "scotland", "Northern Ireland": "northern_ireland"}

# Types that are a council people live in (as opposed to counties and combined authorities
# that sit above them).
LOWER_TIER_TYPES = frozenset({"NMD", "UA", "MD", "LBO", "SCO", "WPA", "NID", "CC"})
UPPER_TIER_TYPES = frozenset({"CTY", "COMB", "SRA"})

POSTCODE_RE = re.compile(
    r"\b(?P<district>[A-Z]{1,2}[0-9][0-9A-Z]?)(?:\s*(?P<sector>[0-9])(?P<unit>[A-Z]{2}))?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Council:
    """A UK local authority, current or abolished."""

    code: str
    name: str
    official_name: str
    gss: str
    nation: str
    region: str
    kind: str
    kind_name: str
    county_code: str | None
    end_date: str | None
    replaced_by: tuple[str, ...]
    lat: float | None
    long: float | None
    population: int | None

    @property
    def current(self) -> bool:
        return self.end_date is None

    @property
    def lower_tier(self) -> bool:
        return self.kind in LOWER_TIER_TYPES


@dataclass(frozen=True)
class PostcodeDistrict:
    """An outward code such as TS18, with the council it mostly falls in."""

    district: str
    council_code: str | None
    uk_region: str
    post_town: str
    lat: float | None
    long: float | None
    active_postcodes: int


@dataclass(frozen=True)
class Prison:
    """A prison from the Ministry of Justice register."""

    id: str
    base_name: str
    register_name: str
    welsh_name: str
    active: bool
    male: bool
    female: bool
    types: tuple[str, ...]
    categories: tuple[str, ...]
    operator: str
    address_lines: tuple[str, ...]
    town: str
    county: str
    postcode: str
    country: str
    switchboard_2016: str | None = None
    council_code: str | None = None

    @property
    def display_name(self) -> str:
        """'HMP Durham', 'HMYOI Wetherby', 'Oakhill STC', as the register's own name says."""
        if "(" not in self.register_name:
            return self.register_name  # "Dover Immigration Removal Centre"
        kind = self.register_name[self.register_name.find("(") + 1 : self.register_name.rfind(")")].upper()
        if "HMP" in kind:
            return f"HMP {self.base_name}"
        if "YOI" in kind:
            return f"HMYOI {self.base_name}"
        return f"{self.base_name} {kind}"

    @property
    def address(self) -> str:
        """The postal address; empty where we only know the town (Scottish and Northern Irish prisons)."""
        if not self.address_lines and not self.postcode:
            return ""
        parts = [*self.address_lines, self.town, self.postcode]
        return ", ".join(p for p in parts if p)


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


@dataclass
class Gazetteer:
    """Everything we know about UK places and prisons, with lookups by name and postcode."""

    councils: dict[str, Council]
    districts: dict[str, PostcodeDistrict]
    prisons: dict[str, Prison]
    council_aliases: dict[str, frozenset[str]]
    prison_aliases: dict[str, frozenset[str]]
    local_prison_names: frozenset[str] = frozenset()
    # Prisons in Scotland and Northern Ireland (bot/geo/data/prisons_scotland_ni_2026.csv), kept
    # apart from `prisons` (the England and Wales register) but found by name like them.
    devolved_prisons: dict[str, Prison] = field(default_factory=dict)
    _overrides: dict[tuple[str, str], str] = field(default_factory=dict)

    # --- councils -----------------------------------------------------------------
    def council(self, code: str) -> Council:
        return self.councils[code]

    def current_councils(self) -> list[Council]:
        return [c for c in self.councils.values() if c.current]

    def successors(self, council: Council) -> list[Council]:
        """The current councils that now cover an abolished council's area (itself if current)."""
        if council.current:
            return [council]
        found: list[Council] = []
        for code in council.replaced_by:
            if code in self.councils:
                found.extend(self.successors(self.councils[code]))
        return found

    def council_by_alias(self, alias: str) -> Council | None:
        """The council a normalised alias names, choosing sensibly where several share it."""
        codes = self.council_aliases.get(alias)
        if not codes:
            return None
        override = self._overrides.get(("council", alias))
        if override and override in codes:
            return self.councils[override]
        candidates = [self.councils[c] for c in codes]
        candidates.sort(
            key=lambda c: (
                alias not in (normalise(c.name), normalise(c.official_name)),  # a council's own name is its own
                not c.current,
                not c.lower_tier,
                -(c.population or 0),
                c.code,
            )
        )
        return candidates[0]

    def find_council(self, text: str) -> Council | None:
        """The council named by free text such as 'Stockton', 'Kingston upon Thames council' or 'TS18 1AB'."""
        alias = normalise(text)
        found = self.council_by_alias(alias) or self.council_by_alias(strip_filler(alias))
        if found:
            return found
        district = self.find_district(text)
        if district and district.council_code:
            return self.councils[district.council_code]
        return None

    # --- postcodes -----------------------------------------------------------------
    def find_district(self, text: str) -> PostcodeDistrict | None:
        """The postcode district of a full postcode or outward code anywhere in text."""
        for match in POSTCODE_RE.finditer(text):
            district = self.districts.get(match.group("district").upper())
            if district:
                return district
        return None

    # --- prisons -----------------------------------------------------------------
    def prison(self, prison_id: str) -> Prison:
        """A prison by id, from the register or the Scottish and Northern Irish list."""
        return self.prisons[prison_id] if prison_id in self.prisons else self.devolved_prisons[prison_id]

    def prison_by_alias(self, alias: str, youth: bool = False) -> Prison | None:
        """The prison a normalised name means; `youth`: the name was written 'HMYOI X' or
        'X YOI', so where the register has a young offender institution beside a prison of
        the same name (Feltham, Parc), the YOI."""
        ids = self.prison_aliases.get(alias)
        if not ids:
            return None
        override = self._overrides.get(("prison", alias))
        if override and override in ids and not youth:
            return self.prison(override)
        candidates = sorted(
            (self.prison(i) for i in ids),
            key=lambda p: (
                youth and not p.display_name.startswith("HMYOI"),
                not p.active,
                "HMP" not in p.types,
                p.id,
            ),
        )
        return candidates[0]

    # --- nations -----------------------------------------------------------------
    def nation_of_council(self, code: str) -> str | None:
        """england, wales, scotland or northern_ireland for a council code."""
        council = self.councils.get(code)
        return NATIONS.get(council.nation) if council else None

    def nation_of_prison(self, prison_id: str) -> str | None:
        """The nation whose prison service runs a prison (the register's country, else its council's)."""
        if prison_id not in self.prisons and prison_id not in self.devolved_prisons:
            return None
        prison = self.prison(prison_id)
        if prison.country in NATIONS:
            return NATIONS[prison.country]
        return self.nation_of_council(prison.council_code) if prison.council_code else None

    def find_prison(self, text: str) -> Prison | None:
        """A prison named by free text: 'HMP Low Newton', 'durham prison', 'Strangeways'."""
        alias = normalise(text)
        youth = False
        for prefix in ("hmp and yoi ", "hmp yoi ", "hmpyoi ", "hmyoi ", "hmp ", "hm prison ", "yoi "):
            if alias.startswith(prefix):
                alias = alias[len(prefix):]
                youth = prefix in ("hmyoi ", "yoi ")
                break
        for suffix in (" prison", " jail", " gaol", " nick", " hmp", " yoi", " stc"):
            if alias.endswith(suffix):
                alias = alias[: -len(suffix)]
                youth = youth or suffix == " yoi"
                break
        return self.prison_by_alias(alias, youth=youth)

    def prisons_in(self, council_codes: set[str]) -> list[Prison]:
        return [p for p in self.prisons.values() if p.active and p.council_code in council_codes]

    @cached_property
    def town_names(self) -> frozenset[str]:
        """Normalised post towns and town/area names: places that are not councils but are still places."""
        names: set[str] = set()
        with POSTCODES_CSV.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for value in [row["Post Town"], *row["Town/Area"].split(",")]:
                    name = normalise(value)
                    if name:
                        names.add(name)
        return frozenset(names)


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
    overrides: dict[tuple[str, str], str] = {}
    prison_alias_names: list[tuple[str, str]] = []
    for row in _load_overrides():
        alias = normalise(row["name"])
        if row["kind"] == "council":
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
        else:
            prison_alias_names.append((alias, normalise(row["target"])))

    prisons = _load_prisons(_load_prison_phones())
    prison_aliases: dict[str, set[str]] = {}
    for prison in prisons.values():
        for name in {normalise(prison.base_name), normalise(prison.welsh_name)} - {""}:
            prison_aliases.setdefault(name, set()).add(prison.id)
    devolved, devolved_aliases = _load_devolved_prisons()
    for prison in devolved.values():
        prison_aliases.setdefault(normalise(prison.base_name), set()).add(prison.id)
    for alias, pid in devolved_aliases:
        prison_aliases.setdefault(alias, set()).add(pid)
    for alias, target in prison_alias_names:
        ids = prison_aliases.get(target)
        if not ids:
            raise ValueError(f"overrides.csv: prison {target!r} is not in the register")
        prison_aliases.setdefault(alias, set()).update(ids)

    # A devolved prison's own name said bare ("he's in Barlinnie") means the prison unless it is a
    # council or a town too (Perth, Greenock): those need "HMP" or "prison" beside them.
    devolved_bare = {normalise(p.base_name) for p in devolved.values()} | {a for a, _ in devolved_aliases}
    gaz = Gazetteer(
        devolved_prisons=devolved,
        local_prison_names=frozenset(alias for alias, _ in prison_alias_names),
        councils=councils,
        districts={},
        prisons=prisons,
        council_aliases={k: frozenset(v) for k, v in council_aliases.items()},
        prison_aliases={k: frozenset(v) for k, v in prison_aliases.items()},
        _overrides=overrides,
    )
    gaz.districts = _load_districts(gaz)
    gaz.local_prison_names = gaz.local_prison_names | frozenset(devolved_bare - gaz.town_names)
    gaz.prisons = {
        pid: _with_council(p, gaz) for pid, p in prisons.items()
    }
    return gaz


def _with_council(prison: Prison, gaz: Gazetteer) -> Prison:
    district = gaz.find_district(prison.postcode) if prison.postcode else None
    if district is None or district.council_code is None:
        return prison
    from dataclasses import replace

    return replace(prison, council_code=district.council_code)


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
