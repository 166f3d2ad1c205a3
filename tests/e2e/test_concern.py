"""End to end over REST with the real servers and the trained model: a concern for someone
inside. The Safer Custody reply first, then the offer of a call back about it; yes runs the
call-back form with the concern questions after consent (the prison from the register, asked
only if not known; a name, or skip; the kind of worry; when last heard), reads the worry back
and stores an urgent concern case; no stores nothing; the form's unhappy paths hold.
(FC_TEST_MODEL points the end-to-end tests at a model other than models/current.tar.gz.)"""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import cases_for, response_name, say, texts

pytestmark = pytest.mark.e2e


def sender(kind: str) -> str:
    return f"concern-{kind}-{uuid.uuid4().hex[:8]}"


def test_a_concern_from_the_safer_custody_reply_to_an_urgent_case(servers):
    who = sender("yes")
    replies = servers.say(who, "im so scared my son will hurt himself in hmp hull")
    names = [response_name(t) for t in texts(replies)]
    assert names == ["utter_risk_prisoner", "utter_risk_prisoner_2", "utter_offer_concern_callback"]
    assert "gov.uk/guidance/hull-prison" in texts(replies)[0]  # the Safer Custody route comes first, as before
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["/affirm", "/deny"]

    consent = texts(servers.say(who, "yes please"))
    assert [response_name(t) for t in consent] == ["utter_ask_referral_form_referral_consent_concern"]
    assert "90 days" in consent[0] and "Safer Custody team" in consent[0]
    # the prison is known from the first message: not asked again
    assert say(servers, who, "yes thats ok") == ["utter_ask_referral_form_referral_concern_name"]
    assert say(servers, who, "his name is Jamie Reed") == ["utter_ask_referral_form_referral_concern_kind"]
    assert say(servers, who, '/inform{"concern_kind": "self_harm"}') == ["utter_ask_referral_form_referral_concern_last_heard"]
    assert say(servers, who, "last night") == ["utter_ask_referral_form_referral_name"]
    assert say(servers, who, "Sam") == ["utter_ask_referral_form_referral_phone"]
    assert say(servers, who, "07512 345678") == ["utter_ask_referral_form_referral_safe_to_call"]
    assert say(servers, who, "yes") == ["utter_ask_referral_form_referral_leave_message"]
    assert say(servers, who, "no") == ["utter_ask_referral_form_referral_best_time"]
    assert say(servers, who, '/inform{"best_time": "evening"}') == ["utter_ask_referral_form_area"]
    assert say(servers, who, "Hull") == ["utter_ask_referral_form_referral_note"]
    check = texts(servers.say(who, "no thanks"))
    assert [response_name(t) for t in check] == ["utter_referral_concern_details", "utter_ask_referral_form_referral_confirmed"]
    for line in ("Prison: HMP Hull", "Their name: Jamie Reed", "Worry: self-harm", "Last heard: last night"):
        assert line in check[0], line
    assert cases_for(servers, who) == []  # nothing is stored before it is confirmed
    assert say(servers, who, "yes") == ["utter_referral_sent"]

    [case] = cases_for(servers, who)
    assert case.concern is True and case.concern_prison_id == "HLI" and case.concern_person_name == "Jamie Reed"
    assert (case.concern_kind, case.concern_last_heard) == ("self_harm", "last night")
    assert case.priority == "urgent" and case.consent_version == "concern-1" and case.phone == "+447512345678"
    assert case.name == "Sam" and case.concern_passed_at is None

    # A second worry in the same chat: the Safer Custody route again, and no second offer.
    again = say(servers, who, "im still so scared hes going to hurt himself")
    assert again == ["utter_risk_prisoner", "utter_risk_prisoner_2", "utter_concern_already"]


def test_no_to_the_offer_stores_nothing_and_the_chat_goes_on(servers):
    who = sender("no")
    assert say(servers, who, "im worried hes going to hurt himself in there")[-1] == "utter_offer_concern_callback"
    assert say(servers, who, "no thanks") == ["utter_concern_declined"]
    assert cases_for(servers, who) == []
    assert say(servers, who, "how do i book a visit")[0] == "utter_visit_booking"


def test_an_unknown_prison_is_asked_again_the_name_skipped_and_stop_keeps_nothing(servers):
    who = sender("stop")
    assert say(servers, who, "im worried hes going to hurt himself in there")[-1] == "utter_offer_concern_callback"
    assert say(servers, who, "yes") == ["utter_ask_referral_form_referral_consent_concern"]
    assert say(servers, who, "yes") == ["utter_ask_referral_form_referral_concern_prison"]
    assert say(servers, who, "narnia") == ["utter_referral_concern_prison_unknown", "utter_ask_referral_form_referral_concern_prison"]
    assert say(servers, who, "hes in durham") == ["utter_ask_referral_form_referral_concern_name"]
    assert say(servers, who, "skip") == ["utter_ask_referral_form_referral_concern_kind"]
    assert say(servers, who, "stop") == ["utter_referral_stopped"]
    assert cases_for(servers, who) == []


def test_a_crisis_message_at_a_concern_question_gets_the_safety_reply_then_the_offer(servers):
    who = sender("crisis")
    say(servers, who, "im worried hes going to hurt himself in there")
    say(servers, who, "yes")
    assert say(servers, who, "yes") == ["utter_ask_referral_form_referral_concern_prison"]
    replies = texts(servers.say(who, "he just rang me saying he wants to end it all tonight"))
    names = [response_name(t) for t in replies]
    assert names[0] == "utter_risk_prisoner" and names[-1] == "utter_resume_referral_form"
    assert "I was asking which prison they're in" in replies[-1]
    assert say(servers, who, "carry on") == ["utter_ask_referral_form_referral_concern_prison"]
    assert say(servers, who, "HMP Leeds") == ["utter_ask_referral_form_referral_concern_name"]
    assert cases_for(servers, who) == []


def test_the_worry_typed_in_words_a_crisis_would_use_is_taken_as_the_answer(servers):
    """"self-harm" typed to "what's worrying you most?" is about the person inside: the answer,
    not a safety reply about the sender; "I want to hurt myself" still gets the safety reply."""
    who = sender("typed")
    servers.say(who, "im so scared my son will hurt himself in hmp hull")
    servers.say(who, "yes please")
    assert say(servers, who, "yes thats ok") == ["utter_ask_referral_form_referral_concern_name"]
    assert say(servers, who, "skip") == ["utter_ask_referral_form_referral_concern_kind"]
    assert say(servers, who, "self-harm") == ["utter_ask_referral_form_referral_concern_last_heard"]

    other = sender("self")
    servers.say(other, "im so scared my son will hurt himself in hmp hull")
    servers.say(other, "yes please")
    servers.say(other, "yes thats ok")
    servers.say(other, "skip")
    said = say(servers, other, "I want to hurt myself")
    assert said[0] == "utter_risk_self" and said[-1] == "utter_resume_referral_form"
