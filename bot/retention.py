"""Data rights and retention, run on a schedule (`make run` every 30 seconds) or by `bot data purge`.

1. Erasure requests ("delete my details") are carried out once Rasa has saved the turn, holding
   Rasa's lock on the conversation (Redis lock store), or verified on a later pass when Rasa
   keeps its locks in memory (bot.erasure.process_erasures). They stay pending, and say
   so, while the tracker store has no events table.
2. Call-back forms that ended unsent have what was typed into them redacted from the
   conversation (bot.erasure.process_redactions).
3. Conversations with no message for CONVERSATION_RETENTION_DAYS are erased; anonymous
   counts for the statistics page are kept. Workers' queued replies (outbox_message) and saved
   SMS menus (sms_menu) older than that go too.
4. Closed and cancelled cases are deleted CASE_RETENTION_DAYS after closing; open cases
   nobody has touched for CASE_RETENTION_DAYS are deleted too (counted first).

An erased or purged conversation's summary, review tags and labels go with it
(bot.insights.summary.forget); the schedule also keeps the summaries current.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import conversations, db, erasure, handoff, locks
from bot.conversations import events
from bot.insights import summary
from bot.referrals import cases
from bot.referrals.counts import store_counts
from bot.referrals.models import OPEN_STATUSES, Case, OutboxMessage, sms_menu
from bot.settings import Settings
from bot.staff import audit
from bot.usage import count_conversations

logger = logging.getLogger(__name__)
# Conversations are counted and deleted this many at a time (an IN list of sender ids).
_BATCH = 500


@dataclass(frozen=True)
class Purged:
    erasures: int  # conversations erased in this pass
    conversations: int
    cases: int
    # Erasure requests still pending: erased without Rasa's lock and not yet verified, or
    # waiting for a busy conversation.
    erasures_waiting: int = 0
    # Erasure requests that could not be carried out: the tracker store has no events table.
    erasures_blocked: int = 0
    redactions: int = 0
    outbox_messages: int = 0
    sms_menus: int = 0
    stale_cases: int = 0


def purge_outbox(older_than_days: int, *, session: Session, now: datetime | None = None) -> int:
    """Delete workers' queued replies older than N days (the transcript keeps them until the
    conversation goes). Returns how many."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=older_than_days)
    return session.execute(delete(OutboxMessage).where(OutboxMessage.created_at < cutoff)).rowcount or 0


def purge_sms_menus(older_than_days: int, *, session: Session, now: datetime | None = None) -> int:
    """Delete saved SMS menus (keyed by phone number) older than N days. Returns how many."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=older_than_days)
    return session.execute(delete(sms_menu).where(sms_menu.c.sent_at < cutoff)).rowcount or 0


def purge_stale_open_cases(older_than_days: int, *, session: Session, now: datetime | None = None) -> int:
    """Delete open cases (new, claimed, called back) nobody has changed for N days, keeping an
    anonymous count. Returns how many."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=older_than_days)
    stale = select(Case).where(Case.status.in_(OPEN_STATUSES), Case.updated_at < cutoff)
    return cases.delete_cases(list(session.execute(stale).scalars()), session=session)


def purge_conversations(
    older_than_days: int, *, tracker_engine: Engine, session: Session, now: datetime | None = None
) -> int:
    """Erase conversations whose last event is older than N days, keeping anonymous counts.

    The counts are added to `usage_count` in `session` (committed here, before the events are
    deleted: the worst a crash between the two can do is count a conversation twice). Their
    summaries, review tags and labels go with the counts, and again after the events (in case
    the summaries' update read one back in between).
    """
    cutoff = conversations.epoch((now or datetime.utcnow()) - timedelta(days=older_than_days))
    with tracker_engine.connect() as connection:
        old = list(
            connection.execute(
                select(events.c.sender_id).group_by(events.c.sender_id).having(func.max(events.c.timestamp) < cutoff)
            ).scalars()
        )
    if not old:
        return 0
    totals: dict = {}
    for start in range(0, len(old), _BATCH):
        count_conversations(tracker_engine, old[start : start + _BATCH], totals)
    store_counts(totals, session=session)
    summary.forget(old, session=session)  # with the counts: the summaries, review tags and labels go
    session.commit()
    deleted = conversations.delete_conversations(old, engine=tracker_engine, batch=_BATCH)
    summary.forget(old, session=session)
    summary.events_deleted(deleted, session=session)
    session.commit()
    logger.info("purged %d conversations older than %d days", len(old), older_than_days)
    return len(old)


