"""bot.tracker_store: loaded by Rasa from the endpoint we generate, stores and replays
conversations, sees erasure done by another engine, and on SQLite keeps its connection."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from bot import conversations, db
from bot.endpoints import tracker_store_endpoint
from bot.tracker_store import SQLTrackerStore


def open_store(url: str):
    return create_tracker_store(EndpointConfig.from_dict(tracker_store_endpoint(url)), Domain.empty())


def conversation(sender: str, *texts: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    for text in texts:
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
        tracker.update(BotUttered(f"reply to {text}"))
    return tracker


def stored_rows(url: str, sender: str) -> int:
    with db.engine_for(url).connect() as connection:
        return connection.execute(
            select(func.count()).select_from(conversations.events).where(conversations.events.c.sender_id == sender)
        ).scalar_one()


def test_rasa_loads_our_store_and_replays_conversations(database_url):
    store = open_store(database_url)
    assert isinstance(store, SQLTrackerStore)  # not Rasa's silent fallback to memory

    first = conversation("fc-1", "hello")
    asyncio.run(store.save(first))
    # As Rasa does for the next message: retrieve (this session's events), add, save.
    tracker = asyncio.run(store.retrieve("fc-1"))
    assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in first.events if e.type_name != "action"
                                                     or e.action_name != "action_session_start"]
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("and another", {"name": "greet", "confidence": 1.0}))
    asyncio.run(store.save(tracker))

    assert stored_rows(database_url, "fc-1") == len(first.events) + 2  # each event stored once
    again = asyncio.run(store.retrieve("fc-1"))
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    assert again.latest_message.text == "and another"
    assert asyncio.run(store.retrieve("somebody-else")) is None


def test_erasure_by_another_engine_is_seen_at_once(database_url):
    store = open_store(database_url)
    asyncio.run(store.save(conversation("fc-2", "hi", "please delete this")))
    assert asyncio.run(store.retrieve("fc-2")) is not None

    assert conversations.erase("fc-2", engine=db.engine_for(database_url)) > 0

    assert asyncio.run(store.retrieve("fc-2")) is None


def test_sqlite_connection_is_pooled_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = open_store(url)
    assert isinstance(store.engine.pool, QueuePool)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        first = connection.connection.dbapi_connection
    with store.engine.connect() as connection:
        assert connection.connection.dbapi_connection is first  # kept, not reopened per message


@pytest.mark.postgres
def test_postgresql_engine_is_rasas_own(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    store = open_store(database_url)
    assert store.engine.dialect.name == "postgresql"
    assert store.engine.pool.size() == 50  # Rasa's POSTGRESQL_DEFAULT_POOL_SIZE, untouched


def test_sqlite_core_statements_store_and_read_what_rasas_orm_does(tmp_path):
    """On SQLite, save and retrieve run as Core statements: the same rows, in the same order, and
    the same trackers (this session's, or every session's) as Rasa's own store."""
    from rasa.core.tracker_store import SQLTrackerStore as RasasStore

    ours = open_store(f"sqlite:///{tmp_path / 'ours.db'}")
    rasas = RasasStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasas.db"))
    first = conversation("fc-3", "hello", "how do i book a visit")
    second_session = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                      UserUttered("back again", {"name": "greet", "confidence": 1.0})]
    for store in (ours, rasas):
        asyncio.run(store.save(first))
        asyncio.run(store.save(first))  # Rasa's count of what is stored, quirks and all
        tracker = asyncio.run(store.retrieve("fc-3"))
        for new in second_session:
            tracker.update(new)
        asyncio.run(store.save(tracker))

    def rows(store):
        with store.engine.connect() as connection:
            return connection.execute(
                select(SQLTrackerStore.SQLEvent.__table__).order_by(SQLTrackerStore.SQLEvent.__table__.c.id)
            ).all()

    assert rows(ours) == rows(rasas) and len(rows(ours)) > len(first.events) + len(second_session)
    for read in ("retrieve", "retrieve_full_tracker"):
        mine, theirs = (asyncio.run(getattr(store, read)("fc-3")) for store in (ours, rasas))
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
    assert len(asyncio.run(ours.retrieve("fc-3")).events) < len(asyncio.run(ours.retrieve_full_tracker("fc-3")).events)
    assert asyncio.run(ours.retrieve("nobody")) is None and asyncio.run(rasas.retrieve("nobody")) is None
