"""The `nation` slot: worked out from places, postcodes and prisons by the real place pipeline,
kept by Rasa's own slot mapping, and choosing the nation's variant of each answer."""
from __future__ import annotations

import asyncio

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.geo import gazetteer
from bot.geo.records import NATIONS
from bot.nlp.components.entities import PlaceEntityExtractor
from bot.nlp.places import PlaceFinder, build_pipeline, nation_from

COMMON = "i live in we are near the my is he hes she shes at visit visiting prison son dad how do book a and".split()


@pytest.fixture(scope="module")
def finder():
    return PlaceFinder(build_pipeline(gazetteer(), COMMON))


def nation(finder, text):
    found = nation_from(finder.find(text), gazetteer())
    return found[0] if found else None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my son is in HMP Barlinnie", "scotland"),
        ("he's in barlinnie", "scotland"),
        ("we live in Glasgow", "scotland"),
        ("my postcode is G31 2AB", "scotland"),
        ("any support near EH11", "scotland"),
        ("he's in low moss", "scotland"),
        ("my son is in saughton", "scotland"),  # HMP Edinburgh's local name
        ("shotts prison", "scotland"),
        ("Belfast", "northern_ireland"),
        ("he is in Maghaberry", "northern_ireland"),
        ("magilligan prison", "northern_ireland"),
        ("she's in hydebank", "northern_ireland"),
        ("BT28 1AA", "northern_ireland"),
        ("Cardiff", "wales"),
        ("hes in hmp parc", "wales"),
        ("I live in Swansea", "wales"),
        ("i live in stockon", "england"),
        ("visiting HMP Low Newton tomorrow", "england"),
        ("TS18 1AB", "england"),
        # A prison decides over a home town: the prison's own service runs the visits.
        ("I live in Carlisle and my son is in Barlinnie", "scotland"),
        ("we live in Cardiff but he's in HMP Durham", "england"),
    ],
)
def test_nation_from_places_postcodes_and_prisons(finder, text, expected):
    assert nation(finder, text) == expected


@pytest.mark.parametrize("text", ["how do i book a visit", "reading a letter from him", "send money to him"])
def test_no_place_no_nation(finder, text):
    assert nation(finder, text) is None


def test_town_named_prisons_need_a_cue(finder):
    # Greenock and Polmont are towns as well as prisons: bare, they are neither (no council to say where).
    assert nation(finder, "polmont") is None
    assert nation(finder, "HMP Greenock") == "scotland"


def test_the_extractor_adds_one_nation_entity_over_the_words_it_comes_from(tmp_path):
    (tmp_path / "s").mkdir()
    storage = LocalModelStorage(tmp_path / "s")
    context = ExecutionContext(GraphSchema({}), "t")
    extractor = PlaceEntityExtractor.create({}, storage, Resource("places"), context)
    extractor.train(TrainingData([Message({TEXT: "how do i book a visit", "intent": "ask_visit_booking"})]))
    loaded = PlaceEntityExtractor.load({}, storage, Resource("places"), context)
    text = "I live in Carlisle and my son is in HMP Barlinnie"
    (msg,) = loaded.process([Message({TEXT: text})])
    nations = [e for e in msg.get(ENTITIES) if e["entity"] == "nation"]
    assert [(e["value"], text[e["start"] : e["end"]]) for e in nations] == [("scotland", "HMP Barlinnie")]
    # No address is held for Scottish prisons: none rides along.
    assert not [e for e in msg.get(ENTITIES) if e["entity"] == "prison_address"]
    (plain,) = loaded.process([Message({TEXT: "how do i book a visit"})])
    assert not [e for e in plain.get(ENTITIES, []) if e["entity"] == "nation"]


# --- the slot and the answers, through Rasa's own slot mapping and response generator ---------
@pytest.fixture(scope="module")
def domain():
    from pathlib import Path

    from rasa.shared.core.domain import Domain

    return Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))


def user(text, intent, entities=()):
    from rasa.shared.core.events import UserUttered

    return UserUttered(text, intent={"name": intent, "confidence": 1.0}, entities=list(entities))


