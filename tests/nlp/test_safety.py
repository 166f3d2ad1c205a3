"""The safety net under the classifier."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlp.safety import safety_intent

DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"


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


def non_safety_examples():
    for path in sorted(DATA.glob("*.yml")):
        if path.name == "safety.yml":
            continue
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        yield block["intent"], line.strip()[2:]


def test_no_false_alarms_on_the_other_training_examples():
    alarms = [(i, t, safety_intent(t)) for i, t in non_safety_examples() if safety_intent(t)]
    assert len(alarms) <= 3, alarms


def test_never_contradicts_a_safety_example():
    doc = yaml.safe_load((DATA / "safety.yml").read_text())
    wrong = []
    for block in doc["nlu"]:
        for line in block["examples"].splitlines():
            text = line.strip()[2:]
            caught = safety_intent(text)
            if caught and caught != block["intent"]:
                wrong.append((block["intent"], caught, text))
    assert len(wrong) <= 3, wrong
