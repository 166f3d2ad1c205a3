"""Every example a reply shows is one the check that follows it accepts.

A person copies the example ("like 020 7946 0123", "say 'skip'") to see what is wanted;
an example the next check refuses (07700 900123 was one) sends them round in circles.
The examples are read from domain.yml, so a new or reworded example is checked too.
"""
from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.referral import ValidateReferralForm
from bot.referrals import form

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]

# A phone number written as an example: "like 020 7946 0123", "like 07700 900123".
EXAMPLE_NUMBER = re.compile(r"\blike (\+?[0-9][0-9 ]{8,14}[0-9])")
# Ofcom's numbers for TV and radio drama, never given to a real line (bbc.com/news/blogs-magazine-monitor-32348371,
# checked 2026-12-03): London 020 7946 0xxx, Leeds...Manchester 01xx 496 0xxx, Tyneside 0191 498 0xxx, mobiles 07700 900xxx.
DRAMA = re.compile(r"^\+44(?:2079460|1(?:1[3-8]|21|31|41|51|61)4960|1914980|7700900)\d{3}$")
# Words a reply tells people to type: "say 'skip'", "like 'after 3pm'", "For example 'weekday mornings'".
QUOTED = re.compile(r"(?:say|like|example|type) '((?:[^']|'(?=[a-z]))+)'")  # "don't" stays whole

# The slot each reply asks for (or asks again for), whose validator must accept its examples.
ASKS_FOR = {
    "utter_ask_referral_form_referral_name": "referral_name",
    "utter_referral_name_invalid": "referral_name",
    "utter_ask_referral_form_referral_phone": "referral_phone",
    "utter_ask_referral_form_referral_phone_sms": "referral_phone",
    "utter_referral_phone_not_uk": "referral_phone",
    "utter_referral_phone_invalid": "referral_phone",
    "utter_referral_phone_not_personal": "referral_phone",
    "utter_referral_phone_missing": "referral_phone",
    "utter_ask_referral_form_referral_best_time": "referral_best_time",
    "utter_referral_best_time_invalid": "referral_best_time",
    "utter_ask_referral_form_area": "area",
    "utter_ask_referral_form_referral_note": "referral_note",
    "utter_ask_referral_form_referral_note_empty": "referral_note",
    "utter_referral_note_too_long": "referral_note",
    "utter_referral_note_go_ahead": "referral_note",
}


def texts(name: str) -> list[str]:
    return [item["text"] for item in RESPONSES[name]]


def validated(slot: str, answer: str) -> dict:
    """What validate_referral_form makes of `answer` to the question for `slot`, on the web chat."""
    events = [
        {"event": "active_loop", "name": "referral_form"},
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": answer, "input_channel": "rest", "parse_data": {"intent": {"name": "inform"}, "entities": []}},
        {"event": "slot", "name": slot, "value": answer},
    ]
    tracker = Tracker("examples", {"requested_slot": slot, slot: answer}, events[3]["parse_data"], events, False, None,
                      {"name": "referral_form"}, "action_listen")
    dispatcher = CollectingDispatcher()
    validate = getattr(ValidateReferralForm(), f"validate_{slot}")
    result = validate(answer, dispatcher, tracker, DOMAIN)
    return {**result, "_said": [m["response"] for m in dispatcher.messages]}


def all_example_numbers() -> list[tuple[str, str]]:
    return [(name, n) for name, items in RESPONSES.items() for item in items for n in EXAMPLE_NUMBER.findall(item["text"])]


def test_the_phone_question_shows_an_example():
    assert all_example_numbers(), "no example numbers found: has the wording changed?"
    assert any(name == "utter_ask_referral_form_referral_phone" for name, _ in all_example_numbers())


@pytest.mark.parametrize("name, number", all_example_numbers())
def test_every_example_number_is_fictional_and_accepted_by_the_check(name, number):
    parsed = phonenumbers.format_number(phonenumbers.parse(number, "GB"), phonenumbers.PhoneNumberFormat.E164)
    assert DRAMA.match(parsed), f"{name}: {number} is not in Ofcom's drama ranges, so it may be someone's real line"
    assert form.parse_uk_phone(number).e164 == parsed, name
    got = validated("referral_phone", number)
    assert got["referral_phone"] == parsed and got["_said"] == [], name


def test_the_old_drama_mobile_is_still_refused():
    """Why the example changed: libphonenumber marks Ofcom's drama mobiles invalid, and so do we."""
    with pytest.raises(form.PhoneError):
        form.parse_uk_phone("07700 900123")


def quoted_examples() -> list[tuple[str, str, str]]:
    return [(name, slot, q) for name, slot in ASKS_FOR.items() if name in RESPONSES for t in texts(name) for q in QUOTED.findall(t)]


def test_the_form_replies_have_quoted_examples():
    found = {name for name, _, _ in quoted_examples()}
    assert {"utter_ask_referral_form_referral_name", "utter_ask_referral_form_referral_best_time",
            "utter_ask_referral_form_area", "utter_ask_referral_form_referral_note"} <= found


@pytest.mark.parametrize("name, slot, example", quoted_examples())
def test_every_quoted_example_is_an_answer_the_check_takes(name, slot, example):
    got = validated(slot, example)
    if slot == "referral_phone":
        # "say 'I don't want a call'": taken as declining to give a number, so nothing is kept.
        assert got.get("referral_outcome") == "declined", (name, example, got)
    else:
        assert got.get(slot) is not None and got["_said"] == [], (name, example, got)
        assert "referral_outcome" not in got, (name, example, got)