def extract_slots(domain, events):
    """Run Rasa's action_extract_slots after the last message and apply what it sets."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events("nations-test", events, slots=domain.slots)
    set_events = asyncio.run(
        ActionExtractSlots(None).run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain)
    )
    for event in set_events:
        tracker.update(event)
    return tracker


def test_the_slot_takes_the_four_nations(domain):
    slot = next(s for s in domain.slots if s.name == "nation")
    assert set(slot.values) >= set(NATIONS.values())


def test_nation_is_set_from_the_entity_and_kept_over_later_messages(domain):
    barlinnie = {"entity": "nation", "value": "scotland", "start": 13, "end": 26}
    tracker = extract_slots(domain, [user("my son is in HMP Barlinnie", "inform", [barlinnie])])
    assert tracker.get_slot("nation") == "scotland"
    later = list(tracker.events) + [user("how do i book a visit", "ask_visit_booking")]
    assert extract_slots(domain, later).get_slot("nation") == "scotland"
    moved = later + [user("he's been moved to HMP Durham", "inform", [{"entity": "nation", "value": "england", "start": 17, "end": 27}])]
    assert extract_slots(domain, moved).get_slot("nation") == "england"


def say(domain, response, **slots):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events("nations-test", [SlotSet(k, v) for k, v in slots.items()], slots=domain.slots)
    out = asyncio.run(TemplatedNaturalLanguageGenerator(domain.responses).generate(response, tracker, "rest"))
    return out["text"]


@pytest.mark.parametrize(
    "response, nation, words",
    [
        ("utter_visit_booking", "scotland", "Scottish Prison Service"),
        ("utter_visit_booking", "northern_ireland", "nidirect.gov.uk"),
        ("utter_visit_booking_2", "northern_ireland", "niacro.co.uk"),
        ("utter_visit_rules", "scotland", "0800 254 0088"),
        ("utter_visit_costs", "scotland", "from age 16"),
        ("utter_visit_costs", "northern_ireland", "ask the prison"),
        ("utter_send_money", "scotland", "Scottish Prison Service"),
        ("utter_keep_in_touch", "scotland", "in-cell phone"),
        ("utter_find_prison", "northern_ireland", "Maghaberry"),
        ("utter_court", "scotland", "Children's Hearing"),
        ("utter_licence", "scotland", "criminal justice social worker"),
        ("utter_licence_2", "scotland", "criminal justice social worker"),
        ("utter_licence_2", "northern_ireland", "person supervising their licence"),
        ("utter_keep_in_touch_2", "northern_ireland", "niacro.co.uk/family-links"),
        ("utter_hdc", "scotland", "Families Outside"),
        ("utter_safety_helpline", "scotland", "0800 254 0088"),
        ("utter_safety_helpline", "northern_ireland", "NIACRO"),
        ("utter_housing", "wales", "Shelter Cymru"),
        ("utter_risk_domestic_abuse", "wales", "Live Fear Free"),
    ],
)
def test_each_nation_gets_its_own_answer(domain, response, nation, words):
    assert words in say(domain, response, nation=nation)


@pytest.mark.parametrize("response", ["utter_visit_booking", "utter_send_money", "utter_find_prison", "utter_housing"])
def test_england_and_no_nation_keep_the_default(domain, response):
    plain = say(domain, response)
    assert plain == say(domain, response, nation="england")
    assert not any(w in plain for w in ("Scotland", "Scottish", "Northern Ireland", "NIACRO", "Shelter Cymru"))


def test_scottish_answers_never_send_people_to_england_s_gov_uk_processes(domain):
    for response in ("utter_visit_booking", "utter_send_money", "utter_find_prison", "utter_keep_in_touch"):
        text = say(domain, response, nation="scotland")
        assert "gov.uk/prison-visits" not in text and "send-prisoner-money" not in text and "find a prisoner" not in text


def test_the_domestic_abuse_answer_in_wales_keeps_every_emergency_number(domain):
    for audience in (None, "family", "professional"):
        text = say(domain, "utter_risk_domestic_abuse", nation="wales", audience=audience)
        assert "999" in text and "press 55" in text and "0808 2000 247" in text and "0808 8010 800" in text
    # A young person in Wales gets a young person's answer, whichever variant Rasa picks.
    for _ in range(20):
        assert "Childline" in say(domain, "utter_risk_domestic_abuse", nation="wales", audience="young_person")


def test_a_named_scottish_prison_is_acknowledged_without_an_address(domain):
    text = say(domain, "utter_noted_prison", nation="scotland", prison="HMP Barlinnie")
    assert text.startswith("Thanks. HMP Barlinnie is in Scotland") and "None" not in text


def test_scotland_and_northern_ireland_are_not_told_englands_licence_and_video_call_rules(domain):
    for nation in ("scotland", "northern_ireland"):
        for audience in (None, "family", "young_person", "professional"):
            assert "Their probation officer" not in say(domain, "utter_licence_2", nation=nation, audience=audience)
    assert "1 free a month" not in say(domain, "utter_keep_in_touch_2", nation="northern_ireland")
