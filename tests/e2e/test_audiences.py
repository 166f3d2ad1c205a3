"""End to end over REST: who is asking shapes the answer (issue 14, item 3). Variants are chosen by
Rasa's NLG from the audience slot, so only a conversation through the real servers shows them."""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import response_name, talk, texts

pytestmark = pytest.mark.e2e


def conversation(servers, *messages):
    sender = f"aud-{uuid.uuid4().hex[:8]}"
    return [texts(talk(servers, message, sender=sender)) for message in messages]


def test_a_young_teenager_gets_the_young_peoples_visiting_answer(servers):
    _, booking = conversation(servers, "im 14 and my dad is in prison", "how do i visit him")
    assert response_name(booking[0]) == "utter_visit_booking"
    assert "under-16s must come with an adult" in booking[0] and "gov.uk" not in booking[0].lower()


def test_a_young_person_who_feels_to_blame_is_pointed_to_childline_not_the_gp(servers):
    _, feelings = conversation(servers, "im 13", "i feel like its my fault my mum went to prison")
    joined = " ".join(feelings)
    assert "Childline" in joined and "0800 1111" in joined
    assert "GP" not in joined and "Samaritans" not in joined


def test_a_teacher_asking_about_a_pupils_feelings_gets_what_school_staff_can_do(servers):
    _, feelings = conversation(
        servers, "I'm a teacher", "one of my pupils has gone really quiet since her dad went to prison, how can i help her"
    )
    assert response_name(feelings[0]) == "utter_child_feelings"
    assert "Listen without judging" in feelings[0] and "don't ask about the crime" in feelings[0]


def test_a_family_still_gets_the_family_answer(servers):
    [feelings] = conversation(servers, "my son has gone really quiet since his dad went to prison, what can i do")
    assert response_name(feelings[0]) == "utter_child_feelings" and "Keep routines" in feelings[0]
