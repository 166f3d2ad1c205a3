"""The spaCy place pipeline built from the reference data."""
from __future__ import annotations

import pytest
import spacy

from bot.geo import gazetteer
from bot.nlp import places
from bot.nlp.places import PlaceFinder, build_pipeline

COMMON = "i live in we are near the my is he hes she shes at visit visiting prison reading a letter bath time kids send money to him".split()


@pytest.fixture(scope="module")
def finder():
    return PlaceFinder(build_pipeline(gazetteer(), COMMON))


def found(finder, text):
    return [(m.kind, m.value) for m in finder.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("who supports grandparent carers in Stockton", [("AREA", "Stockton-on-Tees")]),
        ("WHO SUPPORTS GRANDPARENT CARERS IN STOCKTON", [("AREA", "Stockton-on-Tees")]),
        ("i live in stockon", [("AREA", "Stockton-on-Tees")]),
        ("sunderlnd", [("AREA", "Sunderland")]),
        ("newcastel", [("AREA", "Newcastle upon Tyne")]),
        ("he's in durham prison", [("PRISON", "HMP Durham")]),
        ("visiting HMP Low Newton tomorrow", [("PRISON", "HMP Low Newton")]),
        ("low newtown", [("PRISON", "HMP Low Newton")]),
        ("hmp & yoi durham", [("PRISON", "HMP Durham")]),
        ("i live in Durham", [("AREA", "County Durham")]),
        ("my son is in Wormwood Scrubs", [("PRISON", "HMP Wormwood Scrubs")]),
        ("strangeways", [("PRISON", "HMP Manchester")]),
        ("any support near TS18", [("AREA", "Stockton-on-Tees")]),
        ("my postcode is ts18 1ab", [("AREA", "Stockton-on-Tees")]),
        ("brighton & hove", [("AREA", "Brighton and Hove")]),
        ("Harrogate", [("AREA", "North Yorkshire")]),
        ("we live in reading", [("AREA", "Reading")]),
        ("he's at hmp send", [("PRISON", "HMP Send")]),
    ],
)
def test_finds(finder, text, expected):
    assert found(finder, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "reading a letter from him",  # 'reading' the verb
        "bath time for the kids",
        "send money to him",  # HMP Send needs 'HMP' or 'prison'
        "c u b4 the visit",  # text-speak, also Birmingham's B4
        "near the m6",  # a motorway, not Salford's M6 district
        "ne1 know",
        "my husband is in prison",
        "what is a visiting order",
    ],
)
def test_leaves_ordinary_words_alone(finder, text):
    assert found(finder, text) == []


def test_offsets_point_at_the_users_own_text(finder):
    text = "Is there help in King's Lynn?"
    (match,) = finder.find(text)
    assert text[match.start : match.end] == "King's Lynn"
    assert match.value == "Kings Lynn and West Norfolk"


def test_pipeline_survives_a_round_trip_to_disk(tmp_path, finder):
    finder.nlp.to_disk(tmp_path / "nlp")
    reloaded = PlaceFinder(spacy.load(tmp_path / "nlp"))
    for text in ("i live in stockon", "hmp low newton", "TS18 1AB", "reading a book"):
        assert found(reloaded, text) == found(finder, text)


def test_a_word_the_training_data_uses_once_can_still_be_a_misspelt_place():
    words = places.words_of(["any help in stockon", "how do i book a visit", "book a visit for saturday"])
    assert "stockon" not in words  # once: maybe a typo the data teaches
    assert {"book", "visit", "a"} <= words  # common words are never read as places
