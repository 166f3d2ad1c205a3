"""Lookups over the UK geography: councils by name, postcode districts, prisons by name, and the
nation each belongs to. bot.geo.loader reads the reference data into a Gazetteer."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.geo.names import normalise, strip_filler
from bot.geo.records import NATIONS, Council, PostcodeDistrict, Prison

POSTCODE_RE = re.compile(
    r"\b(?P<district>[A-Z]{1,2}[0-9][0-9A-Z]?)(?:\s*(?P<sector>[0-9])(?P<unit>[A-Z]{2}))?\b",
    re.IGNORECASE,
)


@dataclass
class Gazetteer:
    """Everything we know about UK places and prisons, with lookups by name and postcode."""

    councils: dict[str, Council]
    districts: dict[str, PostcodeDistrict]
    prisons: dict[str, Prison]
    council_aliases: dict[str, frozenset[str]]
    prison_aliases: dict[str, frozenset[str]]
    local_prison_names: frozenset[str] = frozenset()
    # Normalised post towns and town/area names: places that are not councils but are still places.
    town_names: frozenset[str] = frozenset()
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
