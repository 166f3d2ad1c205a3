"""The directory as the Open Referral UK API reads it: filters add up, pages count right, closed and
replaced entries are never listed as active, and "near a postcode" is nearest first. Every record
served validates against the HSDS 3.0 schemas."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update
from tests.support import directory_records as data, hsds_schemas

from bot.directory import editing, hsds, open_data
from bot.directory.models import Service, stable_uuid
from bot.directory.open_data import BadFilter, Filters
from bot.directory.records import LocationRecord

# Three places a family might go, at known distances from Durham (DH1): Stockton about 27 km,
# Newcastle about 23 km; all three councils are in the North East region.
DURHAM_GROUP = data.record("durham-group", ["council:DUR"], locations=[LocationRecord(id="durham-hall", name="Durham hall", address="Claypath", postcode="DH1 1RH")])
STOCKTON_GROUP = data.record("stockton-group", ["region:North East"], locations=[LocationRecord(id="stockton-hall", name="Stockton hall", address="High Street", postcode="TS18 1AB")])
NEWCASTLE_GROUP = data.record("newcastle-group", ["region:North East"], locations=[LocationRecord(id="newcastle-hall", name="Newcastle hall", address="Grey Street", postcode="NE1 6EE")])
ALL = data.ALL + [DURHAM_GROUP, STOCKTON_GROUP, NEWCASTLE_GROUP]


@pytest.fixture
def directory(session_for):
    with session_for() as s, s.begin():
        data.load(s, ALL)
    return session_for


def keys(page: open_data.Page) -> list[str]:
    by_uuid = {stable_uuid("service", r.id): r.id for r in ALL}
    return [by_uuid[item.get("service_id", item["id"])] for item in page.contents]


def services(session_for, **filters) -> open_data.Page:
    with session_for() as s:
        return open_data.list_services(s, Filters(**filters), 1, 50)


def test_every_offered_service_is_listed_once_valid_and_paged(directory):
    first = services(directory)
    assert sorted(keys(first)) == sorted(r.id for r in ALL)
    for item in first.contents:
        assert hsds_schemas.problems(item, "service_list.json") == []
    with directory() as s:
        pages = [open_data.list_services(s, Filters(), n, 4).as_json() for n in (1, 2, 3, 4)]
    assert [p["size"] for p in pages] == [4, 4, 2, 0]
    assert [(p["first_page"], p["last_page"]) for p in pages[:3]] == [(True, False), (False, False), (False, True)]
    assert {p["total_items"] for p in pages} == {10} and {p["total_pages"] for p in pages} == {3}
    assert sum((p["contents"] for p in pages), []) == first.contents


def test_closed_and_replaced_entries_are_not_listed_but_answer_by_id_as_inactive(directory):
    with directory() as s, s.begin():
        editing.close(s, "stockton-housing", by="Ann", source="rang them", user_id=None)
        kent = s.get(Service, "kent-county")
        kent.state, kent.successor_id = "replaced", "national-kinship"
    listed = keys(services(directory))
    assert "stockton-housing" not in listed and "kent-county" not in listed
    with directory() as s:
        closed = open_data.get_service(s, stable_uuid("service", "stockton-housing"))
        replaced = open_data.get_service(s, "kent-county")
    assert closed["status"] == "inactive" and replaced["status"] == "inactive"
    assert replaced[hsds.EXTENSION]["successor_service_id"] == stable_uuid("service", "national-kinship")
    assert hsds_schemas.problems(closed, "service.json") == []


def test_filters_add_up(directory):
    assert keys(services(directory, search="what stockton-kinship")) == ["stockton-kinship"]
    assert keys(services(directory, search="nothing-like-this")) == []
    kinship = {"stockton-kinship", "ne-kinship", "national-kinship", "kent-county", "stockton-training"}
    assert set(keys(services(directory, taxonomy_term_id="kinship_care"))) == kinship
    assert set(keys(services(directory, taxonomy_term_id=hsds.term_id(hsds.NEEDS_VOCABULARY, "kinship_care")))) == kinship
    by_eligibility = services(directory, taxonomy_term_id=hsds.term_id(hsds.ELIGIBILITY_VOCABULARY, "professionals"))
    assert keys(by_eligibility) == ["stockton-training"]
    assert keys(services(directory, organization_id=stable_uuid("organization", "org-kent-county"))) == ["kent-county"]
    assert keys(services(directory, taxonomy_term_id="kinship_care", organization_id="org-kent-county")) == ["kent-county"]


def test_modified_after(directory):
    with directory() as s, s.begin():
        s.execute(update(Service).values(modified_at=datetime(2024, 1, 1)))
        s.execute(update(Service).where(Service.id == "ne-kinship").values(modified_at=datetime(2026, 6, 1, 12)))
    assert keys(services(directory, modified_after=datetime(2026, 6, 1, 12))) == ["ne-kinship"]
    assert keys(services(directory, modified_after=datetime(2026, 6, 1, 12, 0, 1))) == []


def test_a_postcode_keeps_services_whose_area_covers_it(directory):
    stockton = services(directory, point=open_data.point_for("TS18 1AB"))
    assert set(keys(stockton)) == {"stockton-kinship", "stockton-housing", "stockton-training", "ne-kinship", "national-kinship",
                                   "stockton-group", "newcastle-group"}
    with pytest.raises(BadFilter, match="not a UK postcode"):
        open_data.point_for("XX99")


def test_proximity_keeps_services_near_the_postcode_nearest_first(directory):
    durham = open_data.point_for("DH1 3HU")
    with directory() as s:
        near = open_data.list_service_at_locations(s, Filters(point=durham, proximity=30_000), 1, 50)
        nearer = open_data.list_service_at_locations(s, Filters(point=durham, proximity=25_000), 1, 50)
        services_near = open_data.list_services(s, Filters(point=durham, proximity=30_000), 1, 50)
    # Durham's own hall and the prison first; Stockton's group covers the whole region (so Durham) and is
    # within 30 km; Newcastle's is nearer than Stockton's.
    assert keys(near)[:2] == ["durham-group", "durham-visitors"] or keys(near)[:2] == ["durham-visitors", "durham-group"]
    assert keys(near)[2:] == ["newcastle-group", "stockton-group"]
    assert "stockton-group" not in keys(nearer)
    assert keys(services_near)[2:] == ["newcastle-group", "stockton-group"]
    for item in near.contents:
        assert hsds_schemas.problems(item, "service_at_location_list.json") == []
        assert item["location"]["addresses"][0]["country"] == "GB"


def test_unknown_taxonomy_filters_are_said_not_silently_empty(directory):
    with directory() as s, pytest.raises(BadFilter, match="not one of our taxonomy terms"):
        open_data.list_services(s, Filters(taxonomy_term_id="kinship"), 1, 50)
    with directory() as s, pytest.raises(BadFilter, match="not one of our taxonomies"):
        open_data.list_services(s, Filters(taxonomy_id="esd"), 1, 50)


def test_organizations_and_taxonomies_validate(directory):
    with directory() as s:
        orgs = open_data.list_organizations(s, Filters(), 1, 50)
        one = open_data.get_organization(s, orgs.contents[0]["id"])
    assert orgs.total_items == len(ALL)
    assert all(hsds_schemas.problems(o, "organization_list.json") == [] for o in orgs.contents)
    assert hsds_schemas.problems(one, "organization.json") == []
    terms = open_data.list_taxonomy_terms(Filters(taxonomy_id=hsds.ELIGIBILITY_VOCABULARY), 1, 50)
    assert terms.total_items == 10 and all(hsds_schemas.problems(t, "taxonomy_term.json") == [] for t in terms.contents)
    assert all(hsds_schemas.problems(t, "taxonomy.json") == [] for t in open_data.list_taxonomies(1, 10).contents)


def test_a_kept_count_is_counted_afresh_after_any_change(directory):
    assert services(directory).total_items == len(ALL)
    with directory() as s, s.begin():
        editing.close(s, "stockton-housing", by="Ann", source="rang them", user_id=None)
    page = services(directory)
    assert page.total_items == len(ALL) - 1 == len(page.contents)
