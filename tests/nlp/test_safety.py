"""The safety net under the classifier."""
from __future__ import annotations

import pytest
from tests.support.nlu_examples import examples

from bot.nlp.safety import safety_intent


@pytest.mark.parametrize(
    "text, intent",
    [
        ("i want to end it", "risk_self"),
        ("been cutting myself again", "risk_self"),
        ("he said he wants to end it", "risk_prisoner"),
        ("i worry hell hurt himself in there", "risk_prisoner"),
        ("she overdosed in her cell", "risk_prisoner"),
        ("hes being bullied in there", "risk_prisoner"),
        ("my son is self harming", "risk_child"),
        ("the kids are home alone and ive been arrested", "risk_child"),
        ("im 13 and my stepdad hits me", "risk_child"),
        ("he hits me when hes home", "risk_domestic_abuse"),
        ("i cant cope anymore", "express_distress"),
    ],
)
def test_catches(text, intent):
    assert safety_intent(text) == intent


@pytest.mark.parametrize(
    "text",
    ["im not suicidal just want to know about visits", "my son is being bullied because his dad is in prison", "how do i book a visit"],
)
def test_leaves_alone(text):
    assert safety_intent(text) is None


def test_no_false_alarms_on_the_other_training_examples():
    # A message the net sends to its own intent (a death in custody) is not an alarm.
    alarms = [(i, t, safety_intent(t)) for i, t in examples(exclude=("safety.yml",)) if safety_intent(t) not in (None, i)]
    assert len(alarms) <= 3, alarms


def test_never_contradicts_a_safety_example():
    wrong = []
    for intent, text in examples("safety.yml"):
        caught = safety_intent(text)
        if caught and caught != intent:
            wrong.append((intent, caught, text))
    assert len(wrong) <= 3, wrong


def test_the_safety_table_is_the_bots_safety_rules():
    """SAFETY_RESPONSES (read by the channels for a crisis while a worker has the chat) says what
    data/rules/safety.yml answers, for every safety intent and nothing else."""
    import yaml

    from bot.nlp.safety import SAFETY_INTENTS, SAFETY_RESPONSES
    from bot.settings import ROOT

    rules = yaml.safe_load((ROOT / "data" / "rules" / "safety.yml").read_text())["rules"]
    # A rule may end with an offer that follows the replies (risk_prisoner: a concern call back,
    # data/rules/concern.yml); the channels send only the replies while a worker has the chat.
    offers = {"action_offer_concern_callback"}
    from_rules = {r["steps"][0]["intent"]: tuple(s["action"] for s in r["steps"][1:] if s["action"] not in offers) for r in rules}
    assert from_rules == SAFETY_RESPONSES
    assert [r["steps"][-1]["action"] for r in rules if r["steps"][-1]["action"] in offers] == ["action_offer_concern_callback"]
    assert SAFETY_INTENTS == tuple(SAFETY_RESPONSES) and SAFETY_INTENTS[-1] == "express_distress"
