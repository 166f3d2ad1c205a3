"""End to end over REST: questions the assistant was not built for (issue 15). They are declined
with what it does and the helpline, never given a topic answer, a crisis reply or a sensitive flow;
in the middle of a call back the form then offers to carry on, and in the middle of a topic the
conversation goes on."""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import response_name, talk, texts

pytestmark = pytest.mark.e2e

SAFETY_REPLIES = {"utter_risk_self", "utter_risk_child", "utter_risk_domestic_abuse", "utter_risk_prisoner", "utter_express_distress",
                  "utter_safety_helpline"}


def conversation(servers, *messages):
    sender = f"oos-{uuid.uuid4().hex[:8]}"
    return [texts(talk(servers, message, sender=sender)) for message in messages]


@pytest.mark.parametrize("message", [
    "i gotta jump start my car",  # once the suicide-support reply
    "how many people die skydiving each year",
    "transfer 50 pounds from my current account to my savings",  # once "send prisoner money"
    "can you book me a table at an italian restaurant for 8",  # once the visit-booking answer
])
def test_an_everyday_question_is_declined_with_what_the_assistant_does(servers, message):
    (reply,) = conversation(servers, message)
    assert response_name(reply[0]) == "utter_out_of_scope", reply
    assert "0808 808 3444" in reply[0]


@pytest.mark.parametrize("message", [
    "i gotta jump start my car",
    "who can jump off my dead car battery",
    "is it true the house down the road is haunted",  # once the domestic-abuse reply
    "what's the death rate from flu each year",
    "how do i kill the engine on my boat",
])
def test_an_everyday_question_never_gets_a_crisis_reply(servers, message):
    (reply,) = conversation(servers, message)
    assert not SAFETY_REPLIES & {response_name(r) for r in reply}, reply


@pytest.mark.parametrize("message", [
    "how much memory does my phone have left",  # once "delete my details"
    "could you call me a different name",  # once the call-back consent
    "please delete my to do list",
])
def test_a_sensitive_flow_does_not_start_on_an_everyday_request(servers, message):
    (reply,) = conversation(servers, message)
    names = {response_name(r) for r in reply}
    assert not names & {"utter_ask_delete_my_data", "utter_ask_referral_consent", "utter_handoff_waiting"}, reply


def names(servers, sender, message):
    return [response_name(text) for text in texts(talk(servers, message, sender=sender))]


def test_off_topic_inside_the_call_back_form_is_declined_then_the_form_carries_on(servers):
    sender = f"oos-form-{uuid.uuid4().hex[:8]}"
    names(servers, sender, "can someone ring me back")
    assert names(servers, sender, "yes") == ["utter_ask_referral_form_referral_name"]
    replies = names(servers, sender, "whats the weather like in leeds tomorrow")
    assert replies == ["utter_out_of_scope", "utter_resume_referral_form"]
    assert names(servers, sender, "carry on") == ["utter_ask_referral_form_referral_name"]
    assert names(servers, sender, "Sam") == ["utter_ask_referral_form_referral_phone"]


def test_off_topic_in_the_middle_of_a_topic_then_the_topic_goes_on(servers):
    booking, declined, follow_up = conversation(
        servers, "how do i book a visit", "can you set an alarm for 7am", "and what ID do i need")
    assert response_name(booking[0]).startswith("utter_visit_booking")
    assert [response_name(r) for r in declined] == ["utter_out_of_scope"]
    assert response_name(follow_up[0]).startswith("utter_visit_rules")
