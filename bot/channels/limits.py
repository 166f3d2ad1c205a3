"""Abuse limits on every public channel (web chat, SMS, Telegram), checked before a message
reaches Rasa, each over a sliding 60 seconds.

A conversation may send `MESSAGE_RATE_LIMIT` messages (default 20), a client address
`ADDRESS_RATE_LIMIT` (120; web chat only, IPv6 counted per /64) and everyone together
`GLOBAL_RATE_LIMIT` (3000), of at most `MAX_MESSAGE_CHARS` characters (2000); the web chat's
id issuing and polling are limited too. Over a limit, the person gets a kind reply saying why
and what to do (domain.yml's `utter_channel_*` responses), and the message does not go to
Rasa. Counts are kept in Redis when `LOCK_STORE_URL` is set, so they hold across Rasa
servers, else in this process's memory (bounded). If Redis cannot be reached the message is
let through (a helpline would rather answer than refuse) and a warning is logged.

Rasa's REST channel has no limits: it is for tests and scripts on the same machine and must
not be exposed (deploy/nginx.conf does not route it). Counter keys hold a hash of the sender,
never the number or chat id; no message text or sender is logged.
"""
from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import redis

from bot import texts
from bot.settings import Settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60  # a sliding window: the last 60 seconds, not the calendar minute
MAX_KEYS = 50_000  # the in-memory table forgets its least recently used keys beyond this
KEY_PREFIX = "fc:rate:"
REDIS_TIMEOUT = 0.5  # seconds; the limit must never hold a reply up for long

# The kind replies (domain.yml), filled with the helpline's number and hours.
RATE_LIMITED = "utter_channel_rate_limited"
TOO_LONG = "utter_channel_too_long"
BUSY = "utter_channel_busy"
REPLIES = (RATE_LIMITED, TOO_LONG, BUSY)


def _hashed(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:24]


