"""What every public channel (web chat, SMS, Telegram) does around a message, written once:

- **before Rasa**: abuse limits, each over a sliding 60 seconds (`Limits`). A conversation
  may send `MESSAGE_RATE_LIMIT` messages (default 20), a client address `ADDRESS_RATE_LIMIT`
  (120; web chat only, IPv6 counted per /64) and everyone together `GLOBAL_RATE_LIMIT`
  (3000), of at most `MAX_MESSAGE_CHARS` characters (2000); the web chat's id issuing and
  polling are limited too. Over a limit, the person gets a kind reply saying why and what to
  do, and the message does not go to Rasa. Counts are kept in Redis when `LOCK_STORE_URL`
  is set, so they hold across Rasa servers, else in this process's memory (bounded). If
  Redis cannot be reached the message is let through (a helpline would rather answer than
  refuse) and a warning is logged.
- **after Rasa**: a kind reply when Rasa could not answer. The action server down makes Rasa
  say nothing (it logs "Bot will continue, but the actions events are lost" and predicts the
  next action); the tracker store's database down makes it raise (`fail_loudly`: Rasa's own
  default would carry on with an empty conversation kept in one server's memory). When Rasa
  raised, or said nothing while the conversation is not paused for a helpline worker, the
  person is told it went wrong on our side, to try again, and the helpline number. With the
  action server down the message stays in the conversation (Rasa stored it); with the
  tracker store down it is not stored, and the person is asked to send it again.
- **while a worker has the conversation** (paused): Rasa stores each message without
  answering; a crisis message (the bot's own safety detection) still gets the bot's crisis
  answer at once and the live case is marked urgent (`crisis_reply`).

Rasa's REST channel has neither: it is for tests and scripts on the same machine and must not
be exposed (deploy/nginx.conf does not route it). Counter keys hold a hash of the sender,
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
from functools import lru_cache
from typing import Any, Awaitable, Callable, Text

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.settings import ROOT, Settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60  # a sliding window: the last 60 seconds, not the calendar minute
MAX_KEYS = 50_000  # the in-memory table forgets its least recently used keys beyond this
KEY_PREFIX = "fc:rate:"
REDIS_TIMEOUT = 0.5  # seconds; the limit must never hold a reply up for long
DEFAULT_HELPLINE_PHONE = "0808 808 3444"  # prisonadvice.org.uk/pact-helpline, checked 2026-12-03
DEFAULT_HELPLINE_HOURS = "Mon-Fri 10am-5pm"  # the same page: Monday to Friday, 10am to 5pm

RATE_LIMITED = (
    "You've sent a lot of messages in a short time, so I'll wait a minute before reading more. "
    "If you need to talk to someone now, call the Prisoners' Families Helpline free on {phone} "
    "({hours}). In an emergency call 999."
)
TOO_LONG = (
    "That message is too long for me to read in one go (I can take up to {limit} characters). "
    "Could you send the main question on its own, or in shorter parts?"
)
BUSY = (
    "A lot of people are writing to me right now, so I can't read your message just now. Please "
    "try again in a few minutes. To talk to someone, call the Prisoners' Families Helpline free on "
    "{phone} ({hours}). In an emergency call 999."
)
CANNOT_ANSWER = (
    "Sorry, something went wrong on our side and I couldn't answer that just now. Please try "
    "again in a minute. To talk to someone, call the Prisoners' Families Helpline free on {phone} "
    "({hours}). In an emergency call 999."
)


@lru_cache(maxsize=1)
def _helpline_slots() -> dict[str, str]:
    """The helpline's number and hours as domain.yml's `helpline_phone` and `helpline_hours`
    slots give them, read once; the known values where the domain cannot be read."""
    found = {"helpline_phone": DEFAULT_HELPLINE_PHONE, "helpline_hours": DEFAULT_HELPLINE_HOURS}
    try:
        slots = yaml.safe_load((ROOT / "domain.yml").read_text())["slots"]
        for name in found:
            found[name] = str(slots[name]["initial_value"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass  # a reply must still go out
    return found


def helpline_phone() -> str:
    """The helpline number domain.yml gives, else the known one."""
    return _helpline_slots()["helpline_phone"]


def helpline_hours() -> str:
    """When the helpline answers, as domain.yml gives it, else the known hours."""
    return _helpline_slots()["helpline_hours"]


def notice(template: str) -> str:
    """One of the notices above with the helpline's number and hours filled in."""
    return template.format(phone=helpline_phone(), hours=helpline_hours())


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
        import redis

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
            return notice(RATE_LIMITED)
        if over:
            logger.warning("limits: over %d messages a minute from everyone together", self.global_per_minute)
            return notice(BUSY)
        if self.max_chars > 0 and len(text.strip()) > self.max_chars:
            logger.info("limits: a %s message over %d characters was refused", channel, self.max_chars)
            return TOO_LONG.format(limit=self.max_chars)
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


def _agent(app: Any) -> Any:
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    return agent if getattr(agent, "tracker_store", None) is not None else None


