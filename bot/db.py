"""The application database: engine, session factory, and one way to run a unit of work
(`run`, `attempt`). Nothing connects at import time."""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

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
    """One engine (and so one connection pool) per URL for the whole process."""
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


class Unavailable(Exception):
    """The database could not do a unit of work (`attempt`, `run`); already logged, by the
    error's type only. `what` is the work's description; the SQLAlchemy error is `__cause__`."""

    def __init__(self, what: str) -> None:
        super().__init__(f"could not {what}")
        self.what = what


_RAISE: Any = object()  # `otherwise` not given: raise Unavailable


def attempt(
    work: Callable[[Session], T], *, what: str, write: bool = False,
    sessions: Callable[[], Session] | None = None, otherwise: Any = _RAISE,
) -> T:
    """Run `work(session)` in a session of its own and return what it returns.

    - `write=True`: inside `session.begin()`, committed when `work` returns, rolled back
      whole if anything fails (nothing half written); otherwise a read, rolled back on close.
    - `what` completes "could not ..." ("record an erasure request"): on any SQLAlchemyError,
      from connecting to committing, the warning `could not <what>: <ErrorType>` is logged
      (only the type: an error's text can quote a phone number or a sender id), then
      `Unavailable` is raised, or `otherwise` is returned if given (a fallback, None included).
    - `sessions`: where sessions come from (a sessionmaker; default: DATABASE_URL's).
    Other exceptions pass through untouched. One call, one session: callers never share one.

        try:
            reference = db.attempt(store, what="store a call-back request", write=True)
        except db.Unavailable:
            ...  # tell the person it failed
        on_shift = db.attempt(lambda s: staff_on_shift(session=s), what="check who is on shift", otherwise=False)
    """
    try:
        with (sessions or session_factory())() as session:
            if not write:
                return work(session)
            with session.begin():
                return work(session)
    except SQLAlchemyError as error:
        logger.warning("could not %s: %s", what, type(error).__name__)
        if otherwise is _RAISE:
            raise Unavailable(what) from error
        return otherwise


async def run(
    work: Callable[[Session], T], *, what: str, write: bool = False,
    sessions: Callable[[], Session] | None = None, otherwise: Any = _RAISE,
) -> T:
    """`attempt`, off the event loop (asyncio's default thread pool): the way actions and other
    async code use the database, since a query must never hold up other conversations.

        await db.run(lambda s: cases.request_erasure(sender_id, session=s), what="record an erasure request", write=True)
    """
    return await asyncio.to_thread(attempt, work, what=what, write=write, sessions=sessions, otherwise=otherwise)


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
