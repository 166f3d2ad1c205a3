"""Rasa's SQL tracker store, with SQLite connections kept open between messages.

Rasa 3.6 builds its SQLite engine with SQLAlchemy 1.4's default for a file database, which
opens a new connection (and re-reads the schema) for every retrieve and every save, and
commits with a full fsync. Here the SQLite engine keeps one pooled connection in WAL mode
with `synchronous=NORMAL`: a crash of the process loses nothing committed, a power cut
can lose the last moments of conversations (not call backs: those are in our own
database). With it, `bench/latency.py` went from x1.65 to x1.27 the reference's p50 at one
sender (docs/performance.md). On SQLite, retrieve and save also run as SQLAlchemy Core
statements rather than through the ORM (the same queries, rows and transaction, at a third of
the time: no ORM object per event). PostgreSQL is left exactly as Rasa configures it.

endpoints.yml: `tracker_store: {type: bot.tracker_store.SQLTrackerStore, dialect: sqlite, db: ...}`;
the same keys as Rasa's `type: SQL`.
"""
from __future__ import annotations

import itertools
import json
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core import tracker_store
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
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
    """Rasa's SQLTrackerStore; on SQLite, with the engine above and Core statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._core = self.engine.dialect.name == "sqlite"
        if self._core and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url
            self.engine.dispose()
            self.engine = sqlite_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _events_since_session_start(self, columns: Any, sender_id: Text, all_sessions: bool = False) -> Any:
        """Rasa's `_event_query` as a Core select of `columns`: the sender's events (of the latest
        session unless `all_sessions`), oldest first."""
        events = self.SQLEvent.__table__
        query = sa.select(columns).where(events.c.sender_id == sender_id)
        if not all_sessions:
            session_start = (
                sa.select(sa.func.max(events.c.timestamp))
                .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.where(sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        return query

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        if not self._core:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        events = self.SQLEvent.__table__
        query = self._events_since_session_start(events.c.data, sender_id, fetch_events_from_all_sessions)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(events.c.id)).scalars().all()
        if self.domain and rows:
            return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save: the events not yet stored, in one transaction."""
        if not self._core:
            return await super().save(tracker)
        await self.stream_events(tracker)
        events = self.SQLEvent.__table__
        counted = self._events_since_session_start(sa.func.count(), tracker.sender_id)
        with self.engine.connect() as connection, connection.begin():
            stored = connection.execute(counted).scalar_one()
            rows = []
            for new in itertools.islice(tracker.events, stored, len(tracker.events)):
                data = new.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": new.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                connection.execute(events.insert(), rows)
