"""bot/dialogue/trackers.py: what actions read from the tracker, on real rasa_sdk trackers."""
from __future__ import annotations

from rasa_sdk import Tracker

from bot.dialogue import trackers


def user(text: str, intent: str = "inform", message_id: str | None = None, channel: str = "rest", **extra) -> dict:
    return {"event": "user", "text": text, "message_id": message_id, "input_channel": channel,
            "parse_data": {"intent": {"name": intent}, "entities": []}, **extra}


def tracker_of(events: list[dict], latest: dict | None = None, sender_id: str = "wc:abc") -> Tracker:
    return Tracker(sender_id, {}, latest if latest is not None else (events[-1].get("parse_data") or {}), events, False, None, {}, "action_listen")


def test_the_latest_message_its_text_id_intent_and_channel():
    events = [user("hello", "greet", "m1"), {"event": "bot", "text": "hi"}, user("07700 900123", "inform", "m2", channel="twilio")]
    tracker = tracker_of(events, latest={"intent": {"name": "inform"}, "entities": [], "message_id": "m2"})
    assert trackers.latest_text(tracker) == "07700 900123"
    assert trackers.latest_message_id(tracker) == "m2"
    assert trackers.request_key(tracker) == "wc:abc:m2"  # no turn has ended yet: the message's id
    assert trackers.latest_intent(tracker) == "inform"
    assert trackers.user_intents(tracker) == ["greet", "inform"]
    assert trackers.input_channel(tracker) == "twilio" and trackers.on_sms(tracker)


def test_a_request_sent_again_after_a_lost_turn_has_the_same_key_and_a_later_one_another():
    listen = {"event": "action", "name": "action_listen", "timestamp": 1700000000.25}
    before = [user("hello", "greet", "m1"), {"event": "bot", "text": "hi"}, listen]
    first = tracker_of(before + [user("yes", "affirm", "m2")])
    # the server handling m2 died before saving the turn: the person's "yes" again is m3
    again = tracker_of(before + [user("yes", "affirm", "m3")])
    later = tracker_of(before + [user("yes", "affirm", "m2"), {"event": "action", "name": "action_listen", "timestamp": 1700000100.5},
                                 user("yes", "affirm", "m4")])
    assert trackers.request_key(first) == trackers.request_key(again) == "wc:abc:1700000000.25"
    assert trackers.request_key(later) != trackers.request_key(first)


def test_the_message_id_falls_back_to_the_latest_user_event():
    tracker = tracker_of([user("hi", message_id="m9")], latest={"intent": {"name": "greet"}})
    assert trackers.latest_message_id(tracker) == "m9"
    empty = tracker_of([], latest={})
    assert trackers.latest_message_id(empty) == "" and trackers.latest_text(empty) == ""
    assert trackers.user_intents(empty) == [] and trackers.latest_intent(empty) is None
    assert trackers.input_channel(empty) == "" and not trackers.on_sms(empty)


def test_entities_of_the_latest_message(make_tracker):
    tracker = make_tracker(entities=[
        {"entity": "prison", "value": None}, {"entity": "prison", "value": "HMP Durham"}, {"entity": "facet", "value": "travel"},
    ])
    assert trackers.latest_entity(tracker, "prison") == "HMP Durham"  # the first with a value
    assert trackers.latest_entity(tracker, "need") is None
    assert trackers.has_entity(tracker, "facet", "travel") and not trackers.has_entity(tracker, "facet", "money")


def test_attempts_count_answers_to_the_current_question_only():
    events = [
        {"event": "slot", "name": "requested_slot", "value": "referral_phone"},
        {"event": "user", "text": "123"},
        {"event": "slot", "name": "requested_slot", "value": "referral_phone"},  # asked again: same question
        {"event": "user", "text": "456"},
    ]
    assert trackers.attempts_at(events, "referral_phone") == 2
    assert trackers.attempts_at(events + [{"event": "slot", "name": "requested_slot", "value": "referral_safe_to_call"}], "referral_phone") == 0
    assert trackers.attempts_at(events + [{"event": "active_loop", "name": None}, {"event": "user"}], "referral_phone") == 0
    # A question answered inside the form and the offer to carry on: neither the question nor
    # the reply to the offer ("carry on") is an attempt at the phone number.
    offer = [{"event": "user", "text": "how do visits work"}, {"event": "action", "name": "utter_resume_referral_form"},
             {"event": "user", "text": "carry on"}]
    assert trackers.attempts_at(events + offer, "referral_phone") == 0
    assert trackers.attempts_at(events + offer + [{"event": "user", "text": "789"}], "referral_phone") == 1


def test_when_the_latest_run_of_a_form_started():
    events = [
        user("hi", timestamp=1.0),
        user("call me", timestamp=2.0), {"event": "active_loop", "name": "referral_form", "timestamp": 2.5},
        {"event": "active_loop", "name": None, "timestamp": 3.0},
        user("call me after all", timestamp=4.0), {"event": "active_loop", "name": "referral_form", "timestamp": 4.5},
        {"event": "active_loop", "name": "referral_form", "timestamp": 5.0},  # still the same run
    ]
    assert trackers.form_started_at(events, "referral_form") == 4.0
    assert trackers.form_started_at(events[:1], "referral_form") is None
    assert trackers.form_started_at([{"event": "active_loop", "name": "referral_form", "timestamp": 7.0}], "referral_form") == 7.0
    # A new session ends the run: the form starting again there starts a new one.
    restarted = events[:3] + [{"event": "session_started"}, user("ring me", timestamp=9.0),
                              {"event": "active_loop", "name": "referral_form", "timestamp": 9.5}]
    assert trackers.form_started_at(restarted, "referral_form") == 9.0
