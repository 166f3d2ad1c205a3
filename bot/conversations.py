"""Conversations as Rasa's SQL tracker store keeps them: transcripts for staff, erasure on
request, purging after the retention period, and anonymous counts for the statistics page.

Rasa 3.6 has no API to delete a conversation (RASA_NOTES, rasa#10719), so we read and
delete rows of its `events` table (id, sender_id, type_name, timestamp, intent_name,
action_name, data) directly. Nothing here logs what people wrote.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.referrals.models import KIND_CALLBACK, Case, UsageCount

logger = logging.getLogger(__name__)

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

# Intents that are a question about a topic (counted on the statistics page).
_NOT_TOPICS = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "ask_more_results", "nlu_fallback"}


def is_topic(intent: str | None) -> bool:
    return bool(intent) and intent not in _NOT_TOPICS and (intent.startswith("ask_") or intent.startswith("risk_") or intent in {"express_distress", "out_of_scope"})


@dataclass(frozen=True)
class Line:
    """One line of a transcript. `who` is "user", "bot", "worker" or "system"."""

    at: datetime
    who: str
    text: str
    worker: str | None = None


def create_table(engine: Engine) -> None:
    """Create the events table as Rasa would (for tests; Rasa creates its own in use)."""
    _metadata.create_all(engine)


def has_conversations(engine: Engine) -> bool:
    """Whether Rasa has created its events table yet (it does on first start)."""
    return inspect(engine).has_table("events")


def _at(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(timestamp or 0, tz=timezone.utc).replace(tzinfo=None)


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
            at = _at(timestamp)
            if type_name == "user":
                lines.append(Line(at, "user", event.get("text") or ""))
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
    with engine.begin() as connection:
        return connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount or 0


def _monday(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()


@dataclass
class _Conversation:
    first: datetime | None = None
    council: str = ""
    audience: str = ""
    topics: dict[str, int] | None = None


def _summaries(engine: Engine, sender_ids: list[str] | None = None) -> dict[str, _Conversation]:
    """Per conversation: when it started, its area and audience (last set), questions per topic."""
    from bot.directory.areas import find_council

    query = select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.intent_name, events.c.data).where(
        events.c.type_name.in_(("user", "slot"))
    )
    if sender_ids is not None:
        query = query.where(events.c.sender_id.in_(sender_ids))
    found: dict[str, _Conversation] = defaultdict(lambda: _Conversation(topics=defaultdict(int)))
    councils: dict[str, str] = {}
    with engine.connect() as connection:
        for sender_id, type_name, timestamp, intent, data in connection.execute(query.order_by(events.c.id)):
            conversation = found[sender_id]
            if type_name == "user":
                conversation.first = conversation.first or _at(timestamp)
                if is_topic(intent):
                    conversation.topics[intent] += 1
                continue
            event = json.loads(data or "{}")
            name, value = event.get("name"), event.get("value")
            if name == "audience" and isinstance(value, str):
                conversation.audience = value
            elif name == "area" and isinstance(value, str) and value:
                if value not in councils:
                    council = find_council(value)
                    councils[value] = council.code if council else ""
                conversation.council = councils[value] or conversation.council
    return {sender: c for sender, c in found.items() if c.first is not None}


def _add(totals: dict, key: tuple, conversations: int = 0, questions: int = 0, referrals: int = 0) -> None:
    row = totals.setdefault(key, [0, 0, 0])
    row[0] += conversations
    row[1] += questions
    row[2] += referrals


def _count(summaries: dict[str, _Conversation], totals: dict) -> None:
    for conversation in summaries.values():
        week = _monday(conversation.first.date())
        _add(totals, (week, conversation.council, "", conversation.audience), conversations=1)
        for topic, questions in conversation.topics.items():
            _add(totals, (week, conversation.council, topic, conversation.audience), conversations=1, questions=questions)


def purge_conversations(
    older_than_days: int, *, tracker_engine: Engine, session: Session, now: datetime | None = None
) -> int:
    """Erase conversations whose last event is older than N days, keeping anonymous counts.

    The counts are added to `usage_count` in `session` (committed by the caller, before the
    events are deleted: the worst a crash between the two can do is count a conversation twice).
    """
    cutoff = ((now or datetime.utcnow()) - timedelta(days=older_than_days)).replace(tzinfo=timezone.utc).timestamp()
    with tracker_engine.connect() as connection:
        old = list(
            connection.execute(
                select(events.c.sender_id).group_by(events.c.sender_id).having(func.max(events.c.timestamp) < cutoff)
            ).scalars()
        )
    if not old:
        return 0
    totals: dict = {}
    for start in range(0, len(old), 500):
        _count(_summaries(tracker_engine, old[start : start + 500]), totals)
    _store_counts(totals, session=session)
    session.commit()
    with tracker_engine.begin() as connection:
        for start in range(0, len(old), 500):
            connection.execute(delete(events).where(events.c.sender_id.in_(old[start : start + 500])))
    logger.info("purged %d conversations older than %d days", len(old), older_than_days)
    return len(old)


def _store_counts(totals: dict, *, session: Session) -> None:
    for (week, council, topic, audience), (conversations, questions, referrals) in totals.items():
        row = session.execute(
            select(UsageCount).where(
                UsageCount.week == week, UsageCount.council_code == council, UsageCount.topic == topic,
                UsageCount.audience == audience,
            )
        ).scalar_one_or_none()
        if row is None:
            row = UsageCount(week=week, council_code=council, topic=topic, audience=audience, conversations=0, questions=0, referrals=0)
            session.add(row)
        row.conversations += conversations
        row.questions += questions
        row.referrals += referrals
    session.flush()


def count_case_for_statistics(case: Case, *, session: Session) -> None:
    """Keep an anonymous count of a case that is about to be deleted."""
    if case.kind == KIND_CALLBACK:
        week = _monday(case.created_at.date())
        _store_counts({(week, case.council_code or "", case.topic or "", case.audience or ""): (0, 0, 1)}, session=session)


@dataclass(frozen=True)
class UsageRow:
    week: str
    council_code: str
    topic: str  # "" is every topic: conversations counted once
    audience: str
    conversations: int
    questions: int
    referrals: int


def usage(*, tracker_engine: Engine, session: Session) -> list[UsageRow]:
    """Conversations, questions and callback referrals by week, council, topic and audience:
    the live tracker store and the cases table, plus the counts kept from purged data."""
    totals: dict = {}
    _count(_summaries(tracker_engine), totals)
    for week, council, topic, audience, conversations, questions, referrals in session.execute(
        select(UsageCount.week, UsageCount.council_code, UsageCount.topic, UsageCount.audience,
               UsageCount.conversations, UsageCount.questions, UsageCount.referrals)
    ):
        _add(totals, (week, council, topic, audience), conversations, questions, referrals)
    for created_at, council, topic, audience in session.execute(
        select(Case.created_at, Case.council_code, Case.topic, Case.audience).where(Case.kind == KIND_CALLBACK)
    ):
        _add(totals, (_monday(created_at.date()), council or "", topic or "", audience or ""), referrals=1)
    return sorted(
        (UsageRow(*key, *values) for key, values in totals.items()),
        key=lambda r: (r.week, r.council_code, r.topic, r.audience),
    )


def process_erasures(*, tracker_engine: Engine | None, session: Session, settle_seconds: float = 5, now: datetime | None = None) -> int:
    """Carry out erasure requests at least `settle_seconds` old (Rasa has saved by then).

    Cases are erased again too, in case one was made after the request. Returns how many done.
    """
    from bot.referrals.cases import erase_person
    from bot.referrals.models import ErasureRequest

    now = now or datetime.utcnow()
    pending = list(
        session.execute(
            select(ErasureRequest).where(
                ErasureRequest.done_at.is_(None), ErasureRequest.requested_at <= now - timedelta(seconds=settle_seconds)
            )
        ).scalars()
    )
    for request in pending:
        if tracker_engine is not None:  # None: Rasa has stored no conversation yet
            erase(request.sender_id, engine=tracker_engine)
        erase_person(request.sender_id, session=session)
        request.done_at = now
        request.sender_id = "erased"  # keep only that a request was carried out, and when
    session.flush()
    return len(pending)
