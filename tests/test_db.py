"""The migrations and the models describe the same schema, on SQLite and PostgreSQL: a column
added to a model without its migration (or the other way round) fails here, not in production."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    import pytest

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
