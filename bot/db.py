"""The application database: engine and session factory. Nothing connects at import time."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.settings import Settings

# Every table of ours (directory, referrals, console) is declared on this one base.
Base = declarative_base()


def make_engine(url: str) -> Engine:
    """An engine for `url` (SQLAlchemy 2.0 style). SQLite gets foreign keys and WAL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # pragma: no cover - exercised by every SQLite test
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()
            # pysqlite starts transactions late and on its own, which breaks SAVEPOINTs
            # (a released savepoint would commit): let SQLAlchemy emit BEGIN itself.
            connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:  # pragma: no cover - exercised by every SQLite test
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(url: str | None = None) -> sessionmaker:
    """Sessions for the configured database (DATABASE_URL, default SQLite in var/)."""
    return sessionmaker(engine_for(url or Settings.from_env().database_url), class_=Session, future=True, expire_on_commit=False)


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str):
    """Alembic's configuration for our migrations on `url` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database at `url` (default: DATABASE_URL) to the newest schema."""
    from alembic import command

    url = url or Settings.from_env().database_url
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
