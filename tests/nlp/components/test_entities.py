"""The entity extractors (bot/nlp/components/entities.py), driven through Rasa's graph-component interfaces."""
from __future__ import annotations

import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.components.entities import (
    FollowUpEntityExtractor,
    NotedEntityExtractor,
    PlaceEntityExtractor,
    ProfileEntityExtractor,
)


def test_place_extractor_trains_persists_and_loads(storage, context, message):
    resource = Resource("places")
    training = TrainingData([Message({TEXT: "how do i book a visit", INTENT: "ask_visit_booking"})])
    extractor = PlaceEntityExtractor.create({}, storage, resource, context)
    extractor.train(training)
    loaded = PlaceEntityExtractor.load({}, storage, resource, context)
    (msg,) = loaded.process([message("can i visit hmp low newton from stockon")])
    entities = {(e["entity"], e["value"]) for e in msg.get(ENTITIES)}
    assert entities == {
        ("prison", "HMP Low Newton"),
        ("prison_address", "Brasside, Durham, DH1 5YA"),
        ("prison_page", "https://www.gov.uk/guidance/low-newton-prison"),
        ("area", "Stockton-on-Tees"),
        ("nation", "england"),  # the prison's: HMP Low Newton is in England
    }
    fuzzy = next(e for e in msg.get(ENTITIES) if e["entity"] == "area")
    assert fuzzy["confidence_entity"] < 1.0 and fuzzy["extractor"] == "PlaceEntityExtractor"


@pytest.fixture
def profile_entities(storage, context, message):
    """The (entity, value) pairs the profile extractor gives a text."""
    extractor = ProfileEntityExtractor.create({}, storage, Resource("profile"), context)

    def found(text):
        (msg,) = extractor.process([message(text)])
        return {(e["entity"], e["value"]) for e in msg.get(ENTITIES)}

    return found


def test_profile_extractor_adds_entities_and_who_is_asking(profile_entities):
    assert profile_entities("im his nan and hes on remand") == {
        ("relationship", "grandparent"), ("stage", "remand"), ("audience", "family"),
    }


def test_a_teacher_is_a_professional(profile_entities):
    assert ("audience", "professional") in profile_entities("im a teacher")


def test_one_audience_per_message_a_young_person_first(profile_entities):
    found = profile_entities("im 14 and my dad is in prison")
    assert [v for e, v in found if e == "audience"] == ["young_person"]


def test_childrens_ages_give_their_band(profile_entities):
    assert ("child_age_group", "mixed") in profile_entities("my kids are 3 and 9")
    assert ("child_age_group", "5_to_11") in profile_entities("6")
    assert not any(e == "child_age_group" for e, _ in profile_entities("40"))


def test_derived_entities_span_the_words_they_come_from(storage, context, message):
    extractor = ProfileEntityExtractor.create({}, storage, Resource("profile"), context)
    text = "hi im a social worker"
    (msg,) = extractor.process([message(text)])
    audience = next(e for e in msg.get(ENTITIES) if e["entity"] == "audience")
    assert "social worker" in text[audience["start"] : audience["end"]]


@pytest.mark.parametrize(
    "intent, entities, expected",
    [
        ("inform", [{"entity": "stage", "value": "remand", "start": 0, "end": 6}, {"entity": "area", "value": "Durham", "start": 10, "end": 16}], "stage"),
        ("inform", [{"entity": "prison", "value": "HMP Durham", "start": 0, "end": 10}], "prison"),
        ("inform", [{"entity": "number", "value": "40", "start": 0, "end": 2}], "nothing"),
        ("ask_visit_booking", [{"entity": "prison", "value": "HMP Durham", "start": 0, "end": 10}], None),
        # a fact put right: the reply says it changed
        ("inform", [{"entity": "area", "value": "Leeds", "start": 0, "end": 5}, {"entity": "corrected", "value": "area", "start": 0, "end": 5}], "area_changed"),
        ("inform", [{"entity": "audience", "value": "family", "start": 0, "end": 5}, {"entity": "corrected", "value": "audience", "start": 0, "end": 5}], "audience_changed"),
        # a correction of something the message does not give (the stage) changes nothing noted
        ("inform", [{"entity": "area", "value": "Leeds", "start": 0, "end": 5}, {"entity": "corrected", "value": "stage", "start": 0, "end": 5}], "area"),
    ],
)
def test_noted_says_what_an_inform_message_told_us(storage, context, intent, entities, expected, message):
    extractor = NotedEntityExtractor.create({}, storage, Resource("noted"), context)
    (msg,) = extractor.process([message("some text here", intent=intent, entities=entities)])
    noted = [e["value"] for e in msg.get(ENTITIES) if e["entity"] == "noted"]
    assert noted == ([expected] if expected else [])


def test_noted_leaves_button_payloads_alone(storage, context, message):
    extractor = NotedEntityExtractor.create({}, storage, Resource("noted"), context)
    (msg,) = extractor.process([message('/inform{"stage": "arrested", "noted": "stage"}', intent="inform", entities=[])])
    assert msg.get(ENTITIES) == []


@pytest.mark.parametrize("text, intent, expected", [
    ("what about my daughter?", "ask_child_feelings", "children"),
    ("how far is it by bus?", "nlu_fallback", "travel"),
    ("what about me, i want to end it all", "ask_own_wellbeing", None),  # the safety net's words: never a follow-up
    ("and money-wise?", "risk_self", None),  # nor a message the classifier reads as a crisis
    ("what about my daughter?", "other_language", None),
    ("/ask_money", "ask_money", None),
    ("how do i book a visit", "ask_visit_booking", None),
])
def test_follow_ups_are_marked_with_their_facet_and_the_intent_is_left_alone(storage, context, text, intent, expected, message):
    extractor = FollowUpEntityExtractor.create({}, storage, Resource("follow_up"), context)
    (msg,) = extractor.process([message(text, intent=intent, entities=[])])
    assert [e["value"] for e in msg.get(ENTITIES) if e["entity"] == "follow_up"] == ([expected] if expected else [])
    assert msg.get(INTENT)["name"] == intent
