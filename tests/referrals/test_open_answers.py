"""A yes or a no to one of the form's open questions is an answer to "would you like to?",
never the name, time, place or words themselves."""
from __future__ import annotations

import pytest

from bot.referrals import form

YES = ["yes", "Yes please", "yeah go on", "ok", "sure", "yep", "ok i'd like to add something", "yes ill type it", "/affirm"]
NO = ["no", "No thanks", "nope that's all", "no that's it thanks", "nah I'm fine", "not really", "that's all", "/deny"]
WORDS = ["yes I want to talk about visiting my son", "worried about money since he went in",
         "no money for the train to see him", "not coping with the kids on my own"]


@pytest.mark.parametrize("text", YES)
def test_a_bare_yes_is_not_a_note_a_name_or_a_time(text):
    assert form.is_bare_yes(text) and not form.is_bare_no(text)
    assert form.parse_note(text) is None  # ask for the words
    assert form.parse_name(text) is None  # ask for the name again


@pytest.mark.parametrize("text", NO)
def test_a_bare_no_means_nothing_to_add(text):
    assert form.is_bare_no(text) and not form.is_bare_yes(text)
    assert form.parse_note(text) == ""
    assert form.parse_name(text) == ""


@pytest.mark.parametrize("text", WORDS)
def test_words_are_kept_as_typed_even_when_they_start_with_yes_or_no(text):
    assert not form.is_bare_yes(text) and not form.is_bare_no(text)
    assert form.parse_note(text) == text


def test_unsure_is_no_note():
    assert form.parse_note("dunno") == "" and form.parse_note("not sure really") == ""


def test_names_that_look_like_words_still_work():
    assert form.parse_name("Sam") == "Sam" and form.parse_name("Joy") == "Joy" and form.parse_name("Nat") == "Nat"