def address_group(address: str | None) -> str | None:
    """The unit a client address is counted in: an IPv4 address itself, an IPv6 address's
    /64 (one household or phone gets a whole /64, so counting single IPv6 addresses would
    let one client take 2^64 fresh counts)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address
    mapped = getattr(ip, "ipv4_mapped", None)
    if ip.version == 6 and mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(mapped or ip)


@dataclass
class Limits:
    """Limits on the public channels, each a count over a sliding 60 seconds (a fixed
    calendar minute would let twice the limit through across a minute's boundary):

    - per conversation (`rate_per_minute`, MESSAGE_RATE_LIMIT) and per message length;
    - per client address (`address_per_minute`; web chat only: SMS and Telegram reach us
      from the provider's addresses) and for everyone together (`global_per_minute`), so
      that fresh sender ids do not buy fresh counts;
    - web chat ids issued per address (`session_per_minute`) and polls per conversation and
      per address (`poll_per_minute`, `address_poll_per_minute`).

    `check` answers with a refusal text or None; `allow_session` / `allow_poll` with a bool.
    Counts live in Redis (a sorted set of timestamps per key) when `redis_url` is set, else in
    this process: a deque of timestamps per key in an LRU table of at most `max_keys` keys."""

    rate_per_minute: int = 20
    max_chars: int = 2000
    redis_url: str | None = None
    key_prefix: str = KEY_PREFIX
    address_per_minute: int = 120
    global_per_minute: int = 3000
    session_per_minute: int = 20
    poll_per_minute: int = 60
    address_poll_per_minute: int = 1200
    max_keys: int = MAX_KEYS
    _windows: "OrderedDict[str, deque[float]]" = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _redis: Any = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        """The limits the settings give; the domain's replies are checked now, at start-up."""
        texts.require(*REPLIES)
        return cls(
            settings.message_rate_limit, settings.max_message_chars, settings.lock_store_url,
            address_per_minute=settings.address_rate_limit, global_per_minute=settings.global_rate_limit,
            session_per_minute=settings.session_rate_limit, poll_per_minute=settings.poll_rate_limit,
            address_poll_per_minute=settings.address_poll_rate_limit,
        )

    @classmethod
    def from_env(cls) -> "Limits":
        return cls.from_settings(Settings.from_env())

    # --- counting --------------------------------------------------------------------------
    def _count_in_memory(self, keys: list[tuple[str, int]], now: float) -> list[int]:
        counts = []
        with self._lock:
            for key, limit in keys:
                stamps = self._windows.get(key)
                if stamps is None:
                    # Only the newest limit+1 stamps matter: that many in the window is "over".
                    stamps = self._windows[key] = deque(maxlen=limit + 1)
                else:
                    self._windows.move_to_end(key)
                while stamps and stamps[0] <= now - WINDOW_SECONDS:
                    stamps.popleft()
                stamps.append(now)
                counts.append(len(stamps))
            while len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)  # the least recently used key
        return counts

    def _count_in_redis(self, keys: list[tuple[str, int]], now: float) -> list[int]:
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        pipe = self._redis.pipeline(transaction=True)  # MULTI ... EXEC: one round trip
        member = f"{now:.6f}:{uuid.uuid4().hex}"  # unique: two messages in one microsecond both count
        for key, limit in keys:
            name = f"{self.key_prefix}{key}"
            pipe.zadd(name, {member: now})
            pipe.zremrangebyscore(name, "-inf", now - WINDOW_SECONDS)
            pipe.zremrangebyrank(name, 0, -(limit + 2))  # keep the newest limit+1 only
            pipe.zcard(name)
            pipe.expire(name, WINDOW_SECONDS + 1)
        results = pipe.execute()
        return [int(results[i * 5 + 3]) for i in range(len(keys))]

    def counts(self, keys: list[tuple[str, int]], now: float | None = None) -> list[int]:
        """Count one event under each (key, limit) and return how many each key has had in the
        last 60 seconds, this one included (all 0 when Redis cannot be reached: let through)."""
        now = time.time() if now is None else now
        if not self.redis_url:
            return self._count_in_memory(keys, now)
        try:
            return self._count_in_redis(keys, now)
        except Exception as error:  # noqa: BLE001 - Redis down: let the message through
            logger.warning("limits: rate counter unavailable (%s); let through", type(error).__name__)
            return [0] * len(keys)

    def count(self, channel: str, sender: str, now: float | None = None) -> int:
        """Messages from this sender in the last 60 seconds, this one included (0: unknown)."""
        return self.counts([(_hashed("msg", channel, sender), max(self.rate_per_minute, 1))], now)[0]

    # --- the decisions -------------------------------------------------------------------------
    def check(
        self, channel: str, sender: str, text: str, now: float | None = None, address: str | None = None
    ) -> str | None:
        """The kind reply refusing this message, or None to hand it to Rasa. Every message
        counts towards every limit, refused ones too."""
        rules: list[tuple[str, str, int]] = []  # (what, key, limit)
        if self.rate_per_minute > 0:
            rules.append(("sender", _hashed("msg", channel, sender), self.rate_per_minute))
        group = address_group(address)
        if group and self.address_per_minute > 0:
            rules.append(("address", _hashed("addr", group), self.address_per_minute))
        if self.global_per_minute > 0:
            rules.append(("global", _hashed("all"), self.global_per_minute))
        counts = self.counts([(key, limit) for _, key, limit in rules], now) if rules else []
        over = [what for (what, _, limit), count in zip(rules, counts) if count > limit]
        if "sender" in over or "address" in over:
            logger.info("limits: a %s %s is over its messages a minute", channel, over[0])
            return texts.text(RATE_LIMITED, channel)
        if over:
            logger.warning("limits: over %d messages a minute from everyone together", self.global_per_minute)
            return texts.text(BUSY, channel)
        if self.max_chars > 0 and len(text.strip()) > self.max_chars:
            logger.info("limits: a %s message over %d characters was refused", channel, self.max_chars)
            return texts.text(TOO_LONG, channel, max_chars=self.max_chars)
        return None

    def _allowed(self, rules: list[tuple[str, int]], now: float | None) -> bool:
        rules = [(key, limit) for key, limit in rules if limit > 0]
        if not rules:
            return True
        return all(count <= limit for (_, limit), count in zip(rules, self.counts(rules, now)))

    def session_allowed(self, address: str | None, now: float | None = None) -> bool:
        """Whether this client address may be issued another web chat id now."""
        return self._allowed([(_hashed("session", address_group(address) or "unknown"), self.session_per_minute)], now)

    def poll_allowed(self, sender: str, address: str | None, now: float | None = None) -> bool:
        """Whether this conversation, from this client address, may poll now."""
        return self._allowed([
            (_hashed("poll", sender), self.poll_per_minute),
            (_hashed("poll-addr", address_group(address) or "unknown"), self.address_poll_per_minute),
        ], now)

    async def refusal(self, channel: str, sender: str, text: Any, address: str | None = None) -> str | None:
        """`check` off the event loop (Redis is a network call)."""
        return await asyncio.to_thread(
            self.check, channel, sender, text if isinstance(text, str) else "", None, address
        )

    async def allow_session(self, address: str | None) -> bool:
        return await asyncio.to_thread(self.session_allowed, address)

    async def allow_poll(self, sender: str, address: str | None) -> bool:
        return await asyncio.to_thread(self.poll_allowed, sender, address)