def _counted(*parts: tuple[str, int]) -> str:
    """"3 conversations erased; 1 still waiting" (numbers only: never a name, number or id)."""
    return "; ".join(f"{n} {label}" for label, n in parts if n)


def run_once(settings: Settings, *, settle_seconds: float = 5, now: datetime | None = None) -> Purged:
    """Carry out pending erasures and redactions and purge what is past its retention period."""
    tracker = db.engine_for(settings.tracker_store_url)
    has_tracker = conversations.has_conversations(tracker)
    lock_store = locks.conversation_lock_store(settings)
    with db.session_factory(settings.database_url)() as session:
        with session.begin():
            erasures = erasure.process_erasures(
                tracker_engine=tracker if has_tracker else None, session=session, settle_seconds=settle_seconds,
                now=now, lock_store=lock_store, verify_minutes=settings.erasure_verify_minutes,
            )
            if erasures.erased or erasures.blocked:
                audit.record_system("erasure", _counted(
                    ("conversations erased", erasures.erased), ("still waiting", erasures.waiting),
                    ("blocked: no tracker table", erasures.blocked)), session=session)
        with session.begin():
            redactions = erasure.process_redactions(
                tracker_engine=tracker if has_tracker else None, session=session, settle_seconds=settle_seconds,
                now=now, lock_store=lock_store,
            )
        with session.begin():
            old_cases = cases.purge_closed(settings.case_retention_days, session=session, now=now)
            stale_cases = purge_stale_open_cases(settings.case_retention_days, session=session, now=now)
            outbox = purge_outbox(settings.conversation_retention_days, session=session, now=now)
            menus = purge_sms_menus(settings.conversation_retention_days, session=session, now=now)
        old_conversations = 0
        if has_tracker:
            old_conversations = purge_conversations(
                settings.conversation_retention_days, tracker_engine=tracker, session=session, now=now
            )
        if any((redactions, old_conversations, old_cases, stale_cases, outbox, menus)):
            with session.begin():
                audit.record_system("purge", _counted(
                    ("unsent forms redacted", redactions), ("conversations", old_conversations), ("closed cases", old_cases),
                    ("untouched open cases", stale_cases), ("queued replies", outbox), ("SMS menus", menus)), session=session)
    purged = Purged(
        erasures.erased, old_conversations, old_cases, erasures_waiting=erasures.waiting, erasures_blocked=erasures.blocked,
        redactions=redactions, outbox_messages=outbox, sms_menus=menus, stale_cases=stale_cases,
    )
    if any((erasures.erased, redactions, old_conversations, old_cases, stale_cases, outbox, menus)):
        logger.info(
            "retention: %d erasures, %d redactions, %d conversations, %d cases, %d stale open cases, %d queued replies, "
            "%d SMS menus purged", erasures.erased, redactions, old_conversations, old_cases, stale_cases, outbox, menus,
        )
    return purged


# The conversation summaries' share of each scheduled pass (a first read of a big tracker store
# goes on over the next passes, so erasures are never held up by it).
SUMMARY_BUDGET_SECONDS = 20


def schedule(settings: Settings, every_seconds: float = 60) -> threading.Event:
    """Run `run_once`, the live-chat sweep (bot.handoff.sweep) and the conversation summaries'
    update (bot.insights.summary) every so often in a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                run_once(settings)
            except Exception as error:  # a database hiccup must not end the schedule
                # Only the kind of error: a database error's message can quote a sender's number.
                logger.error("retention run failed (%s); will try again", type(error).__name__)
            try:
                asyncio.run(handoff.sweep(settings))
            except Exception as error:
                logger.error("live-chat sweep failed (%s); will try again", type(error).__name__)
            try:
                summary.run_once(settings, budget_seconds=SUMMARY_BUDGET_SECONDS)
            except Exception as error:
                logger.error("conversation summaries' update failed (%s); will try again", type(error).__name__)

    threading.Thread(target=loop, name="retention", daemon=True).start()
    return stop
