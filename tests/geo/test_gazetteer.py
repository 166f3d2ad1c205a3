"""The gazetteer against the whole reference data set."""
from __future__ import annotations

import csv

import pytest

from bot.geo import gazetteer
from bot.geo.loader import COUNCILS_CSV


@pytest.fixture(scope="module")
def gaz():
    return gazetteer()


def current_rows():
    with COUNCILS_CSV.open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if not r["end-date"]]


def test_every_current_council_resolves_by_its_own_names(gaz):
    rows = current_rows()
    assert len(rows) == 397
    for row in rows:
        for name in (row["nice-name"], row["official-name"]):
            found = gaz.find_council(name)
            assert found is not None, name
            assert found.code == row["local-authority-code"], (name, found.code)


def test_every_current_district_or_unitary_resolves_in_any_case(gaz):
    for council in gaz.current_councils():
        if council.lower_tier:
            assert gaz.find_council(council.name.upper()).code == council.code
            assert gaz.find_council(council.name.lower()).code == council.code


@pytest.mark.parametrize(
    "text, code",
    [
        ("Stockton", "STT"),
        ("stockton-on-tees", "STT"),
        ("Stockton-On-Tees Borough Council", "STT"),
        ("Kingston", "KTT"),
        ("Royal Borough of Kingston upon Thames", "KTT"),
        ("Hull", "KHL"),
        ("Newcastle", "NET"),
        ("Durham", "DUR"),
        ("Bristol", "BST"),
        ("city of bristol", "BST"),
        ("King's Lynn", "KIN"),
        ("Brighton & Hove", "BNH"),
        ("Redcar", "RCC"),
    ],
)
def test_aliases(gaz, text, code):
    assert gaz.find_council(text).code == code


def test_abolished_councils_lead_to_their_successors(gaz):
    harrogate = gaz.find_council("Harrogate")
    assert not harrogate.current
    assert [c.name for c in gaz.successors(harrogate)] == ["North Yorkshire"]
    cumbria = gaz.find_council("Cumbria")
    assert {c.name for c in gaz.successors(cumbria)} == {"Cumberland", "Westmorland and Furness"}


@pytest.mark.parametrize(
    "text, code",
    [("TS18", "STT"), ("ts18 1ab", "STT"), ("TS181AB", "STT"), ("KT1 1EU", "KTT"), ("BS1 5TR", "BST"), ("DH1 3HU", "DUR"), ("NE1 4ST", "NET")],
)
def test_postcodes_and_districts(gaz, text, code):
    assert gaz.find_council(text).code == code


def test_nearly_every_postcode_district_has_a_council(gaz):
    missing = [d for d in gaz.districts.values() if d.council_code is None]
    # Only the Channel Islands, the Isle of Man, BFPO and non-geographic codes lack one.
    assert len(missing) < 30
    assert all(d.uk_region in ("", "Northern Ireland") for d in missing)


def test_prisons(gaz):
    durham = gaz.find_prison("HMP Durham")
    assert durham.id == "DMI" and durham.address == "Old Elvet, Durham, DH1 3HU"
    assert durham.council_code == "DUR"
    assert gaz.find_prison("durham prison").id == "DMI"
    assert gaz.find_prison("HMP & YOI Low Newton").id == "LNI"
    assert gaz.find_prison("Strangeways").display_name == "HMP Manchester"
    assert gaz.find_prison("Wetherby").display_name == "HMYOI Wetherby"
    assert gaz.find_prison("nowhere prison") is None


def test_every_active_prison_is_placed_in_a_council(gaz):
    unplaced = [p.display_name for p in gaz.prisons.values() if p.active and p.country in ("England", "Wales") and p.council_code is None]
    assert unplaced == []
