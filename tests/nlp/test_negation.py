"""Mentions a message takes back (bot.nlp.negation), and what the place and profile extractors
keep because of it: "I'm not in Stockton any more, I'm in Leeds" keeps Leeds and says the area
changed; "he's been moved to Durham" is HMP Durham; "I'm not a teacher, I'm his mum" is family."""
from __future__ import annotations

import pytest

from bot.geo import gazetteer
from bot.nlp import places
from bot.nlp.negation import STRONG, WEAK, moved_to, negation
from bot.nlp.profile import find_profile


def negation_of(text, word):
    at = text.index(word)
    return negation(text, at, at + len(word))


@pytest.mark.parametrize("text, word, expected", [
    ("I'm not in Stockton any more, I'm in Leeds", "Stockton", STRONG),
    ("I'm not in Stockton any more, I'm in Leeds", "Leeds", None),
    ("not Stockton, Leeds", "Stockton", STRONG),
    ("not Stockton, Leeds", "Leeds", None),
    ("i'm in Leeds now not Stockton", "Stockton", STRONG),
    ("i'm in Leeds now not Stockton", "Leeds", None),
    ("he's been moved from Durham to Frankland", "Durham", STRONG),
    ("he's been moved from Durham to Frankland", "Frankland", None),
    ("I live in Stockton, not in Durham", "Stockton", None),
    ("I don't live in Leeds", "Leeds", STRONG),
    ("I used to live in Stockton but now I'm in Leeds", "Stockton", WEAK),
    ("he was sentenced today", "sentenced", WEAK),
    ("I live in Stockton", "Stockton", None),
    ("my son is in HMP Durham", "Durham", None),
    ("can't get to Durham", "Durham", None),
    ("nobody in Leeds can help", "Leeds", None),
])
def test_negation(text, word, expected):
    assert negation_of(text, word) == expected


@pytest.mark.parametrize("text, expected", [
    ("he's been moved to Durham", True), ("they moved him to Durham", True), ("my son was sent to Durham", True),
    ("I moved to Durham", False), ("we live in Durham", False),
])
def test_moved_to_is_someone_in_prison_being_moved(text, expected):
    assert moved_to(text, text.index("Durham")) is expected


@pytest.fixture(scope="module")
def finder():
    return places.PlaceFinder(places.build_pipeline(gazetteer(), set()))


def kept(finder, text):
    matches, corrected = places.kept_places(text, finder.find(text), gazetteer())
    return [(m.kind, m.value) for m in matches], corrected


def test_a_place_taken_back_is_dropped_and_the_new_one_marked_as_a_change(finder):
    assert kept(finder, "I'm not in Stockton any more, I'm in Leeds") == ([(places.AREA, "Leeds")], {places.AREA})
    assert kept(finder, "not Stockton, Leeds") == ([(places.AREA, "Leeds")], {places.AREA})
    assert kept(finder, "I used to live in Stockton but now I'm in Leeds") == ([(places.AREA, "Leeds")], {places.AREA})


def test_a_place_taken_back_with_nothing_in_its_place_is_not_kept(finder):
    assert kept(finder, "I'm not in Stockton any more") == ([], set())


def test_a_place_someone_had_is_kept_when_nothing_replaces_it(finder):
    assert kept(finder, "I used to live in Stockton") == ([(places.AREA, "Stockton-on-Tees")], set())


def test_moved_to_a_town_with_a_prison_is_that_prison(finder):
    assert kept(finder, "he's been moved to Durham") == ([(places.PRISON, "HMP Durham")], set())
    assert kept(finder, "he's been moved from Durham to Frankland") == ([(places.PRISON, "HMP Frankland")], {places.PRISON})
    assert kept(finder, "we moved to Durham") == ([(places.AREA, "County Durham")], set())


def profile(text):
    return [(m.entity, m.value) for m in find_profile(text)]


def test_a_role_taken_back_is_not_kept_and_the_audience_is_marked_as_changed():
    assert profile("I'm not a teacher, I'm his mum") == [("relationship", "parent"), ("corrected", "audience")]
    assert profile("I'm not a teacher") == []
    assert profile("im a teacher") == [("profession", "teacher")]


def test_a_stage_taken_back_is_not_kept():
    assert profile("he isn't sentenced yet, he's on remand") == [("stage", "remand"), ("corrected", "stage")]
    assert ("stage", "remand") not in profile("he's not on remand any more")
