"""Conversations as Rasa's SQL tracker store keeps them: transcripts for staff, erasure on
request, purging after the retention period, and anonymous counts for the statistics page.

Rasa 3.6 has no API to delete a conversation (RASA_NOTES, rasa#10719), so we read and
delete rows of its `events` table (id, sender_id, type_name, timestamp, intent_name,
action_name, data) directly. Nothing here logs what people wrote.
"""
from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.dialogue.follow_up import is_reread
from bot.referrals.models import KIND_CALLBACK, Case, UsageCount

if TYPE_CHECKING:
    from rasa.core.lock_store import LockStore

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
                if not is_reread(event):
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
    last_topic: str | None = None  # the topic of the latest message, while reading in order


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
            event = json.loads(data or "{}")
            if type_name == "user":
                conversation.first = conversation.first or _at(timestamp)
                if is_reread(event) and conversation.last_topic:
                    # the same message read again in context: count what it meant, once
                    conversation.topics[conversation.last_topic] -= 1
                    if not conversation.topics[conversation.last_topic]:
                        del conversation.topics[conversation.last_topic]
                conversation.last_topic = intent if is_topic(intent) else None
                if conversation.last_topic:
                    conversation.topics[intent] += 1
                continue
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


@dataclass(frozen=True)
class ErasureResult:
    erased: int  # conversations deleted from the tracker store in this pass
    done: int  # requests finished (erased under Rasa's lock, or verified)
    waiting: int  # erased without Rasa's lock: verified on a later pass
    blocked: int  # not carried out: the tracker store has no events table (wrong TRACKER_STORE_URL?)


def _epoch(at: datetime) -> float:
    return at.replace(tzinfo=timezone.utc).timestamp()


def _written_back(sender_id: str, erased_at: datetime, *, engine: Engine) -> bool:
    """Whether events from before the erasure are in the store again (a turn in flight saved
    the conversation it had loaded before we deleted it)."""
    query = select(events.c.id).where(events.c.sender_id == sender_id, events.c.timestamp <= _epoch(erased_at)).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def _pending(model, *, session: Session, before: datetime) -> list:
    """Erasure or redaction requests not yet done and made before `before` (Rasa has had time
    to save the turn that made them), oldest first."""
    return list(
        session.execute(
            select(model).where(model.done_at.is_(None), model.requested_at <= before).order_by(model.id)
        ).scalars()
    )


def process_erasures(
    *, tracker_engine: Engine | None, session: Session, settle_seconds: float = 5, now: datetime | None = None,
    lock_store: "LockStore | None" = None, verify_minutes: float = 15,
) -> ErasureResult:
    """Carry out erasure requests at least `settle_seconds` old (Rasa has saved by then).

    With `lock_store` (Rasa's Redis lock store) each conversation is deleted holding Rasa's
    lock for it, so no turn in flight can write it back: the request is done at once. Without
    it the request stays pending: each later pass deletes again anything from before the
    erasure that reappeared, and `verify_minutes` after a clean erasure the request is done.
    With no tracker table (`tracker_engine` None) nothing can be checked: requests stay pending.
    Cases are erased again every time, in case one was made after the request. The caller commits.
    """
    from bot.locks import LockBusy, conversation_lock
    from bot.referrals.cases import erase_person
    from bot.referrals.models import ErasureRequest

    now = now or datetime.utcnow()
    pending = _pending(ErasureRequest, session=session, before=now - timedelta(seconds=settle_seconds))
    erased = done = waiting = blocked = 0
    for request in pending:
        erase_person(request.sender_id, session=session)
        if tracker_engine is None:
            blocked += 1
            continue
        if lock_store is not None:
            try:
                with conversation_lock(lock_store, request.sender_id):
                    erase(request.sender_id, engine=tracker_engine)
            except LockBusy:
                waiting += 1
                continue
            erased += 1
        elif request.erased_at is None or _written_back(request.sender_id, request.erased_at, engine=tracker_engine):
            erase(request.sender_id, engine=tracker_engine)
            request.erased_at = now
            erased += 1
            waiting += 1
            continue
        elif request.erased_at > now - timedelta(minutes=verify_minutes):
            waiting += 1
            continue
        request.erased_at = request.erased_at or now
        request.done_at = now
        request.sender_id = "erased"  # keep only that a request was carried out, and when
        done += 1
    session.flush()
    if blocked:
        logger.error("%d erasure requests are pending: the tracker store has no events table", blocked)
    return ErasureResult(erased, done, waiting, blocked)


# --- redaction: a call-back form that ended unsent ------------------------------------------

# What the form asks that is the person's own: their name, number, a good time, a note.
PERSONAL_SLOTS = ("referral_name", "referral_phone", "referral_best_time", "referral_note")
# The form's question that reads the details back before sending.
_READ_BACK = "utter_ask_referral_form_referral_confirmed"
# The actions that end the form unsent (actions/referral.py): the window ends with them.
_FORM_ENDS = ("action_submit_referral", "action_stop_referral")
REDACTED = ""
# A form's end still not stored this long after the request: redact what is there.
REDACTION_GIVE_UP = timedelta(minutes=10)


