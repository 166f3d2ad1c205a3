"""The rules over the classifier (bot/nlp/components/guards.py), driven through Rasa's graph-component interfaces."""
from __future__ import annotations

import pytest
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY

from bot.nlp.components import guards
from bot.nlp.components.guards import ClearRequestClassifier, SafetyNetClassifier, ShortAnswerClassifier


def test_safety_net_overrides_a_topic_intent(storage, context, message):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("he keeps saying hell kill himself in there", intent="ask_keep_in_touch")])
    assert msg.get(INTENT) == {"name": "risk_prisoner", "confidence": 1.0}
    assert [r["name"] for r in msg.get(INTENT_RANKING_KEY)] == ["risk_prisoner", "ask_keep_in_touch"]


def test_safety_net_keeps_the_classifiers_safety_intent(storage, context, message):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("i cant cope, i want to die", intent="risk_self", confidence=0.9)])
    assert msg.get(INTENT)["name"] == "risk_self"


def test_safety_net_confirms_an_unsure_classifier_so_the_fallback_cannot_drop_a_crisis(storage, context, message):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    fallback = FallbackClassifier.create({**FallbackClassifier.get_default_config(), "threshold": 0.35}, storage, Resource("fb"), context)
    msg = message("i have no reason to go on living without him", intent="risk_self", confidence=0.34)
    (msg,) = fallback.process(net.process([msg]))
    assert msg.get(INTENT) == {"name": "risk_self", "confidence": 1.0}


def test_safety_net_drops_a_crisis_guess_that_rests_on_an_everyday_sense(storage, context, message):
    net = SafetyNetClassifier.create({}, storage, Resource("safety"), context)
    m = message("who can jump off my dead car battery", intent="risk_self", confidence=0.8)
    m.set(INTENT_RANKING_KEY, [{"name": "risk_self", "confidence": 0.8}, {"name": "express_distress", "confidence": 0.1},
                               {"name": "out_of_scope", "confidence": 0.06}])
    (msg,) = net.process([m])
    assert msg.get(INTENT) == {"name": "out_of_scope", "confidence": 0.06}
    # a crisis phrase as well: the rules keep the crisis
    (kept,) = net.process([message("my phone is dead and i want to die", intent="risk_self", confidence=0.8)])
    assert kept.get(INTENT)["name"] == "risk_self"


def test_safety_net_ignores_button_payloads(storage, context, message):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message('/inform{"stage": "arrested"}', intent="inform", confidence=1.0)])
    assert msg.get(INTENT)["name"] == "inform"


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("Stockton", [{"entity": "area", "start": 0, "end": 8, "value": "Stockton-on-Tees"}], "inform"),
        ("im in stockton", [{"entity": "area", "start": 6, "end": 14, "value": "Stockton-on-Tees"}], "inform"),
        ("6", [{"entity": "number", "start": 0, "end": 1, "value": "6"}], "inform"),
        # a follow-up naming another place (issue 14): the search runs again there
        ("what about Sunderland", [{"entity": "area", "start": 11, "end": 21, "value": "Sunderland"}], "inform"),
        ("how about durham then?", [{"entity": "area", "start": 10, "end": 16, "value": "County Durham"}], "inform"),
        ("visiting times at hmp durham", [{"entity": "prison", "start": 18, "end": 28, "value": "HMP Durham"}], "ask_visit_booking"),
        ("how do i book", [], "ask_visit_booking"),
    ],
)
def test_short_answers_become_inform(storage, context, text, entities, expected, message):
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    (msg,) = classifier.process([message(text, entities=entities)])
    assert msg.get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, expected", [
    ("skip", "deny"), ("Skip it please", "deny"), ("ok skip that one", "deny"),  # what the form's questions invite
    ("can we skip the whole form", "stop_referral"), ("skip the whole thing, stop", "stop_referral"),  # stopping, as before
    ("/stop_referral", "stop_referral"),
])
def test_a_bare_skip_is_no_to_one_question_not_stopping_the_form(storage, context, text, expected, message):
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    (msg,) = classifier.process([message(text, intent="stop_referral", confidence=0.85)])
    assert msg.get(INTENT)["name"] == expected


def test_an_override_is_not_undone_by_the_fallbacks_ambiguity_check(storage, context, message):
    """The classifier was sure of out_of_scope (0.97); the short-answer rule makes it inform. The
    ranking below keeps its order at half confidence, so top two are never within 0.05."""
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    msg = message("what about Sunderland", entities=[{"entity": "area", "start": 11, "end": 21, "value": "Sunderland"}])
    msg.set(INTENT, {"name": "out_of_scope", "confidence": 0.97})
    msg.set("intent_ranking", [{"name": "out_of_scope", "confidence": 0.97}, {"name": "inform", "confidence": 0.02}])
    (msg,) = classifier.process([msg])
    ranking = msg.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["inform", "out_of_scope"]
    assert ranking[0]["confidence"] - ranking[1]["confidence"] > 0.05


def test_a_guess_at_a_sensitive_flow_without_a_clear_request_falls_back(storage, context, message):
    gate = ClearRequestClassifier.create({}, storage, Resource("clear"), context)
    todo, details, button = gate.process([
        message("please delete my todo list", intent="delete_my_data"),
        message("please delete my details", intent="delete_my_data"),
        message("/delete_my_data", intent="delete_my_data"),
    ])
    assert todo.get(INTENT)["name"] == "nlu_fallback"
    assert details.get(INTENT)["name"] == "delete_my_data"
    assert button.get(INTENT)["name"] == "delete_my_data"


@pytest.mark.parametrize("text, guess, expected", [
    ("take care", "ask_own_wellbeing", "goodbye"), ("see ya", "affirm", "goodbye"),
    ("take care of the kids", "ask_childcare", "ask_childcare"),
    ("bye", "risk_self", "risk_self"),  # a safety reading is never overruled here
])
def test_a_goodbye_the_classifier_misreads_is_goodbye(storage, context, text, guess, expected, message):
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    (msg,) = classifier.process([message(text, intent=guess, confidence=0.6)])
    assert msg.get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, closing", [
    ("see ya", True), ("ok, over and out", True), ("ta ta", True), ("take care", True), ("bye love x", True),
    ("thanks bye", True), ("catch you another time", True),
    ("take care of the kids", False), ("night", False), ("later", False), ("ta", False), ("tysm", False), ("/goodbye", False),
])
def test_a_message_that_only_says_goodbye(text, closing):
    assert guards.is_closing(text) is closing


def test_no_training_example_of_another_intent_reads_as_goodbye():
    from tests.support.nlu_examples import examples

    assert [(intent, text) for intent, text in examples() if guards.is_closing(text) and intent != "goodbye"] == []
