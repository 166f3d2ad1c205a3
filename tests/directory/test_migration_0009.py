"""Migration 0009 on a database that already holds directory entries (SQLite and PostgreSQL): each
record gets its stable UUID, each service whether it is on offer and a modified time, each
location the coordinates of its postcode district; and back down cleanly."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from bot import db
from bot.directory.models import stable_uuid
from bot.geo import gazetteer


def test_existing_entries_get_uuids_offered_and_coordinates(empty_database_url):
    url = empty_database_url
    command.upgrade(db.alembic_config(url), "0008")
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organization (id, name, description) VALUES ('o', 'Org', '')"))
        for service_id, state in (("running", "verified"), ("gone", "closed")):
            conn.execute(text(
                "INSERT INTO service (id, organization_id, name, description, status, state, suits_family, suits_young_person, "
                "suits_professional, professionals_only) VALUES (:id, 'o', :id, '', 'active', :state, true, false, false, false)"),
                {"id": service_id, "state": state})
        conn.execute(text("INSERT INTO location (id, name, postcode) VALUES ('hall', 'Hall', 'DH1 3HU'), ('nowhere', 'Nowhere', NULL)"))
        conn.execute(text("INSERT INTO service_at_location (id, service_id, location_id) VALUES ('running@hall', 'running', 'hall')"))
        conn.execute(text("INSERT INTO phone (service_id, number) VALUES ('running', '0191 000 0000')"))
        conn.execute(text("INSERT INTO service_area (service_id, area_key) VALUES ('running', 'council:DUR')"))
    engine.dispose()

    command.upgrade(db.alembic_config(url), "0009")
    engine = create_engine(url, future=True)
    with engine.connect() as conn:
        services = {r.id: r for r in conn.execute(text("SELECT id, uuid, offered, modified_at FROM service"))}
        places = {r.id: r for r in conn.execute(text("SELECT id, uuid, latitude, longitude FROM location"))}
        link = conn.execute(text("SELECT uuid FROM service_at_location")).scalar_one()
        org = conn.execute(text("SELECT uuid FROM organization")).scalar_one()
        # SQLite rebuilds the service table to add its columns: its children must survive that
        children = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("phone", "service_area", "service_at_location")]
    engine.dispose()
    assert children == [1, 1, 1]
    assert services["running"].uuid == stable_uuid("service", "running") and org == stable_uuid("organization", "o")
    assert link == stable_uuid("service_at_location", "running@hall")
    assert (bool(services["running"].offered), bool(services["gone"].offered)) == (True, False)
    assert services["gone"].modified_at is not None
    durham = gazetteer().find_district("DH1")
    assert (places["hall"].latitude, places["hall"].longitude) == (durham.lat, durham.long)
    assert places["nowhere"].latitude is None

    command.downgrade(db.alembic_config(url), "0008")
    engine = create_engine(url, future=True)
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM service")).keys()
    engine.dispose()
    assert "uuid" not in columns and "offered" not in columns
