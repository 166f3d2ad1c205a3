"""Ranking and filtering services, on SQLite and on the PostgreSQL server."""
from __future__ import annotations

from bot.directory import areas, search
import directory_records as data


def ids(page):
    return [f.id for f in page.results]


def test_local_first_then_region_then_national(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Stockton"), need="kinship_care", audience="family")
    assert ids(page) == ["stockton-kinship", "ne-kinship", "national-kinship"]
    assert [f.scope for f in page.results] == [areas.LOCAL, areas.REGION, areas.NATIONAL]
    assert page.local_count == 1 and not page.has_more


def test_services_only_for_professionals_are_offered_to_professionals_only(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    stockton = areas.find_council("TS18 1AB")
    with session_for() as s:
        family = search.search_services(s, council=stockton, need="kinship_care", audience="family", limit=10)
        teacher = search.search_services(s, council=stockton, need="kinship_care", audience="professional", limit=10)
    assert "stockton-training" not in ids(family)
    with session_for() as s:
        unknown = search.search_services(s, council=stockton, need="kinship_care", limit=10)
    assert "stockton-training" not in ids(unknown)  # not said who they are: not offered either
    assert ids(teacher)[0] == "stockton-training"  # what suits the asker comes first among local ones


def test_the_need_filters_and_no_need_gives_everything_nearby(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    stockton = areas.find_council("Stockton")
    with session_for() as s:
        assert ids(search.search_services(s, council=stockton, need="housing")) == ["stockton-housing"]
        everything = search.search_services(s, council=stockton, limit=10)
    assert set(ids(everything)) == {"stockton-kinship", "stockton-housing", "ne-kinship", "national-kinship"}


def test_a_county_service_serves_its_districts(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Maidstone"), need="kinship_care")
    assert ids(page) == ["kent-county", "national-kinship"]
    assert page.results[0].scope == areas.COUNTY and page.local_count == 1


def test_nowhere_local_gives_only_national_services(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Cornwall"), need="kinship_care")
    assert ids(page) == ["national-kinship"] and page.local_count == 0
    with session_for() as s:
        assert search.search_services(s, council=areas.find_council("Cornwall"), need="housing").results == []


def test_paging_three_at_a_time(session_for):
    many = [data.record(f"s{i:02d}", ["council:STT"]) for i in range(7)]
    with session_for() as s, s.begin():
        data.load(s, many)
    stockton = areas.find_council("Stockton")
    with session_for() as s:
        pages = [search.search_services(s, council=stockton, offset=o) for o in (0, 3, 6)]
    assert [ids(p) for p in pages] == [["s00", "s01", "s02"], ["s03", "s04", "s05"], ["s06"]]
    assert [p.has_more for p in pages] == [True, True, False]


def test_recently_checked_entries_rank_first_within_a_scope(session_for):
    from datetime import date

    older = data.record("a-older", ["council:STT"])
    checked = data.record("z-checked", ["council:STT"], last_verified=date(2026, 10, 1), state="verified", checked_source="https://example.org")
    with session_for() as s, s.begin():
        data.load(s, [older, checked])
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Stockton"))
    assert ids(page) == ["z-checked", "a-older"]
    assert page.results[0].verified and page.results[1].as_of == "2024-05"


def test_services_at_a_prison(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        found = search.services_at_prison(s, search.prison_id_for("durham prison"))
    assert [f.id for f in found] == ["durham-visitors"]
