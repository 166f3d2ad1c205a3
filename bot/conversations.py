"""Conversations as Rasa's SQL tracker store keeps them: its `events` table, transcripts for
staff, and erasing one conversation. (Anonymous counts: bot.usage; erasure and redaction
requests: bot.erasure; purging after the retention period: bot.retention.)

Rasa 3.6 has no API to delete a conversation (RASA_NOTES, rasa#10719), so we read and
delete rows of its `events` table (id, sender_id, type_name, timestamp, intent_name,
action_name, data) directly. Nothing here logs what people wrote.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.engine import Engine

from bot.dialogue.follow_up import is_reread

_metadata = MetaData()
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class Line:
    """One line of a transcript. `who` is "user", "bot", "worker" or "system". A person's
    message also carries Rasa's timestamp (which names it) and the intent it was read as."""

    at: datetime
    who: str
    text: str
    worker: str | None = None
    timestamp: float | None = None
    intent: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Deleted:
    """What deleting conversations did: events deleted, and the highest event id in the table
    before and after (SQLite gives a deleted top id to the next event: bot.insights.summary)."""

    events: int
    top_before: int
    top_after: int


def create_table(engine: Engine) -> None:
    """Create the events table as Rasa would (for tests; Rasa creates its own in use)."""
    _metadata.create_all(engine)


def has_conversations(engine: Engine) -> bool:
    """Whether Rasa has created its events table yet (it does on first start)."""
    return inspect(engine).has_table("events")


def event_time(timestamp: float | None) -> datetime:
    """Rasa's timestamp (seconds since the epoch) as a naive UTC datetime."""
    return datetime.fromtimestamp(timestamp or 0, tz=timezone.utc).replace(tzinfo=None)


def epoch(at: datetime) -> float:
    """A naive UTC datetime as Rasa's timestamp (seconds since the epoch)."""
    return at.replace(tzinfo=timezone.utc).timestamp()


def transcript(sender_id: str, *, engine: Engine) -> list[Line]:
    """What the person and the bot (and any worker) said, in order."""
    lines: list[Line] = []
    query = (
        select(events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.type_name.in_(("user", "bot", "pause", "resume")))
        .order_by(events.c.id)
    )
    with engine.connect() as connection:
        for type_name, timestamp, data in connection.execute(query):
            event = json.loads(data or "{}")
            at = event_time(timestamp)
            if type_name == "user":
                intent = (event.get("parse_data") or {}).get("intent") or {}
                read = {"intent": intent.get("name"), "confidence": intent.get("confidence")}
                if not is_reread(event):
                    lines.append(Line(at, "user", event.get("text") or "", timestamp=timestamp, **read))
                else:  # the message shown once, with what it was read as in the end
                    last = max((i for i, line in enumerate(lines) if line.who == "user"), default=None)
                    if last is not None:
                        lines[last] = replace(lines[last], **read)
            elif type_name == "bot":
                text = event.get("text") or ""
                buttons = (event.get("data") or {}).get("buttons") or []
                if buttons:
                    text += "\n" + " | ".join(b.get("title", "") for b in buttons)
                staff = (event.get("metadata") or {}).get("staff")
                lines.append(Line(at, "worker" if staff else "bot", text, worker=staff))
            elif type_name == "pause":
                lines.append(Line(at, "system", "The assistant was paused for a worker."))
            else:
                lines.append(Line(at, "system", "The assistant took over again."))
    return lines


def is_paused(sender_id: str, *, engine: Engine) -> bool:
    """Whether the latest pause/resume/restart event of the conversation is a pause."""
    query = (
        select(events.c.type_name)
        .where(events.c.sender_id == sender_id, events.c.type_name.in_(("pause", "resume", "restart")))
        .order_by(events.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none() == "pause"


def erase(sender_id: str, *, engine: Engine) -> int:
    """Delete a conversation from the tracker store. Returns the number of events deleted."""
    return delete_conversations([sender_id], engine=engine).events


def delete_conversations(sender_ids: list[str], *, engine: Engine, batch: int = 500) -> Deleted:
    """Delete these conversations from the tracker store in one transaction (`batch` sender ids
    a statement), noting the highest event id before and after."""
    top = select(func.coalesce(func.max(events.c.id), 0))
    deleted = 0
    # SQLite: BEGIN IMMEDIATE (bot.db), so reading the top id first cannot make the delete fail
    # when Rasa writes in between; nothing is written until the delete either way.
    with engine.execution_options(sqlite_immediate=True).begin() as connection:
        top_before = connection.execute(top).scalar_one()
        for start in range(0, len(sender_ids), batch):
            chunk = sender_ids[start : start + batch]
            deleted += connection.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount or 0
        top_after = connection.execute(top).scalar_one()
    return Deleted(deleted, top_before, top_after)
