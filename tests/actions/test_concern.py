"""A concern for someone inside through the actions, with real rasa_sdk trackers against a real
database (SQLite and PostgreSQL): the offer after the Safer Custody reply, starting the form as a
concern, the concern questions in validate_referral_form (and the ordinary call back untouched),
the consent wording, the read-back, and the case stored as an urgent concern."""
from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from actions.concern import ActionOfferConcernCallback, ActionStartConcern
from actions.referral import (
    REFERRAL_SLOTS, ActionAskReferralConfirmed, ActionAskReferralConsent, ActionSubmitReferral, ValidateReferralForm,
)
from bot.referrals import cases, concern_form
from bot.referrals.consent import CONCERN_CONSENT_VERSION, CONSENT_VERSION
from bot.referrals.models import Case
from tests.actions.test_referral import COMPLETE, DOMAIN, HISTORY, form_tracker, offered, rejected, responses, slots

CONCERN = {**COMPLETE, "referral_concern": True, "referral_consent_version": CONCERN_CONSENT_VERSION,
           "referral_concern_prison": "DMI", "referral_concern_name": "Jamie Reed", "referral_concern_kind": "self_harm",
           "referral_concern_last_heard": "last night"}
RISK_HISTORY = [("greet", "hi"), ("risk_prisoner", "im scared he will hurt himself"), ("affirm", "yes please")]


def run(action, tracker, dispatcher):
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN))


def validate(tracker, dispatcher):
    return slots(run(ValidateReferralForm(), tracker, dispatcher))


def next_question(got: dict, tracker: Tracker) -> str | None:
    """The question the form asks next: the validation's own choice, else (when it leaves it to
    Rasa, as for a concern, whose questions are the domain's) the first empty required slot."""
    if "requested_slot" in got:
        return got["requested_slot"]
    filled = {**tracker.slots, **got}
    return next((name for name in DOMAIN["forms"]["referral_form"]["required_slots"] if filled.get(name) is None), None)


def asked(asking, answer, *, slots=None, entities=(), **kwargs) -> Tracker:
    """validate_referral_form's tracker inside a concern, asked for `asking`, answered `answer`."""
    tracker = form_tracker(asking, answer, slots={"referral_concern": True, "referral_consent": "yes", **(slots or {})}, **kwargs)
    tracker.latest_message["entities"] = [{"entity": name, "value": value} for name, value in entities]
    return tracker


@pytest.fixture
def db_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


# --- the offer, and starting the form ----------------------------------------------------------

def test_the_offer_follows_the_safer_custody_reply_and_marks_what_yes_means(db_env, dispatcher):
    events = run(ActionOfferConcernCallback(), form_tracker(intent="risk_prisoner"), dispatcher)
    assert responses(dispatcher) == ["utter_offer_concern_callback"] and slots(events) == {"person_offer": "concern"}
    offer = DOMAIN["responses"]["utter_offer_concern_callback"][0]
    assert "helpline worker to call you" in offer["text"] and "pass your worry to the prison" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]


def test_no_second_offer_while_a_concern_call_back_is_waiting(db_env, session_for, dispatcher):
    with session_for() as s, s.begin():
        case, _ = cases.create_callback(cases.CallbackRequest(
            sender_id="test-user", channel="rest", request_key="test-user:x", consent_version=CONCERN_CONSENT_VERSION,
            consent_at=datetime(2026, 3, 1, 14, 2, 11), phone="+447512345678", safe_to_call=True, safe_to_leave_message=False, concern=True,
        ), session=s)
        reference = case.reference
    events = run(ActionOfferConcernCallback(), form_tracker(intent="risk_prisoner"), dispatcher)
    assert responses(dispatcher) == ["utter_concern_already"] and dispatcher.messages[0]["reference"] == reference
    assert slots(events) == {"person_offer": None}  # a "yes" now means nothing in particular


def test_the_offer_is_made_even_if_the_database_cannot_say(monkeypatch, dispatcher):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    events = run(ActionOfferConcernCallback(), form_tracker(intent="risk_prisoner"), dispatcher)
    assert responses(dispatcher) == ["utter_offer_concern_callback"] and slots(events) == {"person_offer": "concern"}


def test_yes_starts_the_form_as_a_concern_with_the_prison_already_named(dispatcher):
    assert slots(run(ActionStartConcern(), form_tracker(slots={"prison": "HMP Hull"}, intent="affirm"), dispatcher)) == {
        "referral_concern": True, "referral_concern_prison": "HLI"}
    assert slots(run(ActionStartConcern(), form_tracker(intent="affirm"), dispatcher)) == {"referral_concern": True}
    assert dispatcher.messages == []


