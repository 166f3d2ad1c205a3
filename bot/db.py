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


def make_engine(url: str, *, connect_timeout: int | None = None, statement_timeout: int | None = None) -> Engine:
    """An engine for `url` (SQLAlchemy 2.0 style). SQLite gets foreign keys and WAL.

    Timeouts in seconds (None: DB_CONNECT_TIMEOUT and DB_STATEMENT_TIMEOUT; 0: no limit), so one
    slow query or an unreachable server never holds a request, or Rasa's conversation lock,
    for long. PostgreSQL cancels a statement after `statement_timeout`; SQLite waits at most
    that long for another connection's lock.
    """
    if connect_timeout is None or statement_timeout is None:
        settings = Settings.from_env()
        connect_timeout = settings.db_connect_timeout if connect_timeout is None else connect_timeout
        statement_timeout = settings.db_statement_timeout if statement_timeout is None else statement_timeout
    if url.startswith("sqlite"):
        # sqlite3's `timeout` is how long a statement waits for a lock (its default is 5 s).
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": float(statement_timeout or 3600)},
        )

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
            # "BEGIN IMMEDIATE" (session_factory(immediate=True)) takes the write lock at once:
            # a transaction that reads and then writes waits its turn instead of failing with
            # "database is locked" when another writer committed in between.
            immediate = connection.get_execution_options().get("sqlite_immediate")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    connect_args: dict = {}
    if url.startswith("postgresql") and url.split(":", 1)[0] in ("postgresql", "postgresql+psycopg2"):
        if connect_timeout:
            connect_args["connect_timeout"] = connect_timeout
        if statement_timeout:
            connect_args["options"] = f"-c statement_timeout={statement_timeout * 1000}"
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(url: str | None = None, *, immediate: bool = False) -> sessionmaker:
    """Sessions for the configured database (DATABASE_URL, default SQLite in var/).

    `immediate`: on SQLite every transaction starts with BEGIN IMMEDIATE (for a process whose
    threads read-then-write concurrently, like the console); no effect on PostgreSQL.
    """
    engine = engine_for(url or Settings.from_env().database_url)
    if immediate and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_immediate=True)
    return sessionmaker(engine, class_=Session, future=True, expire_on_commit=False)


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
