"""End to end: a call back with consent, a refusal, and "delete my details", over REST with
the real servers, checked in the database and in Rasa's tracker store."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from bot.erasure import process_erasures
from bot.referrals.consent import CONSENT_VERSION
from bot.referrals.models import ErasureRequest
from tests.support.rest import ask_for_a_call_back, cases_for, response_name, say, session, texts

pytestmark = pytest.mark.e2e


def test_a_call_back_with_consent_is_stored_once(servers):
    sender = f"callback-{uuid.uuid4().hex[:8]}"
    started = datetime.utcnow() - timedelta(seconds=1)
    sent = ask_for_a_call_back(servers, sender)
    assert "07512 345678" in sent and "in the evening" in sent
    [case] = cases_for(servers, sender)
    assert case.reference in sent
    assert case.phone == "+447512345678" and case.kind == "callback" and case.status == "new"
    assert case.consent_version == CONSENT_VERSION and started <= case.consent_at <= datetime.utcnow()
    assert (case.name, case.safe_to_call, case.safe_to_leave_message, case.best_time) == ("Sam", True, False, "evening")
    assert case.area == "Stockton-on-Tees" and case.council_code and case.topic == "ask_visit_booking"
    assert case.channel == "rest" and case.request_key.startswith(f"{sender}:")


def test_no_consent_stores_nothing(servers):
    sender = f"noconsent-{uuid.uuid4().hex[:8]}"
    assert say(servers, sender, "call me back pls")[0] == "utter_ask_referral_form_referral_consent"
    assert say(servers, sender, "no") == ["utter_referral_declined"]
    assert cases_for(servers, sender) == []
    # The conversation carries on as usual.
    assert say(servers, sender, "how do i book a visit")[0] == "utter_visit_booking"


def test_stop_part_way_through_stores_nothing(servers):
    sender = f"stop-{uuid.uuid4().hex[:8]}"
    say(servers, sender, "call me back pls")
    assert say(servers, sender, "yes") == ["utter_ask_referral_form_referral_name"]
    assert say(servers, sender, "actually no forget it") == ["utter_referral_stopped"]
    assert cases_for(servers, sender) == []


def test_a_safety_message_mid_form_gets_the_safety_reply_then_the_offer(servers):
    sender = f"safety-{uuid.uuid4().hex[:8]}"
    say(servers, sender, "call me back pls")
    say(servers, sender, "yes")
    replies = texts(servers.say(sender, "i keep thinking about ending it all"))
    names = [response_name(t) for t in replies]
    assert names[0] == "utter_risk_self" and names[-1] == "utter_resume_referral_form"
    assert "I was asking what name the worker should use" in replies[-1]
    assert cases_for(servers, sender) == []
    # "no" to carrying on stops it, with nothing saved
    assert say(servers, sender, "no") == ["utter_referral_stopped"]
    assert cases_for(servers, sender) == []


def test_a_question_inside_the_form_is_answered_then_it_carries_on(servers):
    sender = f"digress-{uuid.uuid4().hex[:8]}"
    say(servers, sender, "can someone ring me back")
    assert say(servers, sender, "yes") == ["utter_ask_referral_form_referral_name"]
    replies = say(servers, sender, "how much does it cost to visit")
    assert replies[0] == "utter_visit_costs" and replies[-1] == "utter_resume_referral_form"
    assert say(servers, sender, "carry on") == ["utter_ask_referral_form_referral_name"]
    assert say(servers, sender, "Sam") == ["utter_ask_referral_form_referral_phone"]
    # a second question, then the answer straight after the offer
    replies = say(servers, sender, "what ID do i need to take")
    assert replies[0] == "utter_visit_rules" and replies[-1] == "utter_resume_referral_form"
    assert say(servers, sender, "07512 345678") == ["utter_ask_referral_form_referral_safe_to_call"]
    assert cases_for(servers, sender) == []  # nothing stored until it is confirmed


def test_delete_my_details_erases_the_case_and_then_the_conversation(servers):
    sender = f"delete-{uuid.uuid4().hex[:8]}"
    ask_for_a_call_back(servers, sender)
    assert len(cases_for(servers, sender)) == 1
    assert say(servers, sender, "delete my details") == ["utter_ask_delete_my_data"]
    assert say(servers, sender, "yes") == ["utter_delete_my_data_done"]
    assert cases_for(servers, sender) == []

    tracker_engine = create_engine(f"sqlite:///{servers.tracker_db}", future=True)
    with tracker_engine.connect() as c:
        assert c.execute(text("select count(*) from events where sender_id = :s"), {"s": sender}).scalar_one() > 0
    with session(servers) as s, s.begin():
        assert s.execute(select(func.count()).select_from(ErasureRequest).where(ErasureRequest.sender_id == sender)).scalar_one() == 1
        assert process_erasures(tracker_engine=tracker_engine, session=s, settle_seconds=0).erased >= 1
    with tracker_engine.connect() as c:
        assert c.execute(text("select count(*) from events where sender_id = :s"), {"s": sender}).scalar_one() == 0
    assert cases_for(servers, sender) == []
