"""Conversation summaries: one row per conversation (ConversationSummary, with its ConversationTopic
rows), kept current from Rasa's tracker store, so the statistics and the review pages read a
row per conversation instead of every event on each view. Rows hold counts, flags and intent
names, never what anyone typed.

Reading. `update` reads the tracker store's events with an id above the watermark
(SummaryWatermark "events") in id order, `batch` at a time, folds each into its conversation's
row (bot.insights.fold), and commits the rows with the new watermark, batch by batch. All a later
read needs is carried in the row's `state`, so reading in many small batches gives exactly the
rows one read of everything gives (tests/insights/test_summary.py). Two updaters never fold the
same events: each batch first moves the watermark from the id it read from (a conditional
UPDATE); the one that finds it moved gives up. Events after a gap in the ids that are younger
than SETTLE_SECONDS wait for the next update (PostgreSQL: a turn still being saved holds the
missing ids). SQLite gives the top id of deleted events to the next event: erasure and the purge
pass what they deleted to `events_deleted`, which moves the watermark back. Events of a person
whose erasure is pending are not read. `update(now=...)` fixes the time the flags are judged at.

What the columns mean (bot.insights.measures and bot.insights.review read them):
- A row exists once the person has sent a message; nothing before it counts. `started_at` is
  that first message's time, `week` the ISO date of its Monday (bot.referrals.counts.monday),
  `last_at` the latest event of any kind. One sender id is one conversation, across Rasa's
  sessions (an SMS number that writes again next month continues its row).
- `channel`: the input channel of the first message that had one ("twilio", "telegram",
  "webchat", "rest"...; "" if none). `council_code`, `audience`: from the last `area` and
  `audience` slots, as bot.usage reads them (bot.insights.reading).
- `messages`: messages the person sent (a message read again in context counts once);
  `questions`: of them, questions about a topic, per topic in ConversationTopic (bot.usage's
  rule, shared through bot.insights.reading).
- `fallbacks`: messages not understood: the classifier said nlu_fallback, or the assistant
  answered with action_default_fallback, utter_default or utter_out_of_scope (so a message
  recognised as out of scope counts too: the person did not get what they asked for). A
  message read again in context is judged on its final reading.
  `not_understood_topics`: JSON {topic: count} of those messages by the topic being talked
  about at the time, the latest topic intent asked before that message ("" before any topic).
- `last_unanswered`: the latest message was not understood.
- `asked_for_person`: intent ask_human, ask_live_chat or request_callback, the live-chat action
  (action_handoff) ran, or the call-back form (referral_form) started.
- `form_abandoned`: a call-back form ended without a case being stored (action_submit_referral
  did not say utter_referral_sent: stopped, cancelled, declined, gave up, not saved), or it is
  still open with nothing in the conversation for FORM_LEFT_AFTER (1 hour) at update time. Any
  such form sets it, even if a later one was sent.
- `safety`: a safety reply fired (the utter_ names of bot.nlp.safety.SAFETY_RESPONSES).
- `contained`: the conversation has ended (nothing for ENDED_AFTER, 30 minutes, at update
  time), nobody was asked for and the last message was understood. False while it may go on;
  judged again as time passes, and False again if the person writes again.
- `helpful`, `not_helpful`: messages with intent feedback_helpful / feedback_not_helpful.
- `reviewed`: set by a reviewer (bot.insights.review); `update` never changes it.
The time-dependent flags are judged at each update for the rows that could have changed since
the one before (last_at within FORM_LEFT_AFTER of it).

Freshness: the retention schedule (`make run`, bot.retention.schedule) calls `run_once` every
30 seconds; `bot insights update` does it by hand or from cron; a page about to read the rows
calls `ensure_fresh(tracker_engine=..., session=...)` first, which updates (for at most a few
seconds) when the last update is over FRESH_SECONDS old. It commits: call it on a session with
no transaction open.

Erasure and retention: `forget(sender_ids, session=...)` removes the rows, topics, review tags
and labels of erased or purged conversations (bot.erasure, bot.retention); the purge keeps its
anonymous counts in usage_count as before.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import delete, insert, select, update as sql_update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import conversations, db
from bot.conversations import events
from bot.insights.fold import FORM_LEFT_AFTER, Conversation, read_event
from bot.insights.models import ConversationReview, ConversationSummary, ConversationTopic, ReviewLabel, SummaryWatermark
from bot.referrals.models import ErasureRequest
from bot.settings import Settings

WATERMARK = "events"
# Events after a gap in the ids wait this long for the missing ones (a turn still being saved).
SETTLE_SECONDS = 10
# A page reading the summaries brings them up to date when the last update is older than this.
FRESH_SECONDS = 60
# How long a page waits for that at most (the schedule does the rest).
PAGE_BUDGET_SECONDS = 3.0
_CHUNK = 500  # sender ids in one IN list
_updating = threading.Lock()  # one updater per process; the watermark keeps processes apart


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _watermark(session: Session) -> tuple[int, datetime | None]:
    """(the last event id read, when an update last finished); read from the database each time."""
    row = session.execute(
        select(SummaryWatermark.last_event_id, SummaryWatermark.updated_at).where(SummaryWatermark.name == WATERMARK)
    ).first()
    return (row.last_event_id, row.updated_at) if row else (0, None)


def _read_events(tracker_engine: Engine, after: int, batch: int, now: datetime) -> tuple[list, bool]:
    """Up to `batch` events after id `after`, cut before a recent gap; and whether that is all there is."""
    query = (
        select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.intent_name,
               events.c.action_name, events.c.data)
        .where(events.c.id > after).order_by(events.c.id).limit(batch)
    )
    with tracker_engine.connect() as connection:
        rows = list(connection.execute(query))
    recent = conversations.epoch(now) - SETTLE_SECONDS
    previous = after
    for i, row in enumerate(rows):
        if row.id != previous + 1 and (row.timestamp or 0) > recent:
            return rows[:i], True  # the missing ids may still be being saved: next time
        previous = row.id
    return rows, len(rows) < batch


def _claim(session: Session, before: int, after: int, now: datetime) -> bool:
    """Move the watermark from `before` to `after`; False if another updater moved it first.
    A write first, so that on SQLite the transaction waits for the lock rather than fails."""
    moved = session.execute(
        sql_update(SummaryWatermark)
        .where(SummaryWatermark.name == WATERMARK, SummaryWatermark.last_event_id == before)
        .values(last_event_id=after)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:
        return True
    exists = session.execute(select(SummaryWatermark.name).where(SummaryWatermark.name == WATERMARK)).first()
    if exists is not None or before != 0:
        return False
    try:
        with session.begin_nested():
            session.add(SummaryWatermark(name=WATERMARK, last_event_id=after, updated_at=now))
    except IntegrityError:
        return False
    return True


def _pending_erasures(session: Session, sender_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sender_ids):
        found.update(session.execute(
            select(ErasureRequest.sender_id).where(ErasureRequest.done_at.is_(None), ErasureRequest.sender_id.in_(chunk))
        ).scalars())
    return found


def _fold(session: Session, rows: list, now: datetime) -> None:
    """Fold a batch of events into their conversations' rows (added to `session`, not committed)."""
    senders = sorted({row.sender_id for row in rows})
    skipped = _pending_erasures(session, senders)
    stored: dict[str, ConversationSummary] = {}
    for chunk in _chunks(senders):
        stored.update((s.sender_id, s) for s in session.execute(
            select(ConversationSummary).where(ConversationSummary.sender_id.in_(chunk))
            .execution_options(populate_existing=True)).scalars())
    folding = {sender: Conversation.from_row(row) for sender, row in stored.items()}
    topics_before = {sender: dict(c.state["topics"]) for sender, c in folding.items()}
    councils: dict[str, str] = {}
    for row in rows:
        if row.sender_id in skipped:
            continue
        conversation = folding.get(row.sender_id)
        if conversation is None:
            conversation = folding[row.sender_id] = Conversation()
        conversation.apply(read_event(row), councils)
    changed_topics = []
    for sender, conversation in folding.items():
        if conversation.started_at is None:
            continue  # no message from the person yet
        values = conversation.columns(now)
        if sender in stored:
            for name, value in values.items():
                setattr(stored[sender], name, value)
        else:
            session.add(ConversationSummary(sender_id=sender, **values))
        if conversation.state["topics"] != topics_before.get(sender, {}):
            changed_topics.append(sender)
    session.flush()
    _write_topics(session, {sender: folding[sender].state["topics"] for sender in changed_topics})


