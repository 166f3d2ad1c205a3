"""End to end over REST: short follow-ups that lean on the last answer (issue 14, item 2; more to come)."""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import response_name, talk, texts

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("follow_up", ["Sunderland", "and in Sunderland?", "what about Sunderland"])
def test_a_place_alone_after_a_directory_answer_searches_there(servers, follow_up):
    sender = f"follow-{uuid.uuid4().hex[:8]}"
    first = texts(talk(servers, "who supports grandparent carers in Stockton", sender=sender))
    assert response_name(first[0]) == "utter_directory_local" and "Stockton-on-Tees" in first[0]
    again = texts(talk(servers, follow_up, sender=sender))
    # the same kind of help, searched again in Sunderland (which has no grandparent carers' group
    # of its own in the directory, so the wider area's services follow)
    assert response_name(again[0]) in ("utter_directory_local", "utter_directory_nothing_local")
    assert "Sunderland" in again[0] and "Stockton" not in " ".join(again)


def conversation(servers, *messages):
    sender = f"follow-{uuid.uuid4().hex[:8]}"
    return [texts(talk(servers, message, sender=sender)) for message in messages]


def names(replies):
    return [response_name(text) for text in replies]


def test_the_children_after_the_id_answer_are_children_on_visits(servers):
    _, kids = conversation(servers, "what id do i need to visit", "what about my daughter?")
    assert names(kids)[0] == "utter_visit_children"


def test_money_wise_after_booking_is_help_with_the_cost_of_visits(servers):
    _, money = conversation(servers, "how do i book a prison visit", "and money-wise?")
    assert names(money)[0] == "utter_visit_costs" and "Help with Prison Visits" in money[0]


def test_getting_there_uses_the_prison_it_knows(servers):
    first, bus = conversation(servers, "my son is in HMP Durham", "how far is it by bus?")
    joined = " ".join(bus)
    assert "HMP Durham" in joined and "gov.uk/guidance/durham-prison" in joined  # address and its page
    assert names(bus)[-1] == "utter_prison_travel_costs" or "utter_prison_travel_costs" in names(bus)
    assert "gov.uk/help-with-prison-visits" in joined


def test_when_can_i_go_uses_the_prison_it_knows(servers):
    _, when = conversation(servers, "he's in hmp hull", "when can I go?")
    assert names(when)[0] == "utter_visit_booking"
    assert "gov.uk/guidance/hull-prison" in " ".join(when)  # its page has the visiting times


def test_how_long_on_remand_is_how_long_remand_can_last(servers):
    _, how_long = conversation(servers, "he's on remand", "how long will he serve?")
    assert names(how_long)[0] == "utter_remand_length"


def test_anyone_nearby_searches_for_the_last_topics_help_in_the_area_known(servers):
    _, _, nearby = conversation(servers, "I live in Stockton", "I'm looking after my grandchildren, what help is there",
                                "is there anyone nearby?")
    assert names(nearby)[0] in ("utter_directory_local", "utter_directory_nothing_local")
    assert "Stockton-on-Tees" in nearby[0]


def test_a_follow_up_with_nothing_before_gets_a_sensible_default(servers):
    (first,) = conversation(servers, "how long will he serve?")
    assert names(first)[0] == "utter_sentence"


def test_a_crisis_is_never_read_as_a_follow_up(servers):
    _, crisis = conversation(servers, "how do i book a visit", "what about me, i want to end it all")
    assert names(crisis)[0] == "utter_risk_self"
