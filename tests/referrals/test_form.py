"""The referral form's parsing and text: UK phone numbers, yes/no, names, times, the summary,
and the consent wording tied to its version."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.referrals import consent, form
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.mark.parametrize(
    "text, e164, national",
    [
        ("07512 345678", "+447512345678", "07512 345678"),
        ("07512345678", "+447512345678", "07512 345678"),
        ("+44 7512 345678", "+447512345678", "07512 345678"),
        ("+44 (0)7512 345678", "+447512345678", "07512 345678"),
        ("0044 7512 345 678", "+447512345678", "07512 345678"),
        ("07512-345-678", "+447512345678", "07512 345678"),
        ("my number is 07512 345678 thanks", "+447512345678", "07512 345678"),
        ("0161 496 0000", "+441614960000", "0161 496 0000"),  # a landline is fine
        ("020 7946 0018", "+442079460018", "020 7946 0018"),
        ("0300 330 0300", "+443003300300", "0300 330 0300"),
    ],
)
def test_uk_numbers_are_accepted_and_normalised(text, e164, national):
    phone = form.parse_uk_phone(text)
    assert (phone.e164, phone.national) == (e164, national)
    assert form.national_format(phone.e164) == national


@pytest.mark.parametrize(
    "text, reason",
    [
        ("+33 6 12 34 56 78", form.NOT_UK),  # French mobile
        ("0033 612 345 678", form.NOT_UK),
        ("0751234", form.INVALID),  # too short
        ("075123456789012", form.INVALID),  # too long
        ("07700 900123", form.INVALID),  # Ofcom's drama range: never a real line
        ("0909 879 0000", form.NOT_PERSONAL),  # premium rate
        ("0845 464 7000", form.NOT_PERSONAL),  # shared cost
        ("0800 123 4567", form.NOT_PERSONAL),  # freephone: a service, not a person
        ("not telling you", form.NOT_A_NUMBER),
        ("", form.NOT_A_NUMBER),
    ],
)
def test_other_numbers_are_refused_with_a_reason(text, reason):
    with pytest.raises(form.PhoneError) as refused:
        form.parse_uk_phone(text)
    assert refused.value.reason == reason


@pytest.mark.parametrize("text", ["yes", "Yeah go on", "ok", "yep", "sure", "aye", "yes please", "go ahead", "that's fine", "/affirm", "Y"])
def test_yes(text):
    assert form.parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "nah", "Nope", "not really", "no it's not", "don't leave a message", "never", "/deny", "rather not"])
def test_no(text):
    assert form.parse_yes_no(text) is False


@pytest.mark.parametrize("text", ["maybe", "not sure", "dunno", "what do you mean", "", "07512 345678", "hello"])
def test_unclear_is_neither(text):
    assert form.parse_yes_no(text) is None


@pytest.mark.parametrize(
    "text, name",
    [("Sam", "Sam"), ("my name is Jo Bloggs", "Jo Bloggs"), ("I'm Priya", "Priya"), ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
     ("skip", ""), ("no", ""), ("rather not say", ""), ("no thanks", ""), ("/deny", "")],
)
def test_names_and_skipping(text, name):
    assert form.parse_name(text) == name


@pytest.mark.parametrize("text", ["07512 345678", "how do i book a visit?", "x" * 41, "one two three four five"])
def test_things_that_are_not_names(text):
    assert form.parse_name(text) is None


@pytest.mark.parametrize(
    "text, value",
    [("morning", "morning"), ("mornings pls", "morning"), ("Evening", "evening"), ("whenever", "any time"),
     ("any time", "any time"), ("after 3pm on weekdays", "after 3pm on weekdays"), ("x" * 61, None), ("/inform", None)],
)
def test_best_time(text, value):
    assert form.parse_best_time(text) == value


def test_best_time_in_words():
    assert form.best_time_words("morning") == "in the morning"
    assert form.best_time_words("any time") == "when they can"
    assert form.best_time_words("after 3pm") == "at the time you gave (after 3pm)"


def test_note():
    assert form.parse_note("no") == "" and form.parse_note("/deny") == "" and form.parse_note("that's all") == ""
    assert form.parse_note("  worried about  the visit  ") == "worried about the visit"
    assert form.parse_note("x" * 301) is None


def test_summary_from_the_conversation():
    intents = ["greet", "ask_visit_booking", "inform", "ask_money", "ask_visit_booking", "request_callback", None]
    topics = form.topics_asked(intents)
    assert topics == ["ask_visit_booking", "ask_money"]
    assert form.main_topic(intents) == "ask_visit_booking"
    assert form.build_summary(topics, stage="remand", relationship="partner") == (
        "Asked about booking visits and money. Asking as their partner. The person is on remand."
    )
    assert form.build_summary([], audience="professional", note="a pupil's dad") == "Asking as a professional. In their words: a pupil's dad"
    assert form.build_summary([]) == ""
    assert form.main_topic(["greet"]) is None


def test_every_topic_intent_has_plain_words():
    topics = [i for i in DOMAIN["intents"] if i.startswith(("ask_", "risk_")) or i == "express_distress"]
    # asking about the assistant itself, not a reason for a call back
    not_topics = {"ask_capabilities", "ask_human", "ask_what_next", "ask_more_results", "ask_live_chat", "ask_what_you_know"}
    assert sorted(set(topics) - not_topics - set(form.topic_intents())) == []
    # and every topic with words is an intent (a typo in a response name is no topic)
    assert sorted(set(form.topic_intents()) - set(DOMAIN["intents"])) == []
    assert form.topic_words("risk_self") == "their own safety"


def test_details_fit_the_confirmation_message():
    listed = form.details(
        name="A" * 60, phone="+447512345678", safe_to_call=True, leave_message=False, best_time="x" * 60,
        area="Kings Lynn and West Norfolk", summary="y" * 500,
    )
    assert "Phone: 07512 345678" in listed and "Message OK: no" in listed
    assert len(listed) <= form.DETAILS_LIMIT


@pytest.mark.parametrize("slot, text, answer", [
    ("referral_name", "Grace", True), ("referral_name", "how do I book", False), ("referral_name", "Mary Jane Smith", True),
    ("referral_name", "can i bring the kids", False), ("referral_phone", "07512 345678", True),
    ("referral_phone", "what number?", False), ("referral_consent", "yes that's fine", True),
    ("referral_consent", "is it confidential?", False), ("referral_best_time", "after 6pm", True),
    ("referral_best_time", "what are visiting times?", False), ("referral_note", "worried about money", True),
    ("referral_note", "how do I send him money?", False),
])
def test_reads_as_answer(slot, text, answer):
    assert form.reads_as_answer(slot, text) is answer


def test_reads_as_answer_area_needs_a_known_place():
    assert form.reads_as_answer("area", "Leeds", known_place=True)
    assert not form.reads_as_answer("area", "Leeds", known_place=False)
    assert not form.reads_as_answer("area", "anything in Leeds?", known_place=True)


# --- consent ---------------------------------------------------------------------------------

def test_the_consent_wording_has_not_changed_without_a_new_version():
    variants = DOMAIN["responses"][consent.CONSENT_RESPONSE]
    assert consent.consent_digest(variants) == consent.WORDING_SHA256[consent.CONSENT_VERSION], (
        "The consent wording changed: give it a new CONSENT_VERSION in bot/referrals/consent.py "
        "and record the new wording's SHA-256 there."
    )
    assert len(set(consent.WORDING_SHA256.values())) == len(consent.WORDING_SHA256)


def test_the_consent_wording_says_what_whom_how_long_and_the_way_out():
    text = DOMAIN["responses"][consent.CONSENT_RESPONSE][0]["text"]
    for words in ("name", "number", "safe to call", "leave a message", "area", "what it's about",
                  "Families Connect helpline team", "trained workers", "{retention_days} days after the call is closed",
                  "cancel", "delete"):
        assert words in text, words
    assert [b["payload"] for b in DOMAIN["responses"][consent.CONSENT_RESPONSE][0]["buttons"]] == ["/affirm", "/deny"]


def test_the_retention_period_stated_is_the_one_purging_uses(monkeypatch):
    monkeypatch.delenv("CASE_RETENTION_DAYS", raising=False)
    assert Settings.from_env().case_retention_days == 90  # what the consent question says by default


def test_consent_time_is_iso_utc():
    from datetime import datetime, timezone

    stamp = consent.consent_time(datetime(2026, 3, 1, 14, 2, 11, 500, tzinfo=timezone.utc))
    assert stamp == "2026-03-01T14:02:11+00:00"
    assert consent.parse_consent_time(stamp) == datetime(2026, 3, 1, 14, 2, 11)
