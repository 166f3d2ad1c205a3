"""bot.dialogue.policy.FormRulePolicy's own decisions, on real Rasa trackers and the real domain.
(Whole conversations through the trained model: tests/stories/test_digressions.yml, tests/e2e.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.policy import FormRulePolicy, _excluded_intents

DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
FORM = "referral_form"


def tracker(*events):
    return DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"), *events], slots=DOMAIN.slots)


def user(intent, text="x"):
    return UserUttered(text, {"name": intent, "confidence": 0.9})


def in_form_rejected(question="ask_visit_costs"):
    """The form asked for a name; the reply was a question, which the form rejected."""
    return [
        user("request_callback"), ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "referral_name"),
        ActionExecuted("action_listen"), user(question), ActionExecutionRejected(FORM),
    ]


def test_the_forms_own_intents_are_read_from_its_slot_mappings():
    excluded = _excluded_intents(DOMAIN, FORM)
    assert {"risk_self", "stop_referral", "cancel_callback", "delete_my_data"} <= excluded
    assert "ask_visit_costs" not in excluded and _excluded_intents(DOMAIN, "no_such_form") == set()


def test_after_the_offer_it_waits_for_the_reply():
    t = tracker(*in_form_rejected(), ActionExecuted("utter_visit_costs"), ActionExecuted("utter_resume_referral_form"))
    assert FormRulePolicy._digression_action(t, DOMAIN) == "action_listen"


@pytest.mark.parametrize("reply, expected", [
    ("affirm", FORM), ("inform", FORM), ("nlu_fallback", FORM), ("ask_money", FORM),  # the form reads them
    ("stop_referral", None), ("risk_self", None), ("delete_my_data", None),  # their own rules
])
def test_the_reply_to_the_offer_goes_to_the_form_unless_it_has_its_own_rule(reply, expected):
    t = tracker(*in_form_rejected(), ActionExecuted("utter_visit_costs"), ActionExecuted("utter_resume_referral_form"),
                ActionExecuted("action_listen"), user(reply))
    assert FormRulePolicy._digression_action(t, DOMAIN) == expected


def test_nothing_to_do_outside_a_rejected_form():
    assert FormRulePolicy._digression_action(tracker(user("ask_money")), DOMAIN) is None
    t = tracker(user("request_callback"), ActionExecuted(FORM), ActiveLoop(FORM), ActionExecuted("action_listen"), user("inform"))
    assert FormRulePolicy._digression_action(t, DOMAIN) is None  # the form takes it (Rasa's own happy path)


def follow_up_message(intent="ask_child_feelings", facet="children"):
    return UserUttered("what about my daughter?", {"name": intent, "confidence": 0.6},
                       [{"entity": "follow_up", "value": facet, "start": 14, "end": 22}])


def test_a_follow_up_goes_to_action_follow_up():
    assert FormRulePolicy._is_follow_up(tracker(user("ask_visit_rules"), ActionExecuted("utter_visit_rules"),
                                                ActionExecuted("action_listen"), follow_up_message()), DOMAIN)
    assert FormRulePolicy._is_follow_up(tracker(follow_up_message("nlu_fallback")), DOMAIN)  # even if not understood alone


def test_a_message_already_read_in_context_is_not_sent_again():
    read = UserUttered("what about my daughter?", {"name": "ask_visit_children", "confidence": 1.0},
                       [{"entity": "facet", "value": "children", "start": 0, "end": 23}])
    assert not FormRulePolicy._is_follow_up(tracker(read), DOMAIN)
    assert not FormRulePolicy._is_follow_up(tracker(follow_up_message(), ActionExecuted("action_follow_up")), DOMAIN)


@pytest.mark.parametrize("intent", ["risk_self", "risk_child", "express_distress", "other_language"])
def test_never_for_a_safety_message_or_another_language(intent):
    assert not FormRulePolicy._is_follow_up(tracker(follow_up_message(intent)), DOMAIN)


def test_not_inside_a_form_whose_validation_reads_every_reply():
    t = tracker(user("request_callback"), ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "referral_name"),
                ActionExecuted("action_listen"), follow_up_message())
    assert not FormRulePolicy._is_follow_up(t, DOMAIN)


def _rule_key(*states):
    return json.dumps(list(states), sort_keys=True)


def _turn(action=None, intent=None, **extra):
    state = dict(extra)
    if action is not None:
        state["prev_action"] = {"action_name": action}
    if intent is not None:
        state["user"] = {"intent": intent}
    return state


LOOKUP = {
    _rule_key(_turn("action_listen", "greet")): "utter_greet",
    _rule_key(_turn("action_listen", "greet"), _turn("utter_greet", "greet")): "action_listen",
    _rule_key({}, _turn("action_listen", "greet")): "utter_greet",  # conversation start
    _rule_key(_turn("action_listen", "ask_money"), _turn("utter_money", "ask_money")): "utter_money_2",
    _rule_key(_turn("action_listen", "ask_money", slots={"audience": SHOULD_NOT_BE_SET})): "utter_money",
    _rule_key(_turn(SHOULD_NOT_BE_SET, "stop")): "utter_stop",
    _rule_key({"prev_action": {"action_text": "Hi!"}, "user": {"intent": "greet"}}): "utter_greet",  # end-to-end
    _rule_key(_turn("action_listen", "inform", active_loop={"name": FORM})): FORM,
}


@pytest.mark.parametrize("states", [
    [],
    [_turn("action_listen", "greet")],
    [{}, _turn("action_listen", "greet")],
    [_turn("action_listen", "greet"), _turn("utter_greet", "greet")],
    [_turn("action_listen", "ask_money"), _turn("utter_money", "ask_money")],
    [_turn("action_listen", "ask_money", slots={"audience": (1.0, 0.0)})],
    [_turn("action_listen", "ask_money")],
    [_turn("utter_money", "stop")],
    [{"prev_action": {"action_text": "Hi!"}, "user": {"intent": "greet"}}],
    [_turn("action_listen", "inform", active_loop={"name": FORM})],
    [_turn("utter_nothing", "greet")],
])
def test_indexed_rule_matching_finds_what_rasas_does(states):
    policy = object.__new__(FormRulePolicy)  # only the matching is used
    assert policy._get_possible_keys(LOOKUP, states) == RulePolicy._get_possible_keys(policy, LOOKUP, states)
    assert policy._get_possible_keys(LOOKUP, states) == RulePolicy._get_possible_keys(policy, LOOKUP, states)  # index reused


def asked_the_worry(intent, text):
    """A concern call back asking "what's worrying you most?", answered `text`, read as `intent`."""
    return tracker(
        user("affirm"), ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("referral_concern", True),
        SlotSet("requested_slot", "referral_concern_kind"), ActionExecuted("action_listen"), user(intent, text),
    )


@pytest.mark.parametrize("intent, text, expected", [
    ("risk_self", "self-harm", FORM),  # the answer, about the person inside: the form reads it
    ("risk_prisoner", "hes being bullied", FORM),
    ("risk_self", "I want to hurt myself", None),  # about the sender: the safety rule answers
    ("risk_self", "is he self harming?", None),
    ("ask_money", "self-harm", None),  # not a safety reading: the form's own mappings take it
])
def test_naming_the_worry_is_an_answer_not_a_new_safety_message(intent, text, expected):
    assert FormRulePolicy._worry_named(asked_the_worry(intent, text)) == expected


def test_only_when_the_worry_is_what_the_form_asks():
    t = tracker(user("affirm"), ActionExecuted(FORM), ActiveLoop(FORM), SlotSet("requested_slot", "referral_name"),
                ActionExecuted("action_listen"), user("risk_self", "self-harm"))
    assert FormRulePolicy._worry_named(t) is None
