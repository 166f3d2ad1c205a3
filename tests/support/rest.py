"""Talking to the real servers over REST (the e2e suites): send messages, and tell which
domain response each reply came from."""
from __future__ import annotations

import re
import uuid

import yaml
from sqlalchemy import select

from bot import db
from bot.referrals.models import Case
from bot.settings import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


def talk(servers, *messages, sender=None):
    """Send messages in one conversation; return the replies to the last one."""
    sender = sender or f"test-{uuid.uuid4().hex[:10]}"
    replies = []
    for message in messages:
        replies = servers.say(sender, message)
    return replies


def texts(replies):
    return [r["text"] for r in replies if "text" in r]


# --- recognising which response a reply came from -------------------------------------
def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"{\w+}", template)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.S)


RESPONSE_PATTERNS = [
    (name, _pattern(item["text"])) for name, items in DOMAIN["responses"].items() for item in items
]


def response_name(text: str) -> str | None:
    return next((name for name, p in RESPONSE_PATTERNS if p.fullmatch(text)), None)


def say(servers, sender, message):
    """Send one message; the response names of the replies (None for text from no response)."""
    return [response_name(t) for t in texts(servers.say(sender, message))]


def session(servers):
    return db.session_factory(servers.env["DATABASE_URL"])()


def cases_for(servers, sender):
    with session(servers) as s:
        return list(s.execute(select(Case).where(Case.sender_id == sender)).scalars())


def ask_for_a_call_back(servers, sender):
    """The whole conversation, consent yes; returns the reply that says it was sent."""
    assert say(servers, sender, "how do i book a visit")[0] == "utter_visit_booking"
    asked = servers.say(sender, "pls call me back")
    assert response_name(texts(asked)[0]) == "utter_ask_referral_form_referral_consent"
    assert "90 days after the call is closed" in texts(asked)[0]
    assert [b["payload"] for b in asked[0]["buttons"]] == ["/affirm", "/deny"]
    assert say(servers, sender, "yes thats ok") == ["utter_ask_referral_form_referral_name"]
    assert say(servers, sender, "Sam") == ["utter_ask_referral_form_referral_phone"]
    assert say(servers, sender, "+33 6 12 34 56 78") == ["utter_referral_phone_not_uk", "utter_ask_referral_form_referral_phone"]
    assert say(servers, sender, "0751 234 5678") == ["utter_ask_referral_form_referral_safe_to_call"]
    assert say(servers, sender, "yes") == ["utter_ask_referral_form_referral_leave_message"]
    assert say(servers, sender, "no") == ["utter_ask_referral_form_referral_best_time"]
    assert say(servers, sender, '/inform{"best_time": "evening"}') == ["utter_ask_referral_form_area"]
    assert say(servers, sender, "Stockton") == ["utter_ask_referral_form_referral_note"]
    check = texts(servers.say(sender, "no thanks"))
    assert [response_name(t) for t in check] == ["utter_ask_referral_form_referral_confirmed"]
    assert "Phone: 07512 345678" in check[0] and "Name: Sam" in check[0] and "Area: Stockton-on-Tees" in check[0]
    sent = texts(servers.say(sender, "yes"))
    assert [response_name(t) for t in sent] == ["utter_referral_sent"]
    return sent[0]
