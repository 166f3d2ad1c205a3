"""The Rasa components, driven through Rasa's own graph-component interfaces."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.rasa_components import (
    PlaceEntityExtractor,
    ProfileEntityExtractor,
    SafetyNetClassifier,
    ShortAnswerClassifier,
)


@pytest.fixture
def context():
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def message(text, intent="ask_visit_booking", confidence=0.6, entities=None):
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    if entities is not None:
        m.set(ENTITIES, entities)
    return m


def test_place_extractor_trains_persists_and_loads(storage, context):
    resource = Resource("places")
    training = TrainingData([Message({TEXT: "how do i book a visit", INTENT: "ask_visit_booking"})])
    extractor = PlaceEntityExtractor.create({}, storage, resource, context)
    extractor.train(training)
    loaded = PlaceEntityExtractor.load({}, storage, resource, context)
    (msg,) = loaded.process([message("can i visit hmp low newton from stockon")])
    entities = {(e["entity"], e["value"]) for e in msg.get(ENTITIES)}
    assert entities == {("prison", "HMP Low Newton"), ("area", "Stockton-on-Tees")}
    fuzzy = next(e for e in msg.get(ENTITIES) if e["entity"] == "area")
    assert fuzzy["confidence_entity"] < 1.0 and fuzzy["extractor"] == "PlaceEntityExtractor"


def test_profile_extractor_adds_entities(storage, context):
    extractor = ProfileEntityExtractor.create({}, storage, Resource("profile"), context)
    (msg,) = extractor.process([message("im his nan and hes on remand")])
    assert {(e["entity"], e["value"]) for e in msg.get(ENTITIES)} == {("relationship", "grandparent"), ("stage", "remand")}


def test_safety_net_overrides_a_topic_intent(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("he keeps saying hell kill himself in there", intent="ask_keep_in_touch")])
    assert msg.get(INTENT) == {"name": "risk_prisoner", "confidence": 1.0}
    assert [r["name"] for r in msg.get(INTENT_RANKING_KEY)] == ["risk_prisoner", "ask_keep_in_touch"]


def test_safety_net_keeps_the_classifiers_safety_intent(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("i cant cope, i want to die", intent="risk_self", confidence=0.9)])
    assert msg.get(INTENT)["name"] == "risk_self"


def test_safety_net_ignores_button_payloads(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message('/inform{"stage": "arrested"}', intent="inform", confidence=1.0)])
    assert msg.get(INTENT)["name"] == "inform"


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("Stockton", [{"entity": "area", "start": 0, "end": 8, "value": "Stockton-on-Tees"}], "inform"),
        ("im in stockton", [{"entity": "area", "start": 6, "end": 14, "value": "Stockton-on-Tees"}], "inform"),
        ("6", [{"entity": "number", "start": 0, "end": 1, "value": "6"}], "inform"),
        ("visiting times at hmp durham", [{"entity": "prison", "start": 18, "end": 28, "value": "HMP Durham"}], "ask_visit_booking"),
        ("how do i book", [], "ask_visit_booking"),
    ],
)
def test_short_answers_become_inform(storage, context, text, entities, expected):
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    (msg,) = classifier.process([message(text, entities=entities)])
    assert msg.get(INTENT)["name"] == expected
