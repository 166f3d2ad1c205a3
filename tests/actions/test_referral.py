"""The call-back form's validation and the actions around it, with real rasa_sdk trackers
against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy import func, select

from actions.referral import (
    REFERRAL_SLOTS, ActionAskReferralConfirmed, ActionAskReferralConsent, ActionAskReferralNote, ActionAskReferralPhone,
    ActionCancelCallback, ActionStopReferral, ActionSubmitReferral, ValidateReferralForm,
)
from bot.referrals import cases
from bot.referrals.consent import CONSENT_VERSION
from bot.referrals.models import Case

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
DB_DOWN = "postgresql://postgres@127.0.0.1:1/x"


def run(action, tracker, dispatcher):
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN))


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def user(text, intent="inform", message_id="m1", channel="rest"):
    return {"event": "user", "text": text, "message_id": message_id, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text, "message_id": message_id}}


def form_tracker(asking=None, answer=None, *, slots=None, tries=1, intent="inform", history=(), channel="rest",
                 sender="test-user", message_id="m1"):
    """The tracker validate_referral_form gets: asked for `asking`, answered `answer` (the tries-th time)."""
    slots = {**(slots or {}), "requested_slot": asking}
    events = [user(text, name, f"h{i}", channel) for i, (name, text) in enumerate(history)]
    events += [{"event": "active_loop", "name": "referral_form"}]
    for attempt in range(tries):
        events += [{"event": "slot", "name": "requested_slot", "value": asking}, {"event": "action", "name": "action_listen"}]
        events.append(user(str(answer), intent, message_id if attempt == tries - 1 else f"x{attempt}", channel))
    if asking is not None:
        events.append({"event": "slot", "name": asking, "value": answer})
        slots[asking] = answer
    latest = events[-2 if asking else -1]["parse_data"] if asking else {"intent": {"name": intent}, "entities": [], "message_id": message_id}
    return Tracker(
        sender_id=sender, slots=slots, latest_message=latest, events=events, paused=False, followup_action=None,
        active_loop={"name": "referral_form"}, latest_action_name="action_listen",
    )


def validate(tracker, dispatcher):
    return slots(run(ValidateReferralForm(), tracker, dispatcher))


COMPLETE = {
    "referral_consent": "yes", "referral_consent_at": "2026-03-01T14:02:11+00:00", "referral_consent_version": CONSENT_VERSION,
    "referral_name": "Sam", "referral_phone": "+447512345678", "referral_safe_to_call": "yes",
    "referral_leave_message": "no", "referral_best_time": "evening", "area": "Stockton-on-Tees",
    "referral_note": "worried about the first visit", "referral_confirmed": "yes", "audience": "family", "stage": "remand",
}
HISTORY = [("greet", "hiya"), ("ask_visit_first", "first visit next week"), ("ask_visit_first", "what happens there"),
           ("ask_money", "cant afford it"), ("request_callback", "can someone ring me")]


@pytest.fixture
def db_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


# --- validation ------------------------------------------------------------------------------

def test_consent_yes_continues_and_records_when_and_which_wording(make_tracker, dispatcher):
    before = datetime.utcnow().replace(microsecond=0)
    got = validate(form_tracker("referral_consent", "yes", intent="affirm"), dispatcher)
    assert got["referral_consent"] == "yes" and got["referral_consent_version"] == CONSENT_VERSION
    stamp = datetime.fromisoformat(got["referral_consent_at"])
    assert stamp.utcoffset() == timedelta(0) and before <= stamp.replace(tzinfo=None) <= datetime.utcnow()
    assert "referral_outcome" not in got and got.get("requested_slot") in (None, "referral_name")
    assert dispatcher.messages == []


def test_consent_in_words(dispatcher):
    assert validate(form_tracker("referral_consent", "yeah thats fine"), dispatcher)["referral_consent"] == "yes"


def test_consent_no_ends_the_form_with_nothing_to_store(dispatcher):
    got = validate(form_tracker("referral_consent", "no", intent="deny"), dispatcher)
    assert got["referral_consent"] == "no" and got["referral_outcome"] == "declined"
    assert got["requested_slot"] is None  # the form stops here
    assert "referral_consent_at" not in got


def test_unclear_consent_is_asked_again(dispatcher):
    got = validate(form_tracker("referral_consent", "what do you mean"), dispatcher)
    assert got["referral_consent"] is None and "referral_outcome" not in got
    assert responses(dispatcher) == ["utter_referral_yes_no_invalid"]


def test_a_french_number_is_refused_with_the_reason(dispatcher):
    got = validate(form_tracker("referral_phone", "+33 6 12 34 56 78", slots={"referral_consent": "yes"}), dispatcher)
    assert got["referral_phone"] is None
    assert responses(dispatcher) == ["utter_referral_phone_not_uk"]
    text = DOMAIN["responses"]["utter_referral_phone_not_uk"][0]["text"]
    assert "doesn't look like a UK number" in text and "11 digits starting 07 or 01/02/03" in text


@pytest.mark.parametrize("answer, response", [("0751234", "utter_referral_phone_invalid"), ("0909 879 0000", "utter_referral_phone_not_personal")])
def test_other_wrong_numbers_say_why(dispatcher, answer, response):
    validate(form_tracker("referral_phone", answer), dispatcher)
    assert responses(dispatcher) == [response]


def test_a_uk_number_is_kept_in_e164(dispatcher):
    assert validate(form_tracker("referral_phone", "07512 345 678"), dispatcher)["referral_phone"] == "+447512345678"


def test_after_three_unusable_answers_it_gives_up_kindly(dispatcher):
    second = validate(form_tracker("referral_phone", "12345", tries=2), dispatcher)
    assert second["referral_phone"] is None and "referral_outcome" not in second
    dispatcher.messages.clear()
    third = validate(form_tracker("referral_phone", "12345", tries=3), dispatcher)
    assert third["referral_outcome"] == "gave_up" and third["requested_slot"] is None
    assert dispatcher.messages == []  # action_submit_referral says so, with the helpline number


def test_validating_twice_in_one_turn_counts_one_try(dispatcher):
    tracker = form_tracker("referral_phone", "12345", tries=2)
    validate(tracker, dispatcher)
    again = validate(form_tracker("referral_phone", "12345", tries=2), dispatcher)
    assert "referral_outcome" not in again


def test_no_number_at_all_means_nothing_is_stored(dispatcher):
    got = validate(form_tracker("referral_phone", "no", intent="deny"), dispatcher)
    assert got["referral_outcome"] == "declined"


def test_by_sms_yes_means_the_number_they_are_texting_from(dispatcher):
    tracker = form_tracker("referral_phone", "yes", intent="affirm", channel="twilio", sender="+447512345678")
    assert validate(tracker, dispatcher)["referral_phone"] == "+447512345678"
    dispatcher.messages.clear()
    run(ActionAskReferralPhone(), tracker, dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_phone_sms"]


def test_on_the_web_the_number_is_asked_for(dispatcher):
    run(ActionAskReferralPhone(), form_tracker("referral_phone", "x"), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_phone"]


@pytest.mark.parametrize("slot", ["referral_safe_to_call", "referral_leave_message"])
def test_yes_no_questions(dispatcher, slot):
    assert validate(form_tracker(slot, "yes", intent="affirm"), dispatcher)[slot] == "yes"
    assert validate(form_tracker(slot, "nah not really"), dispatcher)[slot] == "no"
    assert validate(form_tracker(slot, "hmm"), dispatcher)[slot] is None
    assert responses(dispatcher) == ["utter_referral_yes_no_invalid"]


def test_name_skip_and_invalid(dispatcher):
    assert validate(form_tracker("referral_name", "skip"), dispatcher)["referral_name"] == ""
    assert validate(form_tracker("referral_name", "Sam"), dispatcher)["referral_name"] == "Sam"
    assert validate(form_tracker("referral_name", "07512345678"), dispatcher)["referral_name"] is None
    assert responses(dispatcher) == ["utter_referral_name_invalid"]


def test_area_is_matched_to_a_council_or_kept_in_their_words(dispatcher):
    assert validate(form_tracker("area", "stockton"), dispatcher)["area"] == "Stockton-on-Tees"
    assert validate(form_tracker("area", "skip"), dispatcher)["area"] == ""
    assert validate(form_tracker("area", "near the big retail park"), dispatcher)["area"] == "near the big retail park"


def test_best_time_and_note(dispatcher):
    assert validate(form_tracker("referral_best_time", "evening"), dispatcher)["referral_best_time"] == "evening"
    assert validate(form_tracker("referral_note", "no", intent="deny"), dispatcher)["referral_note"] == ""
    assert validate(form_tracker("referral_note", "x" * 400), dispatcher)["referral_note"] is None
    assert responses(dispatcher) == ["utter_referral_note_too_long"]


def test_no_at_the_check_stops_it(dispatcher):
    got = validate(form_tracker("referral_confirmed", "no", intent="deny", slots=COMPLETE), dispatcher)
    assert got["referral_outcome"] == "stopped" and got["requested_slot"] is None


# --- the questions ---------------------------------------------------------------------------

def test_consent_question_states_the_retention_period_in_use(dispatcher, monkeypatch):
    monkeypatch.delenv("CASE_RETENTION_DAYS", raising=False)
    run(ActionAskReferralConsent(), form_tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_consent"]
    assert dispatcher.messages[0]["retention_days"] == "90"
    monkeypatch.setenv("CASE_RETENTION_DAYS", "30")
    dispatcher.messages.clear()
    run(ActionAskReferralConsent(), form_tracker(), dispatcher)
    assert dispatcher.messages[0]["retention_days"] == "30"


def test_the_summary_is_built_from_what_they_asked(dispatcher):
    run(ActionAskReferralNote(), form_tracker(slots={"stage": "remand", "relationship": "partner"}, history=HISTORY), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_note"]
    assert dispatcher.messages[0]["referral_summary"] == (
        "Asked about a first visit and money. Asking as their partner. The person is on remand."
    )
    dispatcher.messages.clear()
    run(ActionAskReferralNote(), form_tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_note_empty"]


def test_the_check_lists_what_will_be_sent(dispatcher):
    run(ActionAskReferralConfirmed(), form_tracker(slots=COMPLETE, history=HISTORY), dispatcher)
    assert responses(dispatcher) == ["utter_ask_referral_form_referral_confirmed"]
    listed = dispatcher.messages[0]["referral_details"]
    assert "Name: Sam" in listed and "Phone: 07512 345678" in listed and "Area: Stockton-on-Tees" in listed
    assert "Best time: evening" in listed


# --- sending ---------------------------------------------------------------------------------

def submit_tracker(message_id="confirm-1", slots=COMPLETE):
    return form_tracker(slots=dict(slots), history=HISTORY + [("affirm", "yes")], message_id=message_id, intent="affirm")


def test_submit_stores_the_case_once_and_gives_the_reference(db_env, session_for, dispatcher):
    events = run(ActionSubmitReferral(), submit_tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_referral_sent"]
    sent = dispatcher.messages[0]
    assert sent["phone_display"] == "07512 345678" and sent["best_time_words"] == "in the evening"
    assert all(slots(events)[s] is None for s in REFERRAL_SLOTS)
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.reference == sent["reference"] and case.kind == "callback" and case.status == "new"
        assert case.phone == "+447512345678" and case.safe_to_call is True and case.safe_to_leave_message is False
        assert case.consent_version == CONSENT_VERSION and case.consent_at == datetime(2026, 3, 1, 14, 2, 11)
        assert case.name == "Sam" and case.best_time == "evening" and case.area == "Stockton-on-Tees"
        assert case.council_code and case.topic == "ask_visit_first" and case.audience == "family"
        assert case.summary.startswith("Asked about a first visit and money.") and "worried about the first visit" in case.summary
        assert case.request_key == "test-user:confirm-1"

    dispatcher.messages.clear()
    run(ActionSubmitReferral(), submit_tracker(), dispatcher)  # the same message, retried
    assert dispatcher.messages[0]["reference"] == sent["reference"]
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1


@pytest.mark.parametrize("outcome", ["declined", "gave_up", "stopped"])
def test_an_early_end_stores_nothing_and_says_so(db_env, session_for, dispatcher, outcome):
    events = run(ActionSubmitReferral(), submit_tracker(slots={**COMPLETE, "referral_outcome": outcome}), dispatcher)
    assert responses(dispatcher) == [f"utter_referral_{outcome}"]
    assert all(slots(events)[s] is None for s in REFERRAL_SLOTS)
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_never_stored_without_consent(db_env, session_for, dispatcher):
    run(ActionSubmitReferral(), submit_tracker(slots={**COMPLETE, "referral_consent": None}), dispatcher)
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_database_down_is_a_kind_message(monkeypatch, dispatcher):
    monkeypatch.setenv("DATABASE_URL", DB_DOWN)
    events = run(ActionSubmitReferral(), submit_tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_referral_not_saved"]
    assert "{helpline_phone}" in DOMAIN["responses"]["utter_referral_not_saved"][0]["text"]
    assert all(slots(events)[s] is None for s in REFERRAL_SLOTS)


def test_a_failed_write_leaves_nothing_half_written(db_env, session_for, dispatcher, monkeypatch):
    from sqlalchemy.exc import OperationalError

    real = cases.create_callback

    def broken(request, *, session):
        real(request, session=session)
        session.flush()
        raise OperationalError("INSERT", {}, Exception("connection lost"))

    monkeypatch.setattr(cases, "create_callback", broken)
    run(ActionSubmitReferral(), submit_tracker(), dispatcher)
    assert responses(dispatcher) == ["utter_referral_not_saved"]
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_stopping_forgets_the_answers(db_env, dispatcher):
    events = run(ActionStopReferral(), form_tracker(slots=COMPLETE, intent="stop_referral"), dispatcher)
    assert responses(dispatcher) == ["utter_referral_stopped"]
    assert all(slots(events)[s] is None for s in REFERRAL_SLOTS)


def stamped(tracker: Tracker) -> Tracker:
    """The tracker with Rasa's timestamps on its events (1000, 1001, ...)."""
    events = [{**event, "timestamp": 1000.0 + i} for i, event in enumerate(tracker.events)]
    return Tracker(tracker.sender_id, tracker.slots, tracker.latest_message, events, False, None, tracker.active_loop, "action_listen")


