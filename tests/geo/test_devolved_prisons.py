"""Scotland's and Northern Ireland's prisons (bot/geo/data/prisons_scotland_ni_2026.csv) and the nation of every place."""
from __future__ import annotations

import csv

import pytest

from bot.geo import gazetteer
from bot.geo.loader import DEVOLVED_PRISONS_CSV
from bot.geo.records import NATIONS


@pytest.fixture(scope="module")
def gaz():
    return gazetteer()


def test_every_row_names_its_source_and_check_date():
    with DEVOLVED_PRISONS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 15
    assert all(r["source"].strip() and r["checked"] == "2026-12-03" for r in rows)
    assert {r["nation"] for r in rows} == {"Scotland", "Northern Ireland"}


@pytest.mark.parametrize(
    "text, name, nation",
    [
        ("HMP Barlinnie", "HMP Barlinnie", "scotland"),
        ("barlinnie prison", "HMP Barlinnie", "scotland"),
        ("HMYOI Polmont", "HMYOI Polmont", "scotland"),
        ("saughton", "HMP Edinburgh", "scotland"),
        ("hmp grampian", "HMP Grampian", "scotland"),
        ("Maghaberry", "HMP Maghaberry", "northern_ireland"),
        ("hydebank wood", "Hydebank Wood Secure College and Women's Prison", "northern_ireland"),
    ],
)
def test_devolved_prisons_are_found_by_name_with_their_nation(gaz, text, name, nation):
    prison = gaz.find_prison(text)
    assert prison.display_name == name
    assert gaz.nation_of_prison(prison.id) == nation
    assert prison.address == ""  # we hold the town only, never a guessed address


def test_the_england_and_wales_register_is_unchanged(gaz):
    # Code that goes through every prison in England and Wales (gaz.prisons) never meets a Scottish one.
    assert not set(gaz.prisons) & set(gaz.devolved_prisons)
    assert {p.country for p in gaz.prisons.values() if p.active} <= {"England", "Wales"}
    assert gaz.find_prison("HMP Durham").id == "DMI"


def test_every_active_prison_has_a_nation(gaz):
    for prison in [*gaz.prisons.values(), *gaz.devolved_prisons.values()]:
        if prison.active:
            assert gaz.nation_of_prison(prison.id) in NATIONS.values(), prison.display_name
    assert gaz.nation_of_prison("PRI") == "wales"  # HMP Parc
    assert gaz.nation_of_prison("NOPE") is None


def test_every_current_council_has_a_nation(gaz):
    for council in gaz.current_councils():
        assert gaz.nation_of_council(council.code) in NATIONS.values(), council.name
    assert gaz.nation_of_council(gaz.find_council("Glasgow").code) == "scotland"
    assert gaz.nation_of_council(gaz.find_council("Belfast").code) == "northern_ireland"
    assert gaz.nation_of_council(gaz.find_council("Cardiff").code) == "wales"
