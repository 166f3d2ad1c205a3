"""Data rights and retention, run on a schedule (`make run` every minute) or by `bot data purge`.

1. Erasure requests ("delete my details") are carried out once Rasa has saved the turn.
2. Conversations with no message for CONVERSATION_RETENTION_DAYS are erased; anonymous
   counts for the statistics page are kept.
3. Closed and cancelled cases are deleted CASE_RETENTION_DAYS after closing.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from bot import conversations, db
from bot.referrals import cases
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    erasures: int
    conversations: int
    cases: int


def run_once(settings: Settings, *, settle_seconds: float = 5) -> Purged:
    """Carry out pending erasures and purge what is past its retention period."""
    tracker = db.engine_for(settings.tracker_store_url)
    has_tracker = conversations.has_conversations(tracker)
    with db.session_factory(settings.database_url)() as session:
        with session.begin():
            erasures = conversations.process_erasures(
                tracker_engine=tracker if has_tracker else None, session=session, settle_seconds=settle_seconds
            )
        with session.begin():
            old_cases = cases.purge_closed(settings.case_retention_days, session=session)
        old_conversations = 0
        if has_tracker:
            old_conversations = conversations.purge_conversations(
                settings.conversation_retention_days, tracker_engine=tracker, session=session
            )
    if erasures or old_conversations or old_cases:
        logger.info("retention: %d erasures, %d conversations, %d cases purged", erasures, old_conversations, old_cases)
    return Purged(erasures, old_conversations, old_cases)


def schedule(settings: Settings, every_seconds: float = 60) -> threading.Event:
    """Run `run_once` every so often in a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                run_once(settings)
            except Exception as error:  # a database hiccup must not end the schedule
                # Only the kind of error: a database error's message can quote a sender's number.
                logger.error("retention run failed (%s); will try again", type(error).__name__)

    threading.Thread(target=loop, name="retention", daemon=True).start()
    return stop