@pytest.mark.parametrize("action, slots_now", [
    (ActionSubmitReferral(), {**COMPLETE, "referral_confirmed": "no", "referral_outcome": "stopped"}),
    (ActionSubmitReferral(), {**COMPLETE, "referral_outcome": "gave_up"}),
    (ActionStopReferral(), COMPLETE),
])
def test_an_unsent_form_asks_for_what_was_typed_to_be_redacted(db_env, session_for, dispatcher, action, slots_now):
    from bot.referrals.models import RedactionRequest

    tracker = stamped(form_tracker(slots=dict(slots_now), history=HISTORY, intent="deny"))
    started = next(e for e in tracker.events if e["event"] == "active_loop")["timestamp"] - 1  # "can someone ring me"
    events = run(action, tracker, dispatcher)
    assert all(slots(events)[s] is None for s in REFERRAL_SLOTS)
    with session_for() as s:
        request = s.execute(select(RedactionRequest)).scalar_one()
        assert (request.sender_id, request.since, request.done_at) == ("test-user", started, None)
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_a_sent_form_is_not_redacted(db_env, session_for, dispatcher):
    from bot.referrals.models import RedactionRequest

    run(ActionSubmitReferral(), stamped(submit_tracker()), dispatcher)
    assert responses(dispatcher) == ["utter_referral_sent"]
    with session_for() as s:
        assert s.execute(select(func.count()).select_from(RedactionRequest)).scalar_one() == 0