def request_redaction(sender_id: str, since: float, *, session: Session) -> None:
    """Ask for what the person typed into the form since `since` (Rasa's timestamp of the
    message that started it) to be removed once Rasa has saved the turn. The caller commits."""
    from bot.referrals.models import RedactionRequest

    session.add(RedactionRequest(sender_id=sender_id, since=since))


def _redact_form(sender_id: str, since: float, *, engine: Engine, whole: bool = False) -> bool:
    """Redact, in the stored events from `since` to the end of the form: the messages typed
    while the form asked for a personal detail, the values of those slots, the read-back
    question, and any other message repeating what was typed. False if the form's end is not
    stored yet (Rasa is still saving the turn): nothing is changed, try again later. `whole`:
    the end never came (a crash mid-turn): redact up to the last stored event."""
    query = (
        select(events.c.id, events.c.type_name, events.c.action_name, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.timestamp >= since)
        .order_by(events.c.id)
    )
    with engine.begin() as connection:
        rows = list(connection.execute(query))
        window: list = []
        for row in rows:
            window.append(row)
            if row.type_name == "action" and row.action_name in _FORM_ENDS:
                break
        else:
            if rows and not whole:
                return False
        typed: set[str] = set()
        changed: dict[int, dict] = {}
        asking = None
        for row in window:
            event = json.loads(row.data or "{}")
            if row.type_name == "slot" and event.get("name") == "requested_slot":
                asking = event.get("value")
            elif row.type_name == "slot" and event.get("name") in PERSONAL_SLOTS and event.get("value") is not None:
                typed.add(str(event["value"]))
                event["value"] = None
                changed[row.id] = event
            elif row.type_name == "user" and asking in PERSONAL_SLOTS and event.get("text"):
                typed.add(event["text"])
                changed[row.id] = _redact_user(event)
        typed |= {_national(value) for value in typed if value.startswith("+44")}
        typed = {value for value in typed if len(value.strip()) >= 2}
        if not typed:
            pattern = None
        else:  # whole words only: "Jo" is a name in "Name: Jo", not in "Join"
            pattern = re.compile("|".join(rf"(?<!\w){re.escape(value)}(?!\w)" for value in sorted(typed, key=len, reverse=True)))
        for row in window:
            if row.id in changed or row.type_name not in ("user", "bot", "slot"):
                continue
            event = json.loads(row.data or "{}")
            if row.type_name == "slot":
                if pattern and event.get("name") != "requested_slot" and pattern.search(str(event.get("value") or "")):
                    changed[row.id] = {**event, "value": None}
                continue
            # Anywhere in the event: a bot message's metadata carries the values it was filled with.
            dumped = json.dumps(event, ensure_ascii=False)
            read_back = (event.get("metadata") or {}).get("utter_action") == _READ_BACK
            if read_back or (pattern and pattern.search(dumped)):
                changed[row.id] = _redact_user(event) if row.type_name == "user" else _redact_bot(event)
        for row_id, event in changed.items():
            connection.execute(events.update().where(events.c.id == row_id).values(data=json.dumps(event)))
    return True


def _redact_user(event: dict) -> dict:
    """A user event without its words (the intent stays, for the anonymous counts)."""
    parse_data = event.get("parse_data") or {}
    kept = {key: parse_data[key] for key in ("intent", "intent_ranking", "message_id") if key in parse_data}
    return {**event, "text": REDACTED, "parse_data": {**kept, "text": REDACTED, "entities": []}, "metadata": {}}


# A bot message's metadata: which response it was, and which model (never the values filled in).
_BOT_METADATA = ("utter_action", "model_id", "assistant_id", "staff")


def _redact_bot(event: dict) -> dict:
    metadata = event.get("metadata") or {}
    return {**event, "text": REDACTED, "metadata": {key: metadata[key] for key in _BOT_METADATA if key in metadata}}


def _national(e164: str) -> str:
    from bot.referrals.form import national_format

    try:
        return national_format(e164)
    except Exception:  # not a number after all: nothing more to look for
        return e164


def process_redactions(
    *, tracker_engine: Engine | None, session: Session, settle_seconds: float = 5, now: datetime | None = None,
    lock_store: "LockStore | None" = None,
) -> int:
    """Carry out redaction requests at least `settle_seconds` old, holding Rasa's lock on the
    conversation when there is a Redis lock store. Returns how many were done; the rest stay
    pending (form's end not saved yet, lock busy, no tracker table). The caller commits."""
    from bot.locks import LockBusy, conversation_lock
    from bot.referrals.models import RedactionRequest

    if tracker_engine is None:
        return 0
    now = now or datetime.utcnow()
    pending = _pending(RedactionRequest, session=session, before=now - timedelta(seconds=settle_seconds))
    done = 0
    for request in pending:
        overdue = request.requested_at <= now - REDACTION_GIVE_UP
        try:
            if lock_store is not None:
                with conversation_lock(lock_store, request.sender_id):
                    finished = _redact_form(request.sender_id, request.since, engine=tracker_engine, whole=overdue)
            else:
                finished = _redact_form(request.sender_id, request.since, engine=tracker_engine, whole=overdue)
        except LockBusy:
            continue
        if finished:
            request.done_at = now
            request.sender_id = "redacted"
            done += 1
    session.flush()
    return done
