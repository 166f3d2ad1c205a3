"""Each prison's GOV.UK page (bot/geo/pages.py): well formed for every active prison, the
hand-checked ones as checked, and Find a prison where the page's name is not known."""
from __future__ import annotations

import csv
import re

import pytest

from bot.geo import gazetteer
from bot.geo.pages import FIND_PRISON, PAGE_RE, PAGES_CSV, checked_pages, gov_uk_page, slug

ACTIVE = sorted((p for p in gazetteer().prisons.values() if p.active), key=lambda p: p.id)


def test_the_register_has_the_active_prisons_of_england_and_wales():
    assert len(ACTIVE) == 125
    assert {p.country for p in ACTIVE} == {"England", "Wales"}


@pytest.mark.parametrize("prison", ACTIVE, ids=lambda p: p.id)
def test_every_active_prison_gets_a_well_formed_gov_uk_address(prison):
    page = gov_uk_page(prison)
    assert page == FIND_PRISON or PAGE_RE.match(page), page
    if page != FIND_PRISON:
        assert page.endswith(("-prison", "-yoi")), page


def test_the_pages_checked_by_hand_are_given_as_checked():
    with PAGES_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "no checked pages"
    prisons = gazetteer().prisons
    for row in rows:
        assert row["prison_id"] in prisons, row
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["checked"]) and row["source"], row
        expected = row["page"] or FIND_PRISON
        assert gov_uk_page(prisons[row["prison_id"]]) == expected


def test_the_rule_and_its_exceptions():
    prisons = gazetteer().prisons
    assert gov_uk_page(prisons["DMI"]) == "https://www.gov.uk/guidance/durham-prison"  # checked
    assert gov_uk_page(prisons["WYI"]) == "https://www.gov.uk/guidance/wetherby-yoi"  # checked: not -prison
    assert slug(prisons["WSI"]) == "wormwood-scrubs-prison"
    assert slug(prisons["IWI"]) == "isle-of-wight-prison"
    assert gov_uk_page(prisons["MTI"]) == "https://www.gov.uk/guidance/the-mount-prison"


def test_a_doubtful_page_is_find_a_prison_never_a_guess():
    prisons = gazetteer().prisons
    for pid in ("STC3", "FYI", "PYI", "MHI"):  # a secure training centre, children's YOIs, a removal centre
        assert pid not in checked_pages() or not checked_pages()[pid]
        assert gov_uk_page(prisons[pid]) == FIND_PRISON
    closed = next(p for p in gazetteer().prisons.values() if not p.active)
    assert gov_uk_page(closed) == FIND_PRISON


def test_hmyoi_means_the_young_offender_institution_where_a_prison_shares_its_name():
    gaz = gazetteer()
    assert gaz.find_prison("HMYOI Feltham").id == "FYI"
    assert gaz.find_prison("HMP Feltham").id == "FMI"
    assert gaz.find_prison("Parc YOI").id == "PYI"
    assert gaz.find_prison("HMP Parc").id == "PRI"
    assert gaz.find_prison("Oakhill STC").id == "STC3"
    assert gaz.find_prison("strangeways").id == "MRI"  # local names still work