# --- the form's questions ------------------------------------------------------------------------

def test_consent_for_a_concern_asks_and_records_the_concern_wording(dispatcher):
    run(ActionAskReferralConsent(), form_tracker(slots={"referral_concern": True}), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_consent_concern"]
    tracker = form_tracker("referral_consent", "yes", intent="affirm", slots={"referral_concern": True})
    got = validate(tracker, dispatcher)
    assert got["referral_consent_version"] == CONCERN_CONSENT_VERSION and next_question(got, tracker) == "referral_concern_prison"


def test_an_ordinary_call_back_asks_the_name_after_consent_as_before(dispatcher):
    got = validate(form_tracker("referral_consent", "yes", intent="affirm"), dispatcher)
    assert got["referral_consent_version"] == CONSENT_VERSION and got["requested_slot"] == "referral_name"  # chosen by the action
    assert not any(name.startswith("referral_concern") for name in got)


def test_the_prison_known_already_is_not_asked_again(dispatcher):
    tracker = form_tracker("referral_consent", "yes", intent="affirm", slots={"referral_concern": True, "referral_concern_prison": "HLI"})
    assert next_question(validate(tracker, dispatcher), tracker) == "referral_concern_name"


def test_the_prison_from_the_register_then_the_name(dispatcher):
    tracker = asked("referral_concern_prison", "hes in durham")
    got = validate(tracker, dispatcher)
    assert got["referral_concern_prison"] == "DMI" and got["prison"] == "HMP Durham"
    assert got["prison_page"] == "https://www.gov.uk/guidance/durham-prison" and next_question(got, tracker) == "referral_concern_name"
    entity = validate(asked("referral_concern_prison", "the one in yorkshire", entities=[("prison", "HMP Leeds")]), dispatcher)
    assert entity["referral_concern_prison"] == "LEI"


def test_a_prison_the_register_does_not_know_is_asked_again_kindly_then_gives_up(dispatcher):
    tracker = asked("referral_concern_prison", "narnia")
    got = validate(tracker, dispatcher)
    assert got["referral_concern_prison"] is None and next_question(got, tracker) == "referral_concern_prison"
    assert responses(dispatcher) == ["utter_referral_concern_prison_unknown"]
    third = validate(asked("referral_concern_prison", "narnia", tries=3), dispatcher)
    assert third["referral_outcome"] == "gave_up" and third["requested_slot"] is None


def test_a_town_given_as_the_prison_does_not_become_their_area(dispatcher):
    tracker = asked("referral_concern_prison", "durham", slots={"area": "County Durham"})
    tracker.events.insert(0, {"event": "slot", "name": "area", "value": "Stockton-on-Tees"})
    tracker.events.append({"event": "slot", "name": "area", "value": "County Durham"})  # the NLU's place in "durham"
    got = validate(tracker, dispatcher)
    assert got["referral_concern_prison"] == "DMI" and got["area"] == "Stockton-on-Tees"


def test_the_name_can_be_skipped_and_the_kind_comes_next(dispatcher):
    tracker = asked("referral_concern_name", "skip", intent="deny", slots={"referral_concern_prison": "DMI"})
    got = validate(tracker, dispatcher)
    assert got["referral_concern_name"] == "" and next_question(got, tracker) == "referral_concern_kind"
    named = validate(asked("referral_concern_name", "his name is Jamie Reed", slots={"referral_concern_prison": "DMI"}), dispatcher)
    assert named["referral_concern_name"] == "Jamie Reed"


def test_the_kind_from_its_button_or_in_words_then_last_heard(dispatcher):
    done = {"referral_concern_prison": "DMI", "referral_concern_name": ""}
    tracker = asked("referral_concern_kind", "health", entities=[("concern_kind", "health")], slots=done)
    button = validate(tracker, dispatcher)
    assert button["referral_concern_kind"] == "health" and next_question(button, tracker) == "referral_concern_last_heard"
    words = validate(asked("referral_concern_kind", "hes being bullied on the wing", slots=done), dispatcher)
    assert words["referral_concern_kind"] == "threats_or_bullying"
    unclear = validate(asked("referral_concern_kind", "hmm", slots=done), dispatcher)
    assert unclear["referral_concern_kind"] is None and responses(dispatcher) == ["utter_referral_concern_kind_invalid"]


def test_last_heard_then_the_usual_questions(dispatcher):
    done = {"referral_concern_prison": "DMI", "referral_concern_name": "", "referral_concern_kind": "health"}
    tracker = asked("referral_concern_last_heard", "two weeks ago", slots=done)
    got = validate(tracker, dispatcher)
    assert got["referral_concern_last_heard"] == "two weeks ago" and next_question(got, tracker) == "referral_name"


def test_a_question_at_a_concern_question_is_not_stored_and_carry_on_asks_again(dispatcher):
    events = run(ValidateReferralForm(), asked("referral_concern_kind", "how do i book a visit", intent="ask_visit_booking"), dispatcher)
    assert rejected(events) and slots(events)["referral_concern_kind"] is None
    assert validate(offered(asked("referral_concern_kind", "carry on", intent="affirm")), dispatcher) == {"referral_concern_kind": None}


@pytest.mark.parametrize("text", ["stop", "actually forget it", "changed my mind"])
def test_stopping_at_a_concern_question_ends_it_with_nothing_kept(dispatcher, text):
    got = validate(asked("referral_concern_name", text, intent="stop_referral", slots={"referral_concern_prison": "DMI"}), dispatcher)
    assert got["referral_outcome"] == "stopped" and got["requested_slot"] is None and got["referral_concern_name"] is None


def test_every_concern_question_offers_to_carry_on_in_its_own_words():
    variants = DOMAIN["responses"]["utter_resume_referral_form"]
    worded = {c["value"] for v in variants for c in v.get("condition", []) if c["name"] == "requested_slot"}
    assert set(concern_form.QUESTIONS) <= worded


def test_the_check_reads_the_worry_back_first(dispatcher):
    run(ActionAskReferralConfirmed(), form_tracker(slots=CONCERN, history=HISTORY), dispatcher)
    assert responses(dispatcher) == ["utter_referral_concern_details", "utter_ask_referral_form_referral_confirmed"]
    worry = dispatcher.messages[0]
    assert (worry["shown_prison"], worry["shown_concern_name"], worry["concern_kind_words"], worry["shown_last_heard"]) == (
        "HMP Durham", "Jamie Reed", "self-harm", "last night")


def test_an_ordinary_check_reads_no_worry(dispatcher):
    run(ActionAskReferralConfirmed(), form_tracker(slots=COMPLETE, history=HISTORY), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_confirmed"]


# --- sending ---------------------------------------------------------------------------------

def test_a_concern_is_stored_as_an_urgent_concern_and_every_slot_cleared(db_env, session_for, dispatcher):
    tracker = form_tracker(slots=CONCERN, history=RISK_HISTORY + [("affirm", "yes")], message_id="confirm-1", intent="affirm")
    events = run(ActionSubmitReferral(), tracker, dispatcher)
    assert responses(dispatcher) == ["utter_referral_sent"]
    assert all(slots(events)[name] is None for name in REFERRAL_SLOTS) and set(concern_form.SLOTS) <= set(REFERRAL_SLOTS)
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.concern is True and case.concern_prison_id == "DMI" and case.concern_person_name == "Jamie Reed"
        assert (case.concern_kind, case.concern_last_heard) == ("self_harm", "last night")
        assert case.priority == "urgent" and case.priority_rank == 0 and case.priority_reason in ("risk_prisoner", "concern")
        assert case.consent_version == CONCERN_CONSENT_VERSION and case.phone == "+447512345678"


def test_an_ordinary_call_back_stores_no_concern(db_env, session_for, dispatcher):
    run(ActionSubmitReferral(), form_tracker(slots=COMPLETE, history=HISTORY + [("affirm", "yes")], intent="affirm"), dispatcher)
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.concern is False and case.concern_prison_id is None and case.priority == "normal"


@pytest.mark.parametrize("text, intent, kind", [
    ("self-harm", "risk_self", "self_harm"),  # the button's words typed: the safety net reads a crisis in them
    ("hes being bullied", "risk_prisoner", "threats_or_bullying"),
])
def test_the_kind_typed_in_words_a_safety_message_would_use_is_the_answer(dispatcher, text, intent, kind):
    done = {"referral_concern_prison": "DMI", "referral_concern_name": ""}
    tracker = asked("referral_concern_kind", text, intent=intent, slots=done)
    got = validate(tracker, dispatcher)
    assert got["referral_concern_kind"] == kind and next_question(got, tracker) == "referral_concern_last_heard"
    assert dispatcher.messages == []
