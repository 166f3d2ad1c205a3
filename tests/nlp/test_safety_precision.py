"""The rule layer's precision beside its recall, on held-out sets (tests/nlu/safety_*.yml), and
the held-out sets the report of `make test-nlu` reads (tools/safety_report.py)."""
from __future__ import annotations

import pytest

from bot.nlp.safety import SAFETY_INTENTS, safety_intent, everyday_sense
from tools import safety_report

# Measured 2026-12-03 on tests/nlu/safety_ordinary.yml: 1 false alarm in 313 (0.3%; 8, 2.6%, before
# issue 13). The limit leaves room for two more before a change to the patterns must be looked at.
MAX_RULE_FALSE_ALARM_RATE = 0.01


def test_the_held_out_sets_are_big_enough_and_apart_from_training():
    from tests.support.nlu_examples import examples

    ordinary = safety_report.ordinary_messages()
    crisis = safety_report.crisis_sets()["crisis, held out (safety_crisis.yml)"]
    assert len(ordinary) >= 250 and len(set(ordinary)) == len(ordinary)
    assert len(crisis) >= 50 and {c.intent for c in crisis} == set(SAFETY_INTENTS)
    training = {t.lower() for _, t in examples()}
    assert not [t for t in ordinary + [c.text for c in crisis] if t.lower() in training]


def test_rule_layer_catches_every_held_out_crisis_message_meant_for_it():
    crisis = [c for c in safety_report.crisis_sets()["crisis, held out (safety_crisis.yml)"] if c.rule_layer]
    missed = [c.text for c in crisis if safety_intent(c.text) is None]
    assert missed == []


def test_rule_layer_false_alarms_stay_under_the_measured_limit():
    ordinary = safety_report.ordinary_messages()
    alarms = [(t, safety_intent(t)) for t in ordinary if safety_intent(t)]
    assert len(alarms) / len(ordinary) <= MAX_RULE_FALSE_ALARM_RATE, alarms


@pytest.mark.parametrize("text", [
    "my kids keep asking if daddy is in danger in prison",
    "he wont let me see his sentence plan, can i ask the prison",
    "my mum wont let me see my dad in prison",
    "she hit me with the news that hes being moved",
    "i dont want to carry on with this",
    # the release-housing question that got the domestic-abuse reply (issue 13, item 7c), and its family
    "social services wont let me have him home because of the kids, where will he live",
    "probation wont let me have him at mine cos of the kids, where does he go",
    "my landlord wont let me have him back with the kids, where can he stay after release",
    "can i take 2 kids on the visit",
])
def test_false_alarms_found_in_issue_13_are_gone(text):
    assert safety_intent(text) is None


@pytest.mark.parametrize("text, intent", [
    ("he asked if he could move cells because hes being beaten up in there", "risk_prisoner"),
    ("he wont let me see my friends", "risk_domestic_abuse"),
    ("he wont let me have my own money", "risk_domestic_abuse"),
    ("hes coming out and says he will kill me if i dont let him live with me and the kids", "risk_domestic_abuse"),
    ("he hit me with a belt", "risk_domestic_abuse"),
    ("i dont want to carry on", "risk_self"),
    ("my kids are in danger", "risk_child"),
    ("im 12 and my mums boyfriend hits me", "risk_child"),
    # text-speak reaches the same patterns
    ("i wnt 2 die", "risk_self"),
    ("im gonna die if this goes on, i want to die", "risk_self"),
    ("he sed hes gna hurt himslf in there", "risk_prisoner"),
    ("no1 is looking after the kids", "risk_child"),
])
def test_the_precision_fixes_keep_the_crisis_they_sit_next_to(text, intent):
    assert safety_intent(text) == intent


@pytest.mark.parametrize("text", [
    "i gotta jump start my car", "who can jump off my dead car battery", "how many people die skydiving each year",
    "what are the deaths from flu each year", "how do i kill the engine on a boat", "he hit the roof when i told him",
    "the kids are driving me mad", "my phone died during his call", "i'm finished with my to do list",
])
def test_harm_words_in_their_everyday_sense(text):
    assert everyday_sense(text)
    assert safety_intent(text) is None


def test_no_crisis_message_the_project_has_reads_as_everyday():
    crisis = [c.text for items in safety_report.crisis_sets().values() for c in items]
    assert [t for t in crisis if everyday_sense(t)] == []
    # and a crisis phrase beside an everyday one is still caught by the rules
    assert safety_intent("my phone is dead and i want to die") == "risk_self"
    assert not everyday_sense("i want to jump off a bridge")