# --- a crisis while a worker has the conversation (issue 12, item 5) -----------------------------
# What the bot's safety rules (data/rules/safety.yml) answer each safety intent with; a test
# keeps this table equal to the rules.
CRISIS_RESPONSES = {
    "risk_self": ["utter_risk_self", "utter_safety_helpline"],
    "risk_child": ["utter_risk_child", "utter_safety_helpline"],
    "risk_domestic_abuse": ["utter_risk_domestic_abuse", "utter_safety_helpline"],
    "risk_prisoner": ["utter_risk_prisoner", "utter_risk_prisoner_2"],
    "express_distress": ["utter_express_distress"],
}


def crisis_intent(tracker: Any, text: str) -> str | None:
    """The safety intent of the message just stored, as the bot's own NLU read it (Rasa parses
    and stores a message even while the conversation is paused; the pipeline's safety rule
    layer is part of that), else the safety rule layer on the text itself."""
    latest = getattr(tracker, "latest_message", None) if tracker is not None else None
    intent = ((getattr(latest, "intent", None) or {}).get("name")) if latest is not None else None
    if intent in CRISIS_RESPONSES:
        return intent
    from bot.nlp.safety import safety_intent

    found = safety_intent(text or "")
    return found if found in CRISIS_RESPONSES else None


def _mark_urgent(database_url: str, sender_id: str) -> int:
    from bot import db
    from bot.referrals import cases

    with db.session_factory(database_url)() as session, session.begin():
        return len(cases.mark_urgent(sender_id, session=session))


async def _record_replies(agent: Any, sender_id: str, sent: list[tuple[str, dict]]) -> None:
    """Write the crisis replies into the conversation (under Rasa's lock for it), so the worker
    who picks the chat up reads in the transcript what the person was told."""
    from rasa.shared.core.events import BotUttered

    try:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
            if tracker is None:
                return
            for response, reply in sent:
                data = {k: v for k, v in reply.items() if k not in ("text", "template", "response") and v}
                tracker.update(BotUttered(reply.get("text"), data, {"utter_action": response, "crisis_during_handoff": True}))
            await agent.tracker_store.save(tracker)
    except Exception as error:  # noqa: BLE001 - the person has the numbers; the transcript is second
        logger.error("crisis replies not written into the conversation (%s)", type(error).__name__)


async def crisis_reply(
    agent: Any, tracker: Any, message: UserMessage, output: OutputChannel, database_url: str | None = None
) -> bool:
    """If the message calls for the bot's crisis answer, send it at once on the person's own
    channel (the domain's responses, filled from the conversation's slots) and mark the
    conversation's open live case urgent. True when it was a crisis message."""
    intent = crisis_intent(tracker, message.text or "")
    if intent is None:
        return False
    logger.warning("%s: a crisis message while a worker has the conversation; crisis numbers sent", message.input_channel)
    nlg = getattr(agent, "nlg", None)
    slots = (
        tracker.current_slot_values() if tracker is not None
        else {slot.name: slot.initial_value for slot in getattr(getattr(agent, "domain", None), "slots", [])}
    )
    sent = []
    for response in CRISIS_RESPONSES[intent]:
        try:
            reply = nlg.generate_from_slots(response, slots, output.name()) if nlg is not None else None
            if reply:
                kept = dict(reply)  # copied first: send_response pops from it
                await output.send_response(message.sender_id, reply)
                sent.append((response, kept))
        except Exception as error:  # noqa: BLE001 - the next part, and the case, still matter
            logger.error("%s: a crisis reply could not be sent (%s)", message.input_channel, type(error).__name__)
    if tracker is not None and sent:
        await _record_replies(agent, message.sender_id, sent)
    try:
        url = database_url or Settings.from_env().database_url
        await asyncio.to_thread(_mark_urgent, url, message.sender_id)
    except Exception as error:  # noqa: BLE001
        logger.error("%s: the live case could not be marked urgent (%s)", message.input_channel, type(error).__name__)
    return True


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
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    app: Any = None,
    database_url: str | None = None,
) -> bool:
    """Hand `message` to Rasa; when it raised or said nothing (conversation not paused), send
    the kind `CANNOT_ANSWER` on the message's own channel. While a worker has the conversation
    (paused: Rasa stores the message and says nothing), a crisis message still gets the
    bot's crisis answer at once and its live case is marked urgent (`crisis_reply`).
    True when Rasa answered (or was not expected to)."""
    fail_loudly(app)
    inner = message.output_channel
    watched = WatchedOutput(inner)
    message.output_channel = watched
    agent = _agent(app)
    try:
        await on_new_message(message)
        if watched.sent or agent is None:
            return True  # answered; or no Rasa behind us to judge silence by
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        if tracker is not None and tracker.is_paused():
            await crisis_reply(agent, tracker, message, inner, database_url)
            return True
        logger.error("%s: Rasa gave no reply to a message (action server or database down?)", message.input_channel)
    except Exception as error:  # noqa: BLE001 - the person must hear something; no text in the log
        logger.error("%s: a message could not be handled (%s)", message.input_channel, type(error).__name__)
        if isinstance(getattr(inner, "messages", None), list):
            inner.messages.clear()  # not stored, so not said: only the sorry message goes back
        if agent is not None and not watched.sent:
            # Rasa failed (database down?): a crisis message still gets the crisis numbers.
            await crisis_reply(agent, None, message, inner, database_url)
    try:
        await inner.send_text_message(message.sender_id, notice(CANNOT_ANSWER))
    except Exception as error:  # noqa: BLE001
        logger.error("%s: the sorry message could not be sent either (%s)", message.input_channel, type(error).__name__)
    return False
