"""bot.dialogue.digression: what counts as a question inside a form, and the reply to the offer."""
from __future__ import annotations

import pytest

from bot.dialogue import digression


@pytest.mark.parametrize("text", ["how much is a visit", "Can I take the kids?", "wot time r visits", "visits?", "is he allowed letters"])
def test_questions(text):
    assert digression.looks_like_question(text)


@pytest.mark.parametrize("text", ["Grace", "after 6pm", "Stockton", "07512 345678", "worried about money", ""])
def test_not_questions(text):
    assert not digression.looks_like_question(text)


def test_topic_questions_need_a_topic_and_confidence():
    assert digression.is_topic_question("ask_visit_costs", 0.9)
    assert not digression.is_topic_question("ask_visit_costs", 0.3)
    assert not digression.is_topic_question("inform", 0.99)
    assert not digression.is_topic_question("risk_self", 0.99)  # safety has its own rules
    assert not digression.is_topic_question("ask_live_chat", 0.99)  # a person: the form they are in
    assert not digression.is_topic_question(None, None)


def test_a_question_the_assistant_does_not_help_with_is_a_digression_too():
    assert digression.is_digression("out_of_scope", 1.0, "whats the weather like tomorrow")
    assert not digression.is_digression("out_of_scope", 1.0, "12")  # a poor answer, not a question
    assert digression.is_digression("ask_visit_costs", 0.9, "visit costs")
    assert not digression.is_digression("inform", 0.99, "how about leeds")
    assert not digression.is_digression("risk_self", 0.99, "how do i go on")


@pytest.mark.parametrize("text, answer", [
    ("carry on", True), ("Yes please", True), ("go on then!", True), ("/affirm", True), ("ok", True),
    ("no", False), ("forget it", False), ("Not now.", False), ("/stop_referral", False),
    ("Sarah", None), ("how long is a visit", None), ("yes but what about money", None),
])
def test_resume_answer(text, answer):
    assert digression.resume_answer(text) is answer


def test_the_action_before_the_latest_message():
    events = [
        {"event": "user", "text": "call me back"}, {"event": "action", "name": "referral_form"},
        {"event": "action", "name": "action_listen"}, {"event": "user", "text": "how much is a visit"},
        {"event": "action", "name": "utter_visit_costs"}, {"event": "action", "name": "utter_resume_referral_form"},
        {"event": "action", "name": "action_listen"}, {"event": "user", "text": "carry on"},
    ]
    newest_first = list(reversed(events))
    assert digression.bot_action_before_latest_message(newest_first) == "utter_resume_referral_form"
    assert digression.just_offered(newest_first, "referral_form")
    assert not digression.just_offered(list(reversed(events[:4])), "referral_form")


@pytest.mark.parametrize("text, stop", [
    ("actually no forget it", True), ("changed my mind", True), ("stop asking me", True), ("never mind", True),
    ("i dont want a call now", True), ("forget about it", True), ("/stop_referral", True),
    ("no", False), ("skip", False), ("Sam", False), ("please dont leave a message", False), ("stop", True),
    ("can i stop him calling my mum", False),
    ("its about probation, they keep telling him to stop it and he wont listen", False),  # a note, not a stop
])
def test_stop_requests(text, stop):
    assert digression.is_stop_request(text) is stop
