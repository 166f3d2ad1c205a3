"""Anonymous counts for the statistics page: conversations, questions per topic and callback
referrals by week, council, topic and audience, from the live tracker store, the cases
table, and the counts kept when old data was deleted (bot.referrals.counts). No sender, no text.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.conversations import event_time, events
from bot.dialogue.follow_up import is_reread
from bot.insights.reading import count_question, read_slot
from bot.referrals.counts import Totals, add, monday
from bot.referrals.models import KIND_CALLBACK, Case, UsageCount


@dataclass
class _Conversation:
    first: datetime | None = None
    council: str = ""
    audience: str = ""
    topics: dict[str, int] | None = None
    last_topic: str | None = None  # the topic of the latest message, while reading in order


def _read_user(conversation: _Conversation, timestamp: float | None, intent: str | None, event: dict) -> None:
    """Count a message the person sent under its topic (a message read again counts once)."""
    conversation.first = conversation.first or event_time(timestamp)
    conversation.last_topic = count_question(conversation.topics, conversation.last_topic, intent, is_reread(event))


def _summaries(engine: Engine, sender_ids: list[str] | None = None) -> dict[str, _Conversation]:
    """Per conversation: when it started, its area and audience (last set), questions per topic."""
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
            event = json.loads(data or "{}")
            if type_name == "user":
                _read_user(conversation, timestamp, intent, event)
                continue
            conversation.council, conversation.audience = read_slot(
                event.get("name"), event.get("value"), conversation.council, conversation.audience, councils,
            )
    return {sender: c for sender, c in found.items() if c.first is not None}


def count_conversations(engine: Engine, sender_ids: list[str] | None = None, totals: Totals | None = None) -> Totals:
    """Add the anonymous counts of these conversations (all, by default) to `totals` (or new ones)."""
    totals = {} if totals is None else totals
    for conversation in _summaries(engine, sender_ids).values():
        week = monday(conversation.first.date())
        add(totals, (week, conversation.council, "", conversation.audience), conversations=1)
        for topic, questions in conversation.topics.items():
            add(totals, (week, conversation.council, topic, conversation.audience), conversations=1, questions=questions)
    return totals


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
    totals = count_conversations(tracker_engine)
    for week, council, topic, audience, conversations, questions, referrals in session.execute(
        select(UsageCount.week, UsageCount.council_code, UsageCount.topic, UsageCount.audience,
               UsageCount.conversations, UsageCount.questions, UsageCount.referrals)
    ):
        add(totals, (week, council, topic, audience), conversations, questions, referrals)
    for created_at, council, topic, audience in session.execute(
        select(Case.created_at, Case.council_code, Case.topic, Case.audience).where(Case.kind == KIND_CALLBACK)
    ):
        add(totals, (monday(created_at.date()), council or "", topic or "", audience or ""), referrals=1)
    return sorted(
        (UsageRow(*key, *values) for key, values in totals.items()),
        key=lambda r: (r.week, r.council_code, r.topic, r.audience),
    )
