"""Service areas over the UK geography: every council, postcodes, alternative names, misspellings."""
from __future__ import annotations

import pytest

from bot.directory import areas
from bot.geo import gazetteer


def test_every_current_council_has_a_key_that_its_name_reads_back_to():
    for council in gazetteer().current_councils():
        key = areas.council_key(council)
        assert areas.area_key_from_name(areas.area_name(key)) == key, council


def test_every_current_council_is_covered_by_its_region_nation_and_the_uk():
    for council in gazetteer().current_councils():
        keys = areas.keys_covering(council)
        assert keys[areas.UK] == areas.NATIONAL
        assert keys[f"nation:{council.nation}"] == areas.NATION
        assert min(keys.values()) == areas.LOCAL


@pytest.mark.parametrize(
    "text, name",
    [
        ("Stockton", "Stockton-on-Tees"),
        ("stockon", "Stockton-on-Tees"),
        ("TS18 1AB", "Stockton-on-Tees"),
        ("TS18", "Stockton-on-Tees"),
        ("ts181ab", "Stockton-on-Tees"),
        ("Kingston", "Kingston upon Thames"),
        ("Middlesborough", "Middlesbrough"),
        ("newcasle", "Newcastle upon Tyne"),
        ("BS5", "City of Bristol"),
        ("Durham", "County Durham"),
    ],
)
def test_places_people_name(text, name):
    assert areas.find_place(text).council.name == name


def test_a_district_council_is_inside_its_county():
    council = areas.find_council("Maidstone")
    keys = areas.keys_covering(council)
    assert keys["county:KEN"] == areas.COUNTY and keys["region:South East"] == areas.REGION


def test_abolished_councils_give_their_successor():
    # Aylesbury Vale became part of Buckinghamshire Council in 2020.
    assert areas.find_council("Aylesbury Vale").name == areas.find_council("Buckinghamshire").name


@pytest.mark.parametrize("spec, key", [
    ("council:Stockton-on-Tees", "council:STT"),
    ("council:Kent", "county:KEN"),
    ("region:north east", "region:North East"),
    ("region:Wales", "nation:Wales"),
    ("nation:Scotland", "nation:Scotland"),
    ("uk", "uk"),
    ("england_and_wales", "england_and_wales"),
])
def test_area_specs(spec, key):
    assert areas.area_key(spec) == key


@pytest.mark.parametrize("bad", ["council:Atlantis", "region:Middle Earth", "planet:Mars", ""])
def test_unknown_areas_are_refused_with_a_reason(bad):
    with pytest.raises(areas.UnknownArea, match="unknown area|no place"):
        areas.area_key(bad) if bad else areas.find_place(bad)


def test_the_council_code_of_an_area_slot():
    assert areas.council_code("Stockton") == "STT"
    assert areas.council_code("Stockton-on-Tees") == "STT"
    assert areas.council_code("near the big retail park") is None
    assert areas.council_code("") is None and areas.council_code(None) is None
