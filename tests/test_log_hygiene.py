"""bot/log_hygiene.py: the backstop that redacts phone numbers, sender ids and tokens from
every log record a server process makes, whichever logger or library made it."""
from __future__ import annotations

import io
import logging

import pytest

from bot import log_hygiene
from bot.api_auth import api_token
from bot.log_hygiene import redact

SECRETS = [
    "07912 345678", "+447912345678", "+44 7912 345 678", "(01632) 960 001", "00447912345678",
    "sms:+447912345678", "tg:123456789", "wc:9f2c1e7a.d41d8cd98f00b204", api_token("a-secret-of-at-least-thirty-two-bytes"),
]


@pytest.mark.parametrize("secret", SECRETS)
def test_personal_data_and_tokens_are_redacted(secret):
    assert secret not in redact(f"message from {secret} failed")
    assert "[redacted]" in redact(f"message from {secret} failed")


def test_query_and_header_secrets_are_redacted():
    assert redact("GET /status?token=abc123def&x=1") == "GET /status?token=[redacted]&x=1"
    assert "s3cr3t" not in redact("X-Action-Server-Key: s3cr3t")
    assert "s3cr3t" not in redact("{'password': 's3cr3t'}")


def test_ordinary_log_lines_are_kept():
    for line in ("Rasa server is up and running.", "listening on 127.0.0.1:5005", "rasa 3.6.21", "KeyError: 'need'",
                 "action action_search_services failed: RuntimeError", "Registered function for 'action_handoff'."):
        assert redact(line) == line


@pytest.fixture
def hygiene(monkeypatch):
    """install() in this process, undone afterwards (it changes logging's record factory)."""
    monkeypatch.setenv("SANIC_ACCESS_LOG", "true")
    factory = logging.getLogRecordFactory()
    monkeypatch.setattr(log_hygiene, "_installed", False)
    log_hygiene.install()
    yield
    logging.setLogRecordFactory(factory)


def test_every_record_is_redacted_before_any_handler_sees_it(hygiene):
    import os

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("no reply for %s (%s)", "sms:+447912345678", {"phone": "07912 345678"})
        try:
            raise ValueError("bad number 07912 345678 for tg:123456789")
        except ValueError:
            logger.exception("failed for %s", "wc:abc123")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "no reply for [redacted]" in written and "ValueError" in written  # it was logged, traceback too
    for secret in ("7912", "123456789", "abc123"):
        assert secret not in written
    assert os.environ["SANIC_ACCESS_LOG"] == "false"
