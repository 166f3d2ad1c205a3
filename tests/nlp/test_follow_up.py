"""bot.nlp.follow_up: which messages are short follow-ups, and what aspect they ask about.
(What they then mean in a conversation: tests/dialogue/test_follow_up_in_context.py; over REST with the
trained model: tests/e2e/test_follow_ups.py.)"""
from __future__ import annotations

import pytest

from bot.nlp.follow_up import CHILDREN, DURATION, ME, MONEY, NEARBY, TIMES, TRAVEL, find_follow_up
from tests.support.nlu_examples import examples


@pytest.mark.parametrize("text, facet", [
    # the issue's own examples
    ("what about my daughter?", CHILDREN),
    ("and money-wise?", MONEY),
    ("is there anyone nearby?", NEARBY),
    ("how far is it by bus?", TRAVEL),
    ("when can I go?", TIMES),
    ("how long will he serve?", DURATION),
    # as people write them
    ("wot abt the kids", CHILDREN),
    ("and for my son too", CHILDREN),
    ("what about my daughter, she's 6", CHILDREN),
    ("how about costs", MONEY),
    ("cost wise?", MONEY),
    ("and the times?", TIMES),
    ("what days", TIMES),
    ("how do I get there", TRAVEL),
    ("is there a bus?", TRAVEL),
    ("how far is it from here", TRAVEL),
    ("how long is he in for", DURATION),
    ("how long till he gets out", DURATION),
    ("any help round here?", NEARBY),
    ("anyone local?", NEARBY),
    ("what about me", ME),
    ("and me?", ME),
])
def test_follow_ups_and_their_facets(text, facet):
    found = find_follow_up(text)
    assert found is not None and found.facet == facet
    assert text[found.start:found.end].strip()  # it points at words in the message


@pytest.mark.parametrize("text", [
    "and in Sunderland?",  # a place alone is an answer (inform), searched there by the directory rules
    "what about Sunderland",
    "and can you call me",  # more than the facet after the opener: a message of its own
    "what about visiting?",  # a topic, not an aspect of the last one
    "what about my mum",
    "what time is it",
    "how long will we get together",  # the visit's length, not the sentence
    "how long do I have to wait for a solicitor",
    "which bus goes to hmp ranby",  # names where: the classifier's to answer
    "is there a support group near me",
    "anything else near me",  # more results
    "how much does it cost to visit",
    "I want to kill myself",
    "/ask_visit_costs",
    "",
])
def test_messages_that_stand_on_their_own_are_not_follow_ups(text):
    assert find_follow_up(text) is None


def test_hardly_any_training_example_reads_as_a_follow_up():
    """The classifier's own examples are whole questions: the few that match are ones whose
    follow-up reading gives the same answer (a search near them)."""
    matched = {(intent, text) for intent, text in examples() if find_follow_up(text)}
    assert {intent for intent, _ in matched} <= {"ask_find_service"}, sorted(matched)