# --- cancelling ------------------------------------------------------------------------------

def test_cancel_says_which_reference(db_env, session_for, dispatcher):
    run(ActionSubmitReferral(), submit_tracker(), dispatcher)
    reference = dispatcher.messages[0]["reference"]
    dispatcher.messages.clear()
    run(ActionCancelCallback(), form_tracker(intent="cancel_callback"), dispatcher)
    assert responses(dispatcher) == ["utter_callback_cancelled"] and dispatcher.messages[0]["reference"] == reference
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.status == "cancelled" and case.phone is None and case.name is None
    dispatcher.messages.clear()
    run(ActionCancelCallback(), form_tracker(intent="cancel_callback"), dispatcher)
    assert responses(dispatcher) == ["utter_callback_none"]


def test_cancel_with_the_database_down(monkeypatch, dispatcher):
    monkeypatch.setenv("DATABASE_URL", DB_DOWN)
    run(ActionCancelCallback(), form_tracker(intent="cancel_callback"), dispatcher)
    assert responses(dispatcher) == ["utter_callback_cancel_failed"]


# --- a question inside the form, and the offer to carry on (bot/dialogue) ----------------------

def offered(tracker: Tracker) -> Tracker:
    """The same tracker, with the offer to carry on said just before the latest message."""
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    events.insert(last_user, {"event": "action", "name": "utter_resume_referral_form"})
    return Tracker(tracker.sender_id, tracker.slots, tracker.latest_message, events, False, None, tracker.active_loop, "action_listen")


