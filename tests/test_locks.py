"""bot.locks: Rasa's ticket lock mended so a message waiting behind a turn whose Rasa server died
is served, on Rasa's real lock stores (in memory, and Redis as production runs it)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from bot import locks


def _stuck_behind_a_dead_turn(store, lifetime: float = 1.0) -> str:
    """A dead server's turn holds ticket 1 (never removed); the next message, 0.3 s later, waits."""
    async def scenario() -> str:
        conversation = f"lock-{uuid.uuid4().hex[:8]}"
        store.issue_ticket(conversation, lifetime)  # the dead turn's: never finished
        await asyncio.sleep(0.3)
        async with store.lock(conversation, lock_lifetime=lifetime, wait_time_in_seconds=1):
            return "served"

    try:
        return asyncio.run(asyncio.wait_for(scenario(), 8))
    except asyncio.TimeoutError:
        return "stuck"


def _stores() -> list:
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

    stores = [InMemoryLockStore()]
    try:
        redis_store = RedisLockStore(host="127.0.0.1", port=6379, db=3, key_prefix=f"fc-test-{uuid.uuid4().hex[:6]}")
        redis_store.red.ping()
        stores.append(redis_store)
    except Exception:  # pragma: no cover - the machine always has Redis; CI says so if not
        pytest.fail("Redis at 127.0.0.1:6379 is needed for the production lock store's test")
    return stores


def test_unmended_rasa_leaves_the_waiter_stuck_and_mended_it_is_served(monkeypatch):
    from rasa.core.lock_store import LockStore

    monkeypatch.setattr(LockStore, "_acquire_lock", LockStore._acquire_lock)  # restored after the test
    store = _stores()[0]
    assert _stuck_behind_a_dead_turn(store) == "stuck"  # Rasa 3.6 as shipped: the bug this mends
    locks.install_ticket_repair()
    for store in _stores():
        assert _stuck_behind_a_dead_turn(store) == "served", type(store).__name__
    locks.install_ticket_repair()  # twice is harmless
    assert getattr(LockStore._acquire_lock, "repaired", False)
