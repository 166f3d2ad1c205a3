"""The words of the assistant's own field keep a message in scope (bot/nlp/scope.py)."""
from __future__ import annotations

from bot.nlp import scope


def test_words_of_the_field_keep_a_message_in_scope():
    assert scope.names_the_field("how do i change the date of my visit")
    assert scope.names_the_field("anywhere to get a brew outside the nick")
    assert scope.names_the_field("is my citizen card ok 4 id")
    assert not scope.names_the_field("how do i change the date of my dentist appointment")
    assert not scope.names_the_field("transfer 50 pounds to my savings")
