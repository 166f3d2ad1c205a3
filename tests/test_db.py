"""bot/db.py on SQLite and PostgreSQL: the migrations and the models describe the same schema (a
column added to a model without its migration, or the other way round, fails here, not in
production); timeouts; and `attempt`/`run`, the one way to run a unit of work."""
from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot import db
from bot.db import Base
import bot.channels.models  # noqa: F401  (every table's model must be mapped)
import bot.directory.models  # noqa: F401
import bot.referrals.models  # noqa: F401


def test_the_migrated_schema_matches_the_models(database_url):
    with db.engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_connect_and_statement_timeouts(database_url, monkeypatch):
    """Defaults: 5 s to connect, 10 s a statement; PostgreSQL cancels a statement past its limit."""
    from sqlalchemy.exc import OperationalError

    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        if database_url.startswith("sqlite"):
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        else:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "10s"
            assert connection.connection.get_dsn_parameters()["connect_timeout"] == "5"
    engine.dispose()
    if database_url.startswith("sqlite"):
        return
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "1")
    engine = db.make_engine(database_url)
    with engine.connect() as connection, pytest.raises(OperationalError, match="statement timeout"):
        connection.execute(text("SELECT pg_sleep(30)"))
    engine.dispose()
    # Migrations run without the limit (a big table may take long to rewrite).
    engine = db.make_engine(database_url, statement_timeout=0)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    engine.dispose()


# --- db.attempt and db.run: one unit of work, one session, one way to fail ----------------------

SECRET = "07700900123"  # a value that must never reach the log
DOWN = "postgresql://nobody@127.0.0.1:1/none"  # nothing listens on port 1


@pytest.fixture
def scratch(empty_database_url, monkeypatch) -> str:
    """A database with one table, `scratch(n UNIQUE)`, that DATABASE_URL points at."""
    with db.engine_for(empty_database_url).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (n VARCHAR(20) NOT NULL UNIQUE)")
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    return empty_database_url


def count(url: str) -> int:
    with db.engine_for(url).connect() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM scratch").scalar_one()


def insert(value: str):
    def work(session) -> str:
        session.execute(text("INSERT INTO scratch (n) VALUES (:n)"), {"n": value})
        return value
    return work


def test_a_write_is_committed_and_its_result_returned(scratch):
    assert db.attempt(insert("a"), what="store a", write=True) == "a"
    assert count(scratch) == 1


def test_a_read_is_never_committed(scratch):
    db.attempt(insert("a"), what="look up a")  # not a write: rolled back when the session closes
    assert count(scratch) == 0


def test_a_failed_write_leaves_nothing_and_logs_only_the_error_type(scratch, caplog):
    def twice(session) -> None:
        insert(SECRET)(session)
        session.flush()
        insert(SECRET)(session)  # IntegrityError: the first row goes too

    caplog.set_level(logging.DEBUG, logger="bot.db")
    with pytest.raises(db.Unavailable) as raised:
        db.attempt(twice, what="store a number", write=True)
    assert raised.value.what == "store a number" and type(raised.value.__cause__).__name__ == "IntegrityError"
    assert count(scratch) == 0
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("WARNING", "could not store a number: IntegrityError")]
    assert SECRET not in caplog.text and not any(r.exc_info for r in caplog.records)


def test_a_database_that_cannot_be_reached(monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", DOWN)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    db.engine_for.cache_clear()
    with pytest.raises(db.Unavailable):
        db.attempt(insert(SECRET), what="store a number", write=True)
    # With a fallback the caller carries on: None is a fallback too.
    assert db.attempt(insert(SECRET), what="check who is on shift", otherwise=False) is False
    assert db.attempt(insert(SECRET), what="look up open call backs", otherwise=None) is None
    assert [r.getMessage() for r in caplog.records if r.name == "bot.db"] == [
        "could not store a number: OperationalError", "could not check who is on shift: OperationalError",
        "could not look up open call backs: OperationalError",
    ]
    db.engine_for.cache_clear()


def test_other_errors_are_not_the_database_s(scratch):
    def broken(session) -> None:
        insert("a")(session)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        db.attempt(broken, what="store a", write=True, otherwise=None)
    assert count(scratch) == 0


def test_sessions_from_a_given_factory(scratch, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", DOWN)  # not used: the factory names the database
    assert db.attempt(insert("a"), what="store a", write=True, sessions=db.session_factory(scratch)) == "a"
    assert count(scratch) == 1


def test_run_works_off_the_event_loop(scratch):
    async def main() -> tuple[int, int]:
        def work(session) -> int:
            insert("a")(session)
            return threading.get_ident()

        return threading.get_ident(), await db.run(work, what="store a", write=True)

    loop_thread, work_thread = asyncio.run(main())
    assert loop_thread != work_thread
    assert count(scratch) == 1


def test_run_raises_unavailable_or_returns_the_fallback(scratch):
    async def main() -> object:
        await db.run(insert("a"), what="store a", write=True)
        with pytest.raises(db.Unavailable):
            await db.run(insert("a"), what="store a again", write=True)  # unique: IntegrityError
        return await db.run(insert("a"), what="store a again", write=True, otherwise="fallback")

    assert asyncio.run(main()) == "fallback"
    assert count(scratch) == 1
