"""Abuse limits (bot/channels/limits.py): per-sender rate in memory and in the real Redis on
this machine, the length limit, and the kind reply when Rasa could not answer."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import limits
from bot.channels.limits import Limits

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own; keys removed after each test


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_limits(request):
    prefix = f"fc:test:{uuid.uuid4().hex[:8]}:"
    made = []

    def make(**kwargs) -> Limits:
        kwargs.setdefault("redis_url", REDIS_URL if request.param == "redis" else None)
        made.append(Limits(key_prefix=prefix, **kwargs))
        return made[-1]

    yield make
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_the_rate_limit_refuses_kindly_after_n_messages_a_minute(make_limits):
    limiter = make_limits(rate_per_minute=3)
    now = 1_000_020.0
    assert [limiter.check("webchat", "alex-12345678", "hi", now) for _ in range(3)] == [None] * 3
    refusal = limiter.check("webchat", "alex-12345678", "hi", now)
    assert refusal and "wait a minute" in refusal and "0808 808" in refusal and "999" in refusal
    # Another sender, or the same sender on another channel, has a count of their own.
    assert limiter.check("webchat", "sam-87654321", "hi", now) is None
    assert limiter.check("telegram", "alex-12345678", "hi", now) is None
    # The next minute starts again.
    assert limiter.check("webchat", "alex-12345678", "hi", now + 60) is None


def test_the_count_is_shared_by_every_process_using_the_same_redis(make_limits):
    a, b = make_limits(rate_per_minute=4), make_limits(rate_per_minute=4)
    if a.redis_url is None:
        pytest.skip("in memory the count is per process, by design")
    now = 2_000_000.0
    for limiter in (a, b, a, b):
        assert limiter.check("twilio", "+447512345678", "hi", now) is None
    assert a.check("twilio", "+447512345678", "hi", now) is not None
    assert b.check("twilio", "+447512345678", "hi", now) is not None


def test_redis_keys_hold_no_phone_number(make_limits):
    limiter = make_limits(rate_per_minute=5)
    if limiter.redis_url is None:
        pytest.skip("redis only")
    limiter.check("twilio", "+447512345678", "hi")
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"{limiter.key_prefix}*")]
    assert keys and not any("7512345678" in k for k in keys)


def test_a_message_over_the_length_limit_gets_a_kind_reply(make_limits):
    limiter = make_limits(max_chars=10)
    assert limiter.check("webchat", "alex-12345678", "x" * 10) is None
    assert limiter.check("webchat", "alex-12345678", "  " + "x" * 10 + "  ") is None  # spaces don't count
    refusal = limiter.check("webchat", "alex-12345678", "x" * 11)
    assert refusal and "up to 10 characters" in refusal


def test_redis_unreachable_lets_messages_through():
    limiter = Limits(rate_per_minute=1, redis_url="redis://127.0.0.1:1/0")
    assert [limiter.check("webchat", "alex-12345678", "hi") for _ in range(3)] == [None] * 3


def test_settings_choose_the_store(monkeypatch):
    monkeypatch.setenv("MESSAGE_RATE_LIMIT", "7")
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "300")
    monkeypatch.setenv("LOCK_STORE_URL", REDIS_URL)
    assert (Limits.from_env().rate_per_minute, Limits.from_env().max_chars, Limits.from_env().redis_url) == (7, 300, REDIS_URL)
    monkeypatch.delenv("LOCK_STORE_URL")
    assert Limits.from_env().redis_url is None


# --- a kind reply when Rasa could not answer ---------------------------------------------------
class FakeTracker:
    def __init__(self, paused: bool) -> None:
        self.paused = paused

    def is_paused(self) -> bool:
        return self.paused


class FakeApp:
    """What `limits.answer` reads from Rasa's Sanic app: ctx.agent.tracker_store."""

    def __init__(self, paused: bool = False) -> None:
        tracker = FakeTracker(paused)

        class Store:
            async def retrieve(self, sender_id):
                return tracker

        class Agent:
            tracker_store = Store()

        class Ctx:
            agent = Agent()

        self.ctx = Ctx()


def run(on_new_message, app):
    collector = CollectingOutputChannel()
    answered = asyncio.run(limits.answer(on_new_message, UserMessage("hi", collector, "alex-12345678"), app))
    return answered, [m["text"] for m in collector.messages]


async def says_hello(message):
    await message.output_channel.send_response(message.sender_id, {"text": "hello"})


async def says_nothing(message):
    return None


async def fails(message):
    raise ConnectionError("action server down")


def test_an_answer_goes_through_untouched():
    assert run(says_hello, FakeApp()) == (True, ["hello"])


def test_silence_or_an_error_gets_the_sorry_message():
    for handler in (says_nothing, fails):
        answered, texts = run(handler, FakeApp())
        assert not answered and len(texts) == 1
        assert "something went wrong on our side" in texts[0] and "0808 808" in texts[0]


def test_silence_while_a_worker_has_the_conversation_is_expected():
    assert run(says_nothing, FakeApp(paused=True)) == (True, [])


def test_without_rasa_behind_silence_is_not_judged():
    assert run(says_nothing, None) == (True, [])
