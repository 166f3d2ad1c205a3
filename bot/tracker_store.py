"""Rasa's SQL tracker store, with SQLite connections kept open between messages.

Rasa 3.6 builds its SQLite engine with SQLAlchemy 1.4's default for a file database, which
opens a new connection (and re-reads the schema) for every retrieve and every save, and
commits with a full fsync. Here the SQLite engine keeps one pooled connection in WAL mode
with `synchronous=NORMAL`: a crash of the process loses nothing committed, a power cut
can lose the last moments of conversations (not call backs: those are in our own
database). With it, `bench/latency.py` went from x1.65 to x1.27 the reference's p50 at one
sender (docs/performance.md). PostgreSQL is left exactly as Rasa configures it.

endpoints.yml: `tracker_store: {type: bot.tracker_store.SQLTrackerStore, dialect: sqlite, db: ...}`;
the same keys as Rasa's `type: SQL`.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core import tracker_store
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

# busy_timeout: the console and the retention job write the same file (pause events, erasure).
SQLITE_PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000")


def sqlite_engine(url: sa.engine.URL | str) -> sa.engine.Engine:
    """A pooled SQLite engine in WAL mode with synchronous=NORMAL."""
    engine = sa.create_engine(
        url, poolclass=QueuePool, pool_size=1, max_overflow=4, connect_args={"check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:  # pragma: no cover - runs on every connect
        cursor = connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


class SQLTrackerStore(tracker_store.SQLTrackerStore):
    """Rasa's SQLTrackerStore; on SQLite, with the engine above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url
            self.engine.dispose()
            self.engine = sqlite_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
