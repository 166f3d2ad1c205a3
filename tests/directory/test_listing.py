"""The directory as staff browse it (bot.directory.listing): search by name, organisation, area,
need and state, a page at a time; the entries due a check, oldest first; one entry's page."""
from __future__ import annotations

from datetime import date

import pytest

from bot.directory import editing, listing
from bot.directory.models import CLOSED, VERIFIED
from tests.support import directory_records as data

CHECK = dict(checked_source="https://example.org")


@pytest.fixture
def loaded(session_for):
    with session_for() as s, s.begin():
        data.load(s, data.ALL + [
            data.record("checked-recently", ["council:STT"], state=VERIFIED, last_verified=date(2026, 11, 1), **CHECK),
            data.record("checked-long-ago", ["council:STT"], state=VERIFIED, last_verified=date(2025, 10, 31), **CHECK),
            data.record("checked-longer-ago", ["uk"], state=VERIFIED, last_verified=date(2024, 1, 5), **CHECK),
            data.record("gone", ["council:STT"], state=CLOSED, last_verified=date(2020, 1, 1), status="inactive", **CHECK),
            data.record("undated", ["uk"], source_id="undated-source", source_title="Undated", source_published=None),
        ])
    return session_for


def ids(found: listing.Listing) -> list[str]:
    return [e.id for e in found.entries]


def test_search_by_words_area_need_and_state(loaded):
    with loaded() as s:
        assert ids(listing.find(s, text="KINSHIP")) == ["national-kinship", "ne-kinship", "stockton-kinship"]  # by name
        assert ids(listing.find(s, text="org kent")) == ["kent-county"]  # the organisation's name
        # A council: its own entries and its county's (not the region's or national ones).
        assert ids(listing.find(s, area="Maidstone")) == ["kent-county"]
        assert set(ids(listing.find(s, area="Stockton-on-Tees"))) == {
            "stockton-kinship", "stockton-housing", "stockton-training", "checked-recently", "checked-long-ago", "gone"}
        assert ids(listing.find(s, area="North East")) == ["ne-kinship"]  # a region: exactly its own
        assert ids(listing.find(s, need="visiting")) == ["durham-visitors"]
        assert ids(listing.find(s, state="closed")) == ["gone"]
        assert ids(listing.find(s, text="kinship", area="Stockton", need="kinship_care")) == ["stockton-kinship"]
        assert listing.find(s, text="100%_ nothing").total == 0  # wildcards are only characters
        for bad in (dict(area="Atlantis"), dict(need="flying"), dict(state="stale")):
            with pytest.raises(listing.BadFilter) as raised:
                listing.find(s, **bad)
            assert raised.value.name == next(iter(bad))


def test_search_results_come_a_page_at_a_time(loaded):
    with loaded() as s:
        first = listing.find(s, size=5)
        last = listing.find(s, size=5, page=99)
    assert (first.total, first.pages, first.page, len(first.entries)) == (12, 3, 1, 5)
    assert (last.page, len(last.entries)) == (3, 2)  # a page past the end shows the last
    assert first.entries[0].contact == "0191 000 0000" and first.entries[0].organisation.startswith("Org ")


def test_due_a_check_oldest_first_and_never_closed_or_recent_ones(loaded):
    with loaded() as s:
        due = listing.due_for_check(s, months=12, today=date(2026, 12, 5))
        shorter = listing.due_for_check(s, months=1, today=date(2026, 12, 5))
    # Undated first, then the oldest check or source document; closed and recently checked ones not at all.
    assert ids(due) == ["undated", "checked-longer-ago", "durham-visitors", "kent-county", "national-kinship", "ne-kinship",
                        "stockton-housing", "stockton-kinship", "stockton-training", "checked-long-ago"]
    assert due.entries[1].as_of == date(2024, 1, 5) and due.entries[2].as_of == date(2024, 5, 1)  # the source's month
    assert "checked-recently" in ids(shorter)
    with loaded() as s, s.begin():
        editing.verify(s, "undated", by="Sam", source="https://example.org/undated", user_id=None)
    with loaded() as s:
        assert "undated" not in ids(listing.due_for_check(s, months=12))


def test_months_before_keeps_to_the_calendar():
    assert listing.months_before(date(2026, 12, 5), 12) == date(2025, 12, 5)
    assert listing.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert listing.months_before(date(2028, 3, 31), 1) == date(2028, 2, 29)
    assert listing.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_an_entry_and_what_surrounds_it(loaded):
    with loaded() as s, s.begin():
        editing.replace(s, "stockton-housing", "stockton-kinship", by="Ann", source="x", user_id=None)
    with loaded() as s:
        housing, kinship, durham = listing.entry(s, "stockton-housing"), listing.entry(s, "stockton-kinship"), listing.entry(s, "durham-visitors")
        assert housing.successor.id == housing.offered_instead.id == "stockton-kinship"
        assert [r.id for r in kinship.replaces] == ["stockton-housing"] and kinship.offered_instead is None
        assert kinship.area_names == ["Stockton-on-Tees"] and kinship.need_names == ["Grandparents and kinship carers"]
        assert housing.staff_changes == {"state": date.today()}
        assert durham.location is None and [loc.name for loc in durham.other_locations] == ["HMP Durham"]  # a prison's
        with pytest.raises(LookupError):
            listing.entry(s, "nowhere")
