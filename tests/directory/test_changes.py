"""What the directory API says about change stays true whoever writes the directory: modified_at
moves only when something published changes, and coordinates follow the postcode."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from tests.support import directory_records as data

from bot.directory import editing
from bot.directory.models import Location, Organization, Phone, Service
from bot.directory.seed import load_seed
from bot.geo import gazetteer

LONG_AGO = datetime(2020, 1, 1)


def _age_everything(session_for) -> None:
    with session_for() as s, s.begin():
        s.execute(update(Service).values(modified_at=LONG_AGO))


def _modified(session_for) -> dict[str, datetime]:
    with session_for() as s:
        return dict(s.execute(select(Service.id, Service.modified_at)).all())


def test_reloading_the_same_seed_changes_no_ones_modified_time(session_for):
    with session_for() as s, s.begin():
        load_seed(s)
    _age_everything(session_for)
    with session_for() as s, s.begin():
        load_seed(s)
    assert set(_modified(session_for).values()) == {LONG_AGO}


def test_a_change_to_a_service_its_phones_or_its_organisation_moves_only_its_time(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    _age_everything(session_for)
    with session_for() as s, s.begin():
        s.get(Service, "stockton-kinship").description = "Now meets on Saturdays too."
        north_east = s.get(Service, "ne-kinship")  # held: the session keeps only weak references
        north_east.phones.append(Phone(number="0191 000 0001"))
        s.get(Organization, "org-kent-county").name = "Kent County Council"
    modified = _modified(session_for)
    changed = {k for k, v in modified.items() if v > LONG_AGO}
    assert changed == {"stockton-kinship", "ne-kinship", "kent-county"}
    assert all(datetime.utcnow() - modified[k] < timedelta(minutes=5) for k in changed)


def test_a_staff_correction_through_the_editor_moves_the_time(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    _age_everything(session_for)
    with session_for() as s, s.begin():
        editing.verify(s, "kent-county", by="Sam", source="https://kent.example.org", user_id=None)
    assert _modified(session_for)["kent-county"] > LONG_AGO


def test_a_locations_coordinates_follow_its_postcode(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s, s.begin():
        durham = s.get(Location, "prison-DMI")
        dh1 = gazetteer().find_district("DH1 3HU")
        assert (durham.latitude, durham.longitude) == (dh1.lat, dh1.long)
        durham.postcode = "TS18 1AB"
    with session_for() as s:
        moved = s.get(Location, "prison-DMI")
        ts18 = gazetteer().find_district("TS18")
        assert (moved.latitude, moved.longitude) == (ts18.lat, ts18.long)


def test_moving_a_location_moves_its_services_time(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    _age_everything(session_for)
    with session_for() as s, s.begin():
        s.get(Location, "prison-DMI").postcode = "TS18 1AB"
    assert _modified(session_for)["durham-visitors"] > LONG_AGO
    with session_for() as s, s.begin():
        s.get(Location, "prison-DMI").postcode = "ZZ99 9ZZ"  # no such district: no coordinates rather than wrong ones
    with session_for() as s:
        assert s.get(Location, "prison-DMI").latitude is None