def rejected(events) -> bool:
    return any(e["event"] == "action_execution_rejected" and e["name"] == "referral_form" for e in events)


@pytest.mark.parametrize("asking, text, intent", [
    ("referral_name", "how much does it cost to visit", "ask_visit_costs"),
    ("referral_name", "can I take the kids on a visit?", "ask_visit_children"),
    ("referral_best_time", "what ID do I need", "ask_visit_rules"),
    ("area", "is there anything for kids in leeds?", "ask_find_service"),
    ("referral_consent", "what happens to my number after?", "ask_capabilities"),
    ("referral_safe_to_call", "when will he get out", "ask_sentence"),
    ("referral_note", "how do I book a visit?", "ask_visit_booking"),
])
def test_a_question_instead_of_an_answer_is_not_stored(dispatcher, asking, text, intent):
    events = run(ValidateReferralForm(), form_tracker(asking, text, intent=intent), dispatcher)
    assert rejected(events)
    # Rasa had copied the text into the slot; it is taken out. Nothing said: the question's rule answers.
    assert slots(events) == {asking: None} and not dispatcher.messages


@pytest.mark.parametrize("asking, text, intent, expected", [
    ("referral_name", "Grace", "ask_own_wellbeing", "Grace"),  # a name the classifier reads as a topic
    ("referral_best_time", "evenings", "ask_visit_booking", "evening"),
    ("area", "Stockton", "ask_find_service", "Stockton-on-Tees"),
    ("referral_phone", "07512 345678 is my mobile, can you ring after 6?", "ask_human", "+447512345678"),
    ("referral_note", "he's out next week and needs somewhere to live", "ask_release_housing",
     "he's out next week and needs somewhere to live"),
])
def test_a_plain_answer_is_taken_even_when_it_sounds_like_a_topic(dispatcher, asking, text, intent, expected):
    events = run(ValidateReferralForm(), form_tracker(asking, text, intent=intent), dispatcher)
    assert not rejected(events) and slots(events)[asking] == expected


