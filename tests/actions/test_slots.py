"""action_validate_slot_mappings against real rasa_sdk trackers."""
from __future__ import annotations

import asyncio

from actions.slots import ValidatePredefinedSlots

DOMAIN = {
    "slots": {
        name: {"type": "any", "mappings": [{"type": "custom"}]}
        for name in ("audience", "child_age_group", "prison_address", "last_noted", "helpline_phone")
    }
}


def run(tracker, dispatcher):
    return asyncio.run(ValidatePredefinedSlots().run(dispatcher, tracker, DOMAIN))


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_a_teacher_is_a_professional(make_tracker, dispatcher):
    tracker = make_tracker(entities=[{"entity": "profession", "value": "teacher"}], text="im a teacher")
    assert slot_events(run(tracker, dispatcher)) == {"audience": "professional", "last_noted": "audience"}
    assert dispatcher.messages == []


def test_a_child_of_a_prisoner_is_a_young_person(make_tracker, dispatcher):
    tracker = make_tracker(entities=[{"entity": "relationship", "value": "child"}], text="my dad is in prison")
    assert slot_events(run(tracker, dispatcher))["audience"] == "young_person"


def test_a_bare_number_is_an_age_only_after_we_asked(make_tracker, dispatcher):
    entities = [{"entity": "number", "value": "6"}]
    asked = make_tracker(entities=entities, text="6", previous_action="utter_ask_child_age")
    assert slot_events(run(asked, dispatcher)) == {"child_age_group": "5_to_11"}
    not_asked = make_tracker(entities=entities, text="6", previous_action="utter_greet")
    assert slot_events(run(not_asked, dispatcher)) == {}


def test_children_of_different_ages(make_tracker, dispatcher):
    tracker = make_tracker(entities=[{"entity": "child_age", "value": "3"}, {"entity": "child_age", "value": "9"}])
    assert slot_events(run(tracker, dispatcher)) == {"child_age_group": "mixed", "last_noted": "child_age"}


def test_a_prison_brings_its_address(make_tracker, dispatcher):
    tracker = make_tracker(entities=[{"entity": "prison", "value": "HMP Durham"}], text="hes in hmp durham")
    assert slot_events(run(tracker, dispatcher)) == {
        "prison_address": "Old Elvet, Durham, DH1 3HU",
        "last_noted": "prison",
    }


def test_stage_outranks_everything_else_in_one_message(make_tracker, dispatcher):
    entities = [
        {"entity": "stage", "value": "remand"},
        {"entity": "area", "value": "Stockton-on-Tees"},
        {"entity": "relationship", "value": "parent"},
    ]
    events = slot_events(run(make_tracker(entities=entities), dispatcher))
    assert events == {"audience": "family", "last_noted": "stage"}


def test_last_noted_is_cleared_by_a_message_that_tells_us_nothing(make_tracker, dispatcher):
    tracker = make_tracker(slots={"last_noted": "area"}, intent="ask_visit_booking", text="how do i book a visit")
    assert slot_events(run(tracker, dispatcher)) == {"last_noted": None}


def test_users_cannot_set_the_helpline_number(make_tracker, dispatcher):
    tracker = make_tracker(entities=[{"entity": "helpline_phone", "value": "0900 000 000"}])
    assert "helpline_phone" not in slot_events(run(tracker, dispatcher))
