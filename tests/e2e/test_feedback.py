"""End to end over REST: "Did I help today?" (issue 17, item 7). Asked once, at thanks or goodbye
after a topic answer, with two buttons; never after a safety reply; answered by a button or in
words; the answer stays in the conversation for the measures."""
from __future__ import annotations

import uuid

import pytest

from tests.support.rest import response_name, say, texts

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"feedback-{uuid.uuid4().hex[:8]}"


def test_asked_once_after_an_answer_and_thanks_then_answered_by_a_button(servers):
    sender = new_sender()
    assert say(servers, sender, "how do i book a visit")[0] == "utter_visit_booking"
    replies = servers.say(sender, "thanks")
    assert [response_name(t) for t in texts(replies)] == ["utter_thank", "utter_ask_feedback"]
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["/feedback_helpful", "/feedback_not_helpful"]
    assert say(servers, sender, "/feedback_helpful") == ["utter_feedback_helpful"]
    assert say(servers, sender, "thank you") == ["utter_thank"]  # asked once
    assert say(servers, sender, "bye") == ["utter_goodbye"]


def test_not_asked_without_an_answer_or_after_a_safety_reply(servers):
    assert say(servers, new_sender(), "thanks") == ["utter_thank"]
    sender = new_sender()
    assert say(servers, sender, "how do i book a visit")[0] == "utter_visit_booking"
    assert "utter_express_distress" in say(servers, sender, "i cant cope with all this anymore")
    assert say(servers, sender, "thanks") == ["utter_thank"]


def test_it_did_not_help_in_words_offers_a_person(servers):
    sender = new_sender()
    assert say(servers, sender, "how do i book a visit")[0] == "utter_visit_booking"
    assert say(servers, sender, "bye") == ["utter_goodbye", "utter_ask_feedback"]
    reply = texts(servers.say(sender, "no it didnt answer my question"))
    assert [response_name(t) for t in reply] == ["utter_feedback_not_helpful"]
    assert "0808 808 3444" in reply[0] and "Mon-Fri" in reply[0]