def test_a_low_confidence_topic_is_an_answer(dispatcher):
    tracker = form_tracker("referral_name", "Jo Brown", intent="ask_money")
    tracker.latest_message["intent"]["confidence"] = 0.4
    assert validate(tracker, dispatcher)["referral_name"] == "Jo Brown"


@pytest.mark.parametrize("reply", ["carry on", "yes", "Go on then", "ok", "/affirm"])
def test_carry_on_asks_the_question_again(dispatcher, reply):
    got = validate(offered(form_tracker("referral_name", reply, intent="affirm", slots={"referral_consent": "yes"})), dispatcher)
    # The answer "carry on" is not kept; the form asks the same question again (its own next
    # question, never a concern question the domain lists: bot/referrals/concern_form.py).
    assert got == {"referral_name": None, "requested_slot": "referral_name"}
    assert not dispatcher.messages


@pytest.mark.parametrize("reply", ["no", "forget it", "not now", "Stop"])
def test_no_to_carrying_on_stops_with_nothing_kept(dispatcher, reply):
    got = validate(offered(form_tracker("referral_phone", reply, intent="deny", slots={"referral_name": "Sam"})), dispatcher)
    assert got["referral_outcome"] == "stopped" and got["requested_slot"] is None and got["referral_phone"] is None


