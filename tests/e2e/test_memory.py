"""End to end over REST: what the assistant knows about the person, and putting it right (issue 14,
item 4): "I'm not in Stockton any more, I'm in Leeds" changes the area and says so; "what do you
know about me?" lists what it holds and how to delete it."""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import response_name, talk, texts

pytestmark = pytest.mark.e2e


def conversation(servers, *messages):
    sender = f"mem-{uuid.uuid4().hex[:8]}"
    return [texts(talk(servers, message, sender=sender)) for message in messages]


def test_a_new_area_replaces_the_old_one_and_the_reply_says_so(servers):
    _, moved, known = conversation(servers, "I live in Stockton", "I'm not in Stockton any more, I'm in Leeds",
                                   "what do you know about me?")
    assert response_name(moved[0]) == "utter_noted_area_changed" and "Leeds" in moved[0]
    assert response_name(known[0]) == "utter_what_you_know"
    assert "your area is Leeds" in known[0] and "Stockton" not in known[0]
    assert "delete my details" in known[1]


def test_a_prison_move_changes_the_prison(servers):
    _, moved, known = conversation(servers, "my son is in HMP Durham", "he's been moved to Frankland",
                                   "what do you know about me")
    assert "HMP Frankland" in " ".join(moved)
    assert "the prison is HMP Frankland" in known[0]


def test_someone_who_is_not_a_teacher_gets_family_answers(servers):
    _, corrected, known = conversation(servers, "I'm a teacher", "I'm not a teacher, I'm his mum", "what do u know abt me")
    assert response_name(corrected[0]) == "utter_noted_audience_changed" and "family" in corrected[0]
    assert "you're asking as family" in known[0]


def test_with_nothing_told_it_says_it_knows_nothing(servers):
    (known,) = conversation(servers, "what have you saved about me?")
    assert response_name(known[0]) == "utter_what_you_know_nothing"
