"""What every public channel (web chat, SMS, Telegram) does around a message, written once:

- **before Rasa**: abuse limits. A sender may send `MESSAGE_RATE_LIMIT` messages a minute
  (default 20) and messages of at most `MAX_MESSAGE_CHARS` characters (default 2000). Over
  either, the person gets a kind reply saying why and what to do, and the message does not go
  to Rasa (it is not in the conversation). The count is kept in Redis when `LOCK_STORE_URL`
  is set, so it holds across Rasa servers, else in this process's memory. If Redis cannot
  be reached the message is let through (a helpline would rather answer than refuse) and a
  warning is logged.
- **after Rasa**: a kind reply when Rasa could not answer. The action server down makes Rasa
  say nothing (it logs "Bot will continue, but the actions events are lost" and predicts the
  next action); the tracker store's database down makes it raise (`fail_loudly`: Rasa's own
  default would carry on with an empty conversation kept in one server's memory). When Rasa
  raised, or said nothing while the conversation is not paused for a helpline worker, the
  person is told it went wrong on our side, to try again, and the helpline number. With the
  action server down the message stays in the conversation (Rasa stored it); with the
  tracker store down it is not stored, and the person is asked to send it again.

Rasa's REST channel has neither: it is for tests and scripts on the same machine and must not
be exposed (deploy/nginx.conf does not route it). Counter keys hold a hash of the sender,
never the number or chat id; no message text or sender is logged.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.settings import Settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
KEY_PREFIX = "fc:rate:"
REDIS_TIMEOUT = 0.5  # seconds; the limit must never hold a reply up for long
DEFAULT_HELPLINE_PHONE = "0808 808 2003"

RATE_LIMITED = (
    "You've sent a lot of messages in a short time, so I'll wait a minute before reading more. "
    "If you need to talk to someone now, call the Prisoners' Families Helpline free on {phone}. "
    "In an emergency call 999."
)
TOO_LONG = (
    "That message is too long for me to read in one go (I can take up to {limit} characters). "
    "Could you send the main question on its own, or in shorter parts?"
)
CANNOT_ANSWER = (
    "Sorry, something went wrong on our side and I couldn't answer that just now. Please try "
    "again in a minute. To talk to someone, call the Prisoners' Families Helpline free on {phone}. "
    "In an emergency call 999."
)


def helpline_phone() -> str:
    """The helpline number domain.yml gives (read by the SMS channel), else the known one."""
    try:
        from bot.channels.twilio import helpline_phone as from_domain  # late: twilio imports this module

        return from_domain()
    except Exception:  # noqa: BLE001 - a reply must still go out
        return DEFAULT_HELPLINE_PHONE


def _hashed(channel: str, sender: str) -> str:
    return hashlib.sha256(f"{channel}:{sender}".encode()).hexdigest()[:24]


@dataclass
class Limits:
    """Per-sender rate and length limits; `check` answers with a refusal text or None."""

    rate_per_minute: int = 20
    max_chars: int = 2000
    redis_url: str | None = None
    key_prefix: str = KEY_PREFIX
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _redis: Any = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(settings.message_rate_limit, settings.max_message_chars, settings.lock_store_url)

    @classmethod
    def from_env(cls) -> "Limits":
        return cls.from_settings(Settings.from_env())

    # --- counting --------------------------------------------------------------------------
    def _count_in_memory(self, key: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 100_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._counts[key] = (window, count)
            return count

    def _count_in_redis(self, key: str, window: int) -> int:
        import redis

        if self._redis is None:
            self._redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        pipe = self._redis.pipeline(transaction=True)
        name = f"{self.key_prefix}{key}:{window}"
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
        return int(count)

    def count(self, channel: str, sender: str, now: float | None = None) -> int:
        """Messages from this sender in the current minute, this one included (0: unknown)."""
        key = _hashed(channel, sender)
        window = int((time.time() if now is None else now) // WINDOW_SECONDS)
        if not self.redis_url:
            return self._count_in_memory(key, window)
        try:
            return self._count_in_redis(key, window)
        except Exception as error:  # noqa: BLE001 - Redis down: let the message through
            logger.warning("limits: rate counter unavailable (%s); message let through", type(error).__name__)
            return 0

    # --- the decision ------------------------------------------------------------------------
    def check(self, channel: str, sender: str, text: str, now: float | None = None) -> str | None:
        """The kind reply refusing this message, or None to hand it to Rasa. Every message
        counts towards the rate, refused ones too."""
        if self.rate_per_minute > 0 and self.count(channel, sender, now) > self.rate_per_minute:
            logger.info("limits: a %s sender is over %d messages a minute", channel, self.rate_per_minute)
            return RATE_LIMITED.format(phone=helpline_phone())
        if self.max_chars > 0 and len(text.strip()) > self.max_chars:
            logger.info("limits: a %s message over %d characters was refused", channel, self.max_chars)
            return TOO_LONG.format(limit=self.max_chars)
        return None

    async def refusal(self, channel: str, sender: str, text: Any) -> str | None:
        """`check` off the event loop (Redis is a network call)."""
        return await asyncio.to_thread(self.check, channel, sender, text if isinstance(text, str) else "")


# --- after Rasa ---------------------------------------------------------------------------------
class WatchedOutput(OutputChannel):
    """Passes everything to `inner` and notes whether any message went out."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override] - the inner channel's name, per instance
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _expects_reply(app: Any, sender_id: str) -> bool:
    """Whether silence from Rasa means it failed: not when a worker has the conversation
    (Rasa records messages without answering) and not when we cannot tell (no agent)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    if agent is None or getattr(agent, "tracker_store", None) is None:
        return False
    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker is None or not tracker.is_paused()


def _raise(error: Exception) -> None:
    raise error


def fail_loudly(app: Any) -> None:
    """Make Rasa's tracker store raise when the database is down, instead of its default:
    Rasa wraps every tracker store in a FailSafeTrackerStore that, on an error, carries on
    with an empty conversation and keeps it in this server's memory only, so the person gets
    answers as a stranger and what they say is lost from the shared store (and each Rasa
    server remembers something different). Raising lets `answer` tell them kindly instead."""
    store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
    if store is not None and hasattr(store, "_on_tracker_store_error") and store._on_tracker_store_error is not _raise:
        store._on_tracker_store_error = _raise  # rasa 3.6's FailSafeTrackerStore: the error callback


async def answer(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage, app: Any = None
) -> bool:
    """Hand `message` to Rasa; when it raised or said nothing (conversation not paused), send
    the kind `CANNOT_ANSWER` on the message's own channel. True when Rasa answered."""
    fail_loudly(app)
    inner = message.output_channel
    watched = WatchedOutput(inner)
    message.output_channel = watched
    try:
        await on_new_message(message)
        if watched.sent or not await _expects_reply(app, message.sender_id):
            return True
        logger.error("%s: Rasa gave no reply to a message (action server or database down?)", message.input_channel)
    except Exception as error:  # noqa: BLE001 - the person must hear something; no text in the log
        logger.error("%s: a message could not be handled (%s)", message.input_channel, type(error).__name__)
        if isinstance(getattr(inner, "messages", None), list):
            inner.messages.clear()  # not stored, so not said: only the sorry message goes back
    try:
        await inner.send_text_message(message.sender_id, CANNOT_ANSWER.format(phone=helpline_phone()))
    except Exception as error:  # noqa: BLE001
        logger.error("%s: the sorry message could not be sent either (%s)", message.input_channel, type(error).__name__)
    return False