def _write_topics(session: Session, topics: dict[str, dict[str, int]]) -> None:
    senders = list(topics)
    for chunk in _chunks(senders):
        session.execute(delete(ConversationTopic).where(ConversationTopic.sender_id.in_(chunk)))
    rows = [{"sender_id": s, "topic": t, "questions": n} for s, counts in topics.items() for t, n in counts.items()]
    if rows:
        session.execute(insert(ConversationTopic), rows)


def _judge_again(session: Session, since: datetime | None, now: datetime) -> int:
    """Judge `contained` and `form_abandoned` again, as of `now`, for the rows that could have
    changed since the update at `since`. A row an updater folded meanwhile is left to it."""
    if since is None:
        return 0
    changed = 0
    query = (
        select(ConversationSummary)
        .where(ConversationSummary.last_at > since - FORM_LEFT_AFTER - timedelta(seconds=1))
        .execution_options(populate_existing=True)
    )
    for row in session.execute(query).scalars().all():
        values = Conversation.from_row(row).columns(now)
        if (values["contained"], values["form_abandoned"]) == (row.contained, row.form_abandoned):
            continue
        changed += session.execute(
            sql_update(ConversationSummary)
            .where(ConversationSummary.sender_id == row.sender_id, ConversationSummary.last_event_id == row.last_event_id)
            .values(contained=values["contained"], form_abandoned=values["form_abandoned"])
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed


def update(
    *, tracker_engine: Engine, session: Session, batch: int = 5000, now: datetime | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Fold the tracker store's new events into the summaries, committing batch by batch; then
    judge the time-dependent flags again. Stops early after `budget_seconds` (the rest is read
    next time). Returns how many events were read. Leaves no transaction open."""
    now = now or datetime.utcnow()
    if not conversations.has_conversations(tracker_engine):
        return 0
    started = time.monotonic()
    read = 0
    try:
        _, judged_at = _watermark(session)
        while True:
            after, _ = _watermark(session)
            session.commit()  # the tracker store is read with no transaction held here
            rows, caught_up = _read_events(tracker_engine, after, batch, now)
            if rows and not _claim(session, after, rows[-1].id, now):
                session.rollback()
                break  # another updater has these events
            if rows:
                _fold(session, rows, now)
                session.commit()
                read += len(rows)
            if caught_up or (budget_seconds is not None and time.monotonic() - started > budget_seconds):
                break
        session.execute(  # a write first (SQLite: wait for the lock), then judge
            sql_update(SummaryWatermark).where(SummaryWatermark.name == WATERMARK).values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        _judge_again(session, judged_at, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return read


def ensure_fresh(
    *, tracker_engine: Engine, session: Session, max_age_seconds: float = FRESH_SECONDS,
    budget_seconds: float = PAGE_BUDGET_SECONDS, now: datetime | None = None,
) -> bool:
    """Update the summaries if the last update is more than `max_age_seconds` old, for at most
    about `budget_seconds`; while another thread of this process is updating, go on with what
    is there. Returns whether it updated. Commits: call it with no transaction open."""
    now = now or datetime.utcnow()
    _, updated_at = _watermark(session)
    session.commit()
    if updated_at is not None and now - updated_at <= timedelta(seconds=max_age_seconds):
        return False
    if not _updating.acquire(blocking=False):
        return False
    try:
        update(tracker_engine=tracker_engine, session=session, now=now, budget_seconds=budget_seconds)
    finally:
        _updating.release()
    return True


def run_once(settings: Settings, *, budget_seconds: float | None = None) -> int:
    """`update` with the configured databases (the schedule and `bot insights update`)."""
    tracker = db.engine_for(settings.tracker_store_url)
    with db.session_factory(settings.database_url)() as session:
        with _updating:
            return update(tracker_engine=tracker, session=session, budget_seconds=budget_seconds)


def forget(sender_ids: Iterable[str], *, session: Session) -> int:
    """Remove the summaries, topics, review tags and labels of these conversations (erased or
    purged). Returns how many summaries went. The caller commits."""
    senders = list(sender_ids)
    removed = 0
    for chunk in _chunks(senders):
        for model in (ConversationTopic, ConversationReview, ReviewLabel):
            session.execute(delete(model).where(model.sender_id.in_(chunk)).execution_options(synchronize_session=False))
        removed += session.execute(
            delete(ConversationSummary).where(ConversationSummary.sender_id.in_(chunk)).execution_options(synchronize_session=False)
        ).rowcount or 0
    return removed


def events_deleted(deleted: conversations.Deleted, *, session: Session) -> None:
    """Conversations were deleted from the tracker store: if the watermark was among the ids
    deleted from the top, move it back to the new top, so the ids SQLite gives out again are
    read. (If an updater already read past the old top, those new events are read already.)
    The caller commits."""
    if deleted.top_after < deleted.top_before:
        session.execute(
            sql_update(SummaryWatermark)
            .where(SummaryWatermark.name == WATERMARK, SummaryWatermark.last_event_id > deleted.top_after,
                   SummaryWatermark.last_event_id <= deleted.top_before)
            .values(last_event_id=deleted.top_after)
            .execution_options(synchronize_session=False)
        )
