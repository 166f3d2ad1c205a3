"""The records of the UK geography: councils, postcode districts and prisons, as the reference data gives them."""
from __future__ import annotations

from dataclasses import dataclass

# The `nation` slot's values, from the names the reference data uses.
NATIONS = {"England": "england", "Wales": "wales", "Scotland": "scotland", "Northern Ireland": "northern_ireland"}

# Types that are a council people live in (as opposed to counties and combined authorities
# that sit above them).
LOWER_TIER_TYPES = frozenset({"NMD", "UA", "MD", "LBO", "SCO", "WPA", "NID", "CC"})
UPPER_TIER_TYPES = frozenset({"CTY", "COMB", "SRA"})

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