def after_rejection(tracker: Tracker) -> Tracker:
    """As Rasa sends it after the offer: the loop was rejected, so the reply was not copied into the slot."""
    events = [e for e in tracker.events if not (e["event"] == "slot" and e["name"] == tracker.slots["requested_slot"])]
    slots_now = {**tracker.slots, tracker.slots["requested_slot"]: None}
    return Tracker(tracker.sender_id, slots_now, tracker.latest_message, events, False, None, tracker.active_loop, "action_listen")


def test_an_answer_right_after_the_offer_is_the_answer(dispatcher):
    assert validate(offered(form_tracker("referral_name", "Sarah", intent="inform")), dispatcher)["referral_name"] == "Sarah"
    tracker = after_rejection(offered(form_tracker("referral_phone", "07512 345678", intent="out_of_scope")))
    assert validate(tracker, dispatcher)["referral_phone"] == "+447512345678"
    bad = after_rejection(offered(form_tracker("referral_phone", "12", intent="out_of_scope")))
    assert validate(bad, dispatcher)["referral_phone"] is None and responses(dispatcher) == ["utter_referral_phone_missing"]
    # "no" to "what name?" is skip, but "no" to "shall we carry on?" stops
    assert validate(form_tracker("referral_name", "no", intent="deny"), dispatcher)["referral_name"] == ""


def test_another_question_after_the_offer_is_answered_too(dispatcher):
    events = run(ValidateReferralForm(), offered(form_tracker("referral_name", "and how long is a visit?", intent="ask_visit_booking")), dispatcher)
    assert rejected(events)


@pytest.mark.parametrize("asking, text", [("referral_name", "actually no forget it"), ("referral_phone", "changed my mind sorry")])
def test_forget_it_stops_at_any_question_whatever_the_intent(dispatcher, asking, text):
    got = validate(form_tracker(asking, text, intent="deny"), dispatcher)
    assert got["referral_outcome"] == "stopped" and got[asking] is None and got["requested_slot"] is None


# --- risk first --------------------------------------------------------------------------------

@pytest.mark.parametrize("said, expected", [
    (("risk_prisoner", "im scared they will hurt him in there"), ("urgent", 0, "risk_prisoner")),
    (("express_distress", "i cant cope with any of this"), ("high", 1, "express_distress")),
    (("ask_money", "can i get help with costs"), ("normal", 2, None)),
])
def test_the_call_back_carries_the_priority_of_the_conversation(db_env, session_for, dispatcher, said, expected):
    tracker = form_tracker(slots=dict(COMPLETE), history=HISTORY[:2] + [said, ("request_callback", "ring me"), ("affirm", "yes")],
                           message_id="confirm-risk", intent="affirm")
    run(ActionSubmitReferral(), tracker, dispatcher)
    assert responses(dispatcher) == ["utter_referral_sent"]
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert (case.priority, case.priority_rank, case.priority_reason) == expected
