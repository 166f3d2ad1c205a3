"""Migration 0006 on a database that already holds directory entries (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from bot import db


@pytest.fixture
def url_at_0005(empty_database_url):
    """A database at revision 0005 (before entry states), with one active and one inactive entry."""
    url = empty_database_url
    command.upgrade(db.alembic_config(url), "0005")
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organization (id, name, description) VALUES ('o', 'Org', '')"))
        for service_id, status in (("still-running", "active"), ("gone", "inactive")):
            conn.execute(
                text("INSERT INTO service (id, organization_id, name, description, status, suits_family, suits_young_person, "
                     "suits_professional, professionals_only) VALUES (:id, 'o', :id, '', :status, true, false, false, false)"),
                {"id": service_id, "status": status},
            )
    engine.dispose()
    yield url


def test_existing_entries_become_unchecked_or_closed(url_at_0005):
    command.upgrade(db.alembic_config(url_at_0005), "0006")  # this migration (later ones add required columns)
    engine = create_engine(url_at_0005, future=True)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, state FROM service")).all())
        extra = conn.execute(text("SELECT checked_source, successor_id FROM service WHERE id = 'still-running'")).one()
    assert rows == {"still-running": "unchecked", "gone": "closed"}
    assert tuple(extra) == (None, None)
    with engine.begin() as conn:  # and a new row gets the default
        conn.execute(text("INSERT INTO service (id, organization_id, name, description, status, suits_family, suits_young_person, "
                          "suits_professional, professionals_only) VALUES ('new', 'o', 'new', '', 'active', true, false, false, false)"))
        assert conn.execute(text("SELECT state FROM service WHERE id = 'new'")).scalar_one() == "unchecked"
    engine.dispose()
    command.downgrade(db.alembic_config(url_at_0005), "0005")  # and back, cleanly
    engine = create_engine(url_at_0005, future=True)
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM service")).keys()
    engine.dispose()
    assert "state" not in columns and "successor_id" not in columns
