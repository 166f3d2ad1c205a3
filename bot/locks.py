"""Rasa's conversation lock, taken from outside Rasa (erasure and redaction in bot.erasure).

Rasa holds a ticket lock per conversation while it handles a message: it loads the tracker,
runs actions, then saves the events it thinks are new (`SQLTrackerStore._additional_events`
counts the stored rows). Deleting a conversation while a turn is in flight would let that
save write the whole conversation back. With the Redis lock store (LOCK_STORE_URL) we take
the same lock Rasa takes, so erasure waits for the turn in flight and the next turn waits for
the erasure. The in-memory lock store lives inside the Rasa process and cannot be taken from
here: `conversation_lock_store` returns None and callers verify on a later pass instead.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator


from bot.settings import Settings

if TYPE_CHECKING:  # rasa is imported only when a Redis lock store is configured
    from rasa.core.lock_store import LockStore

logger = logging.getLogger(__name__)

# Longer than any turn takes; Rasa drops a ticket older than this (a crashed holder).
LOCK_LIFETIME_SECONDS = 60


class LockBusy(RuntimeError):
    """The conversation's lock could not be had in time: try again on a later pass."""


def conversation_lock_store(settings: Settings) -> "LockStore | None":
    """The lock store Rasa uses, built from the same `lock_store` endpoint section Rasa's
    endpoints file is written from (bot.endpoints.lock_store_endpoint), or None when Rasa keeps
    its locks in memory."""
    from bot.endpoints import lock_store_endpoint

    section = lock_store_endpoint(settings.lock_store_url)
    if section is None:
        return None
    from rasa.core.lock_store import RedisLockStore

    return RedisLockStore(
        host=section["url"], port=section["port"], db=section["db"], password=section.get("password"),
        use_ssl=bool(section.get("use_ssl")),
    )


@contextmanager
def conversation_lock(store: "LockStore", sender_id: str, *, wait_seconds: float = 30, poll_seconds: float = 0.1) -> Iterator[None]:
    """Hold Rasa's lock on one conversation (Rasa's own ticket protocol, `LockStore.lock`,
    without asyncio); raise LockBusy if the turns ahead do not finish within `wait_seconds`."""
    ticket = store.issue_ticket(sender_id, LOCK_LIFETIME_SECONDS)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            lock = store.get_lock(sender_id)
            if lock is None:  # our own ticket expired while we waited
                raise LockBusy("the conversation's lock expired while waiting")
            if not lock.is_locked(ticket):
                break
            if time.monotonic() > deadline:
                raise LockBusy("the conversation stayed busy")
            time.sleep(poll_seconds)
            store.update_lock(sender_id)
        yield
    finally:
        store.cleanup(sender_id, ticket)


def install_ticket_repair() -> None:
    """Mend Rasa 3.6's ticket lock, in the Rasa server, so a message is never stuck behind a turn
    whose server died.

    Rasa serves a conversation's messages by ticket number and drops a ticket older than its
    lifetime (a crashed holder's). A message that arrived within a second of the dead turn gets a
    ticket that expires within a second of the dead one's; the waiter looks once a second, so it
    often finds both gone: the lock then serves no ticket at all and the waiter waits until the
    proxy gives up (120 s). Here a waiter whose own ticket has expired puts it back, in number
    order, with a fresh lifetime, and so is served next. (The read-modify-write is as atomic as
    Rasa's own `issue_ticket`.)"""
    import asyncio
    from collections import deque

    from rasa.core.lock import Ticket
    from rasa.core.lock_store import LOCK_LIFETIME, LockStore

    original = LockStore._acquire_lock
    if getattr(original, "repaired", False):
        return

    async def _acquire_lock(self: LockStore, conversation_id: str, ticket: int, wait_time_in_seconds: float):
        lock = self.get_lock(conversation_id)
        while lock is not None and lock.is_locked(ticket):
            if lock._ticket_for_ticket_number(ticket) is None:
                lock.tickets = deque(sorted([*lock.tickets, Ticket(ticket, time.time() + LOCK_LIFETIME)], key=lambda t: t.number))
                self.save_lock(lock)
                logger.info("conversation lock: a waiting ticket had expired behind a dead turn; put back in its place")
            else:
                await asyncio.sleep(wait_time_in_seconds)
                self.update_lock(conversation_id)
            lock = self.get_lock(conversation_id)
        return await original(self, conversation_id, ticket, wait_time_in_seconds)

    _acquire_lock.repaired = True  # type: ignore[attr-defined]
    LockStore._acquire_lock = _acquire_lock
