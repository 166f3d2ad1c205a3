"""bot/referrals/area.py: the call-back form's area question, read without Rasa."""
from __future__ import annotations

import pytest

from bot.referrals.area import ASK_AGAIN, AreaAnswer, knows_place, read_area


@pytest.mark.parametrize("said, kept", [
    ("stockton", "Stockton-on-Tees"),  # a council we know, by its current name
    ("TS18 1AB", "Stockton-on-Tees"),
    ("skip", ""),  # answered: they'd rather not say
    ("no", ""),
    ("near the big retail park", "near the big retail park"),  # a place the worker can read
    ("  near   the  park ", "near the park"),
])
def test_an_answer_to_the_area_question(said, kept):
    assert read_area(said, asked=True) == AreaAnswer(kept)


@pytest.mark.parametrize("said", ["yes", "yeah go on", "", "   ", "/inform", "x" * 61])
def test_answers_that_are_not_a_place_ask_again(said):
    assert read_area(said, asked=True) == ASK_AGAIN and ASK_AGAIN.ask_again


def test_a_place_found_in_passing_is_kept_as_it_is_unless_it_is_a_council():
    assert read_area("Leeds", asked=False) == AreaAnswer("Leeds")
    assert read_area("stockton", asked=False) == AreaAnswer("Stockton-on-Tees")
    assert read_area("somewhere over there", asked=False) == AreaAnswer("somewhere over there")
    assert read_area("yes", asked=False) == AreaAnswer("yes")  # no question was asked: nothing to ask again
    assert read_area(None, asked=False) == AreaAnswer(None)


def test_knows_place():
    assert knows_place("Stockton") and knows_place("TS18")
    assert not knows_place("") and not knows_place("near the big retail park")
