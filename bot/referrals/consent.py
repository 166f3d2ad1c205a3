"""Which consent wording a person agreed to.

The wording is the response CONSENT_RESPONSE in domain.yml. Each case records
CONSENT_VERSION, so staff can tell what someone was told. Changing the wording means a
new version: WORDING_SHA256 keeps each version's SHA-256 (tests/referrals/test_form.py
fails if the text changes and the version does not).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Mapping

CONSENT_RESPONSE = "utter_ask_referral_form_referral_consent"
CONSENT_VERSION = "1"
# A call back about a concern for someone inside (bot/referrals/concern_form.py) has its own
# wording: it also shares what they say about the worry, and it may be passed to the prison.
CONCERN_CONSENT_RESPONSE = "utter_ask_referral_form_referral_consent_concern"
CONCERN_CONSENT_VERSION = "concern-1"
# version -> SHA-256 of the wording (consent_digest of the response's variants)
WORDING_SHA256 = {
    "1": "8d5def1a46995c1afb5d290c84b359d0ce4169fb26c8092e990783f7e62fb9a7",
    "concern-1": "18418dd4cf2a94968d4905127b916df35d9bdc1a9fb4cde8034ed9dcbfb5ba7c",
}


def version_for(concern: bool) -> str:
    """The consent version a call back records: the concern wording's, or the ordinary one's."""
    return CONCERN_CONSENT_VERSION if concern else CONSENT_VERSION


def response_for(concern: bool) -> str:
    """The consent question to ask: the concern wording, or the ordinary one."""
    return CONCERN_CONSENT_RESPONSE if concern else CONSENT_RESPONSE


def consent_digest(variants: list[Mapping[str, Any]]) -> str:
    """SHA-256 of a response's variants: their text and buttons, in a stable form."""
    canonical = [{"text": v.get("text", ""), "buttons": v.get("buttons", [])} for v in variants]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def consent_time(now: datetime | None = None) -> str:
    """When consent was given, as ISO 8601 in UTC: 2026-03-01T14:02:11+00:00."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_consent_time(value: str) -> datetime:
    """The stored time back as a naive UTC datetime (the database keeps UTC without a zone)."""
    return datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)
