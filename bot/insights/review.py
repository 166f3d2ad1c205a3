"""Conversation review (issue 17, item 4): the conversations worth a reviewer's reading, the tags
reviewers give them, and the intent a misunderstood message should have had (a label), which
bot.insights.nlu_export turns into Rasa NLU training data.

Listed: conversation summaries (bot.insights.summary) where a message was not understood
(fallbacks > 0), the person asked for a person, a call-back form was left unfinished, or a safety
reply fired (REASONS), the latest activity first, PAGE_SIZE a page. Filters: reason, channel,
tag ("none": not tagged yet), reviewed or not, and a range of dates of the latest activity.
An erased or purged conversation has no summary, so it is not listed (summary.forget).

A tag (TAGS) or a label marks the conversation reviewed. A label names one of the person's
messages by Rasa's timestamp of it; the words are never copied out of the tracker store, so
erasure and retention still reach them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot import texts
from bot.conversations import events
from bot.dialogue.follow_up import is_reread
from bot.insights.fold import FALLBACK_INTENTS, FALLBACK_REPLIES
from bot.insights.labels import CHANNELS
from bot.insights.models import REASONS, TAGS, ConversationReview, ConversationSummary, ReviewLabel
from bot.staff.models import StaffUser

PAGE_SIZE = 50
_S = ConversationSummary
REASON_TESTS = {
    "fallback": _S.fallbacks > 0,
    "asked_for_person": _S.asked_for_person.is_(True),
    "form_abandoned": _S.form_abandoned.is_(True),
    "safety": _S.safety.is_(True),
}
assert set(REASON_TESTS) == set(REASONS)
# Two timestamps closer than this name the same message (a float through a web form and back).
SAME_MESSAGE = 1e-6


class ReviewError(ValueError):
    """A tag, intent or message that cannot be used: `code` is which ("tag", "intent",
    "message"); the message says why, for the reviewer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Filters:
    """The list's filters, from the page's query string (an unusable value is dropped, and said)."""

    reason: str = ""
    channel: str = ""
    tag: str = ""  # one of TAGS, "none" (not tagged yet) or "" (any)
    reviewed: str = ""  # "yes", "no" or "" (either)
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> tuple["Filters", list[str]]:
        """Filters from a query string, and what could not be used."""
        problems: list[str] = []

        def choice(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            if value and value not in allowed:
                problems.append(f"The {name} filter was not one of the choices, so it is not used.")
                return ""
            return value

        def day(name: str, words: str) -> date | None:
            value = (args.get(name) or "").strip()
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                problems.append(f"“{words}” needs a date like 2026-12-01, so it is not used.")
                return None

        try:
            page = max(1, int(args.get("page") or 1))
        except ValueError:
            page = 1
        filters = cls(
            reason=choice("reason", REASONS), channel=choice("channel", tuple(CHANNELS)),
            tag=choice("tag", TAGS + ("none",)), reviewed=choice("reviewed", ("yes", "no")),
            since=day("since", "From"), until=day("until", "To"), page=page,
        )
        return filters, problems

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as query-string values (for links to other pages of the list)."""
        values = {"reason": self.reason, "channel": self.channel, "tag": self.tag, "reviewed": self.reviewed,
                  "since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until else ""}
        values["page"] = str(page or self.page)
        return {name: value for name, value in values.items() if value and not (name == "page" and value == "1")}


@dataclass(frozen=True)
class Listed:
    """One conversation in the list: no words and no sender id, only its key and what happened."""

    ref: str
    channel: str
    started_at: datetime
    last_at: datetime
    messages: int
    fallbacks: int
    reasons: tuple[str, ...]
    tags: tuple[str, ...]
    reviewed: bool


def _filtered(filters: Filters) -> Select:
    query = select(_S.sender_id, _S.ref, _S.channel, _S.started_at, _S.last_at, _S.messages, _S.fallbacks,
                   _S.asked_for_person, _S.form_abandoned, _S.safety, _S.reviewed)
    query = query.where(REASON_TESTS[filters.reason] if filters.reason else or_(*REASON_TESTS.values()))
    if filters.channel:
        query = query.where(_S.channel == filters.channel)
    if filters.reviewed:
        query = query.where(_S.reviewed.is_(filters.reviewed == "yes"))
    if filters.tag == "none":
        query = query.where(~exists().where(ConversationReview.sender_id == _S.sender_id))
    elif filters.tag:
        query = query.where(exists().where(and_(ConversationReview.sender_id == _S.sender_id, ConversationReview.tag == filters.tag)))
    if filters.since:
        query = query.where(_S.last_at >= datetime.combine(filters.since, time.min))
    if filters.until:
        query = query.where(_S.last_at < datetime.combine(filters.until + timedelta(days=1), time.min))
    return query


def listing(filters: Filters, *, session: Session) -> tuple[list[Listed], bool]:
    """One page of the conversations to review, latest activity first, and whether more follow."""
    query = _filtered(filters).order_by(_S.last_at.desc(), _S.sender_id.desc())
    rows = list(session.execute(query.offset((filters.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    tags: dict[str, list[str]] = {}
    if rows:
        for sender_id, tag in session.execute(
            select(ConversationReview.sender_id, ConversationReview.tag)
            .where(ConversationReview.sender_id.in_([r.sender_id for r in rows])).order_by(ConversationReview.id)
        ):
            if tag not in tags.setdefault(sender_id, []):
                tags[sender_id].append(tag)
    listed = [
        Listed(r.ref, r.channel, r.started_at, r.last_at, r.messages, r.fallbacks, reasons_of(r), tuple(tags.get(r.sender_id, ())), r.reviewed)
        for r in rows
    ]
    return listed, more


def reasons_of(row) -> tuple[str, ...]:
    """Why a summary is listed for review, in REASONS order."""
    found = {"fallback": row.fallbacks > 0, "asked_for_person": row.asked_for_person,
             "form_abandoned": row.form_abandoned, "safety": row.safety}
    return tuple(reason for reason in REASONS if found[reason])


def find(ref: str, *, session: Session) -> ConversationSummary | None:
    """The summary with this key (None if there is none: a wrong key, or erased since)."""
    return session.execute(select(_S).where(_S.ref == ref)).scalar_one_or_none()


@dataclass(frozen=True)
class Tagged:
    id: int
    tag: str
    reviewer: str
    at: datetime


def tags_of(sender_id: str, *, session: Session) -> list[Tagged]:
    """The conversation's tags, oldest first, with who gave them."""
    query = (
        select(ConversationReview, StaffUser.display_name, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == ConversationReview.reviewer_id)
        .where(ConversationReview.sender_id == sender_id).order_by(ConversationReview.id)
    )
    return [Tagged(r.id, r.tag, name or username or "a former colleague", r.created_at) for r, name, username in session.execute(query)]


def labels_of(sender_id: str, *, session: Session) -> list[ReviewLabel]:
    """The conversation's labels (one per message)."""
    return list(session.execute(select(ReviewLabel).where(ReviewLabel.sender_id == sender_id).order_by(ReviewLabel.id)).scalars())


def label_for(labels: list[ReviewLabel], timestamp: float | None) -> ReviewLabel | None:
    """The label of the message with this timestamp, if any."""
    if timestamp is None:
        return None
    return next((label for label in labels if abs(label.event_timestamp - timestamp) < SAME_MESSAGE), None)


def not_understood(sender_id: str, *, engine: Engine) -> set[float]:
    """Rasa's timestamps of the person's messages that were not understood (the rule of
    bot.insights.summary's `fallbacks`: a message read again in context is judged on its final reading)."""
    query = (
        select(events.c.type_name, events.c.timestamp, events.c.intent_name, events.c.action_name, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.type_name.in_(("user", "action", "bot")))
        .order_by(events.c.id)
    )
    found: set[float] = set()
    current: float | None = None
    with engine.connect() as connection:
        for type_name, timestamp, intent, action, data in connection.execute(query):
            event = json.loads(data or "{}") if type_name != "action" else {}
            if type_name == "user":
                if not (is_reread(event) and current is not None):
                    current = timestamp
                found.discard(current)
                if intent in FALLBACK_INTENTS:
                    found.add(current)
            elif current is not None and (action in FALLBACK_REPLIES or (event.get("metadata") or {}).get("utter_action") in FALLBACK_REPLIES):
                found.add(current)
    return found


def intents() -> list[str]:
    """The intents a message can be labelled with: the domain's, less Rasa's external events."""
    names = []
    for item in texts.domain().get("intents") or []:
        name = item if isinstance(item, str) else next(iter(item), "")
        if name and not name.startswith("EXTERNAL_") and name not in FALLBACK_INTENTS:
            names.append(name)
    return sorted(names)


def _mark_reviewed(sender_id: str, session: Session) -> None:
    row = session.get(ConversationSummary, sender_id)
    if row is not None:
        row.reviewed = True


def tag(sender_id: str, tag: str, reviewer: int | None, *, session: Session) -> ConversationReview:
    """Tag the conversation (once per tag) and mark it reviewed. The caller commits."""
    if tag not in TAGS:
        raise ReviewError("Choose one of the tags listed.", "tag")
    found = session.execute(
        select(ConversationReview).where(ConversationReview.sender_id == sender_id, ConversationReview.tag == tag)
    ).scalar_one_or_none()
    if found is None:
        found = ConversationReview(sender_id=sender_id, tag=tag, reviewer_id=reviewer, created_at=datetime.utcnow())
        session.add(found)
    _mark_reviewed(sender_id, session)
    session.flush()
    return found


def untag(sender_id: str, review_id: int, *, session: Session) -> str | None:
    """Take a tag off the conversation; the tag taken off, or None if it had no such tag."""
    found = session.get(ConversationReview, review_id)
    if found is None or found.sender_id != sender_id:
        return None
    session.delete(found)
    session.flush()
    return found.tag


def label(
    sender_id: str, event_timestamp: float, intent: str, reviewer: int | None, *, session: Session,
    tracker_engine: Engine | None = None,
) -> ReviewLabel | None:
    """Say which intent the person's message (Rasa's timestamp of it) should have had, replacing
    an earlier label of it; "" takes the label off (returns None). With `tracker_engine`, the
    message must be one of the person's in the conversation. Marks it reviewed; the caller commits."""
    if intent and intent not in intents():
        raise ReviewError("Choose one of the intents listed.", "intent")
    if tracker_engine is not None and not _is_message(sender_id, event_timestamp, tracker_engine):
        raise ReviewError("That message is not in this conversation any more.", "message")
    existing = label_for(labels_of(sender_id, session=session), event_timestamp)
    if not intent:
        if existing is not None:
            session.delete(existing)
            session.flush()
        return None
    if existing is None:
        existing = ReviewLabel(sender_id=sender_id, event_timestamp=event_timestamp)
        session.add(existing)
    existing.intent, existing.reviewer_id, existing.created_at, existing.exported_at = intent, reviewer, datetime.utcnow(), None
    _mark_reviewed(sender_id, session)
    session.flush()
    return existing


def _is_message(sender_id: str, timestamp: float, engine: Engine) -> bool:
    query = select(events.c.id).where(
        events.c.sender_id == sender_id, events.c.type_name == "user",
        events.c.timestamp > timestamp - SAME_MESSAGE, events.c.timestamp < timestamp + SAME_MESSAGE,
    ).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).first() is not None
