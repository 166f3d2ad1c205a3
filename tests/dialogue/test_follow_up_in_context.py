"""bot.dialogue.follow_up: what a follow-up means after what came before, and the events that
say the message again with that meaning, applied to a real Rasa tracker."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.follow_up import LOOK_BACK, Reading, is_reread, last_topic, reread_events, resolve
from bot.nlp.follow_up import CHILDREN, DURATION, ME, MONEY, NEARBY, TIMES, TRAVEL

DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")


def user(intent, text="x", entities=(), message_id=None):
    return {"event": "user", "text": text, "message_id": message_id or f"m-{intent}",
            "parse_data": {"intent": {"name": intent, "confidence": 0.6}, "entities": list(entities), "text": text,
                           "intent_ranking": [{"name": intent, "confidence": 0.6}]}}


def action(name):
    return {"event": "action", "name": name}


def conversation(*intents):
    events = [action("action_listen")]
    for intent in intents:
        events += [user(intent), action("utter_x"), action("action_listen")]
    return events


@pytest.mark.parametrize("facet, topic, expected", [
    (CHILDREN, "ask_visit_rules", "ask_visit_children"),  # the ID answer, then "what about the kids?"
    (CHILDREN, "ask_visit_booking", "ask_visit_children"),
    (CHILDREN, "ask_court", "ask_tell_children"),
    (CHILDREN, "ask_school", "ask_school"),
    (CHILDREN, "ask_own_wellbeing", "ask_child_feelings"),
    (CHILDREN, "ask_release_prepare", "ask_release_prepare"),
    (CHILDREN, None, "ask_child_feelings"),
    (MONEY, "ask_visit_booking", "ask_visit_costs"),  # "and money-wise?" after booking: help with costs
    (MONEY, "ask_keep_in_touch", "ask_send_money"),
    (MONEY, "ask_court", "ask_legal_advice"),
    (MONEY, "ask_release_prepare", "ask_money"),
    (TRAVEL, "ask_visit_booking", "ask_prison_info"),
    (TRAVEL, None, "ask_prison_info"),
    (TIMES, "ask_prison_info", "ask_visit_booking"),
    (DURATION, "ask_remand_length", "ask_remand_length"),
    (DURATION, "ask_licence", "ask_licence"),
    (DURATION, None, "ask_sentence"),
    (ME, "ask_child_feelings", "ask_own_wellbeing"),
])
def test_a_facet_after_a_topic(facet, topic, expected):
    assert resolve(facet, topic, {}).intent == expected


def test_how_long_on_remand_is_how_long_remand_lasts():
    assert resolve(DURATION, None, {"stage": "remand"}).intent == "ask_remand_length"
    assert resolve(DURATION, None, {"stage": "sentenced"}).intent == "ask_sentence"


def test_someone_nearby_searches_for_the_help_last_talked_about():
    assert resolve(NEARBY, "ask_kinship_care", {}) == Reading("ask_find_service", {"facet": NEARBY, "need": "kinship_care"})
    # the kind of help last searched for, when the last topic names none
    assert resolve(NEARBY, None, {"need": "housing"}).entities["need"] == "housing"
    # a kind of help the message names itself comes first
    assert resolve(NEARBY, "ask_kinship_care", {}, own_need="emotional_support").entities["need"] == "emotional_support"
    assert "need" not in resolve(NEARBY, None, {}).entities


def test_a_child_question_with_nothing_before_keeps_the_classifiers_child_topic():
    assert resolve(CHILDREN, None, {}, guess="ask_school").intent == "ask_school"
    assert resolve(CHILDREN, None, {}, guess="ask_money").intent == "ask_child_feelings"


def test_the_last_topic_skips_the_follow_up_itself_and_small_talk():
    events = conversation("greet", "ask_visit_rules", "thank", "inform") + [user("ask_child_feelings")]
    assert last_topic(reversed(events)) == "ask_visit_rules"


def test_the_last_topic_is_not_someone_asking_for_a_person_or_more_results():
    events = conversation("ask_money", "ask_human", "ask_more_results") + [user("nlu_fallback")]
    assert last_topic(reversed(events)) == "ask_money"


def test_the_last_topic_reaches_back_only_a_few_messages_and_not_past_a_new_session():
    old = conversation("ask_money", *["thank"] * LOOK_BACK) + [user("nlu_fallback")]
    assert last_topic(reversed(old)) is None
    restarted = conversation("ask_money") + [{"event": "session_started"}, action("action_listen"), user("nlu_fallback")]
    assert last_topic(reversed(restarted)) is None


def test_the_rewritten_message_replaces_the_original_in_rasas_tracker():
    """Applied to a real Rasa tracker, the events leave the same words read as the new intent,
    with the slots the message set, and nothing else of the original turn."""
    facet_entity = {"entity": "follow_up", "value": CHILDREN, "start": 14, "end": 22}
    said = user("ask_child_feelings", "what about my daughter?", [facet_entity], message_id="abc")
    events = conversation("ask_visit_rules") + [said, {"event": "slot", "name": "relationship", "value": "parent"},
                                                action("action_follow_up")]
    reading = Reading("ask_visit_children", {"facet": CHILDREN})
    new = reread_events(events, reading)
    tracker = DialogueStateTracker.from_events("t", [Event.from_parameters(e) for e in events + new], slots=DOMAIN.slots)

    latest = tracker.latest_message
    assert latest.intent["name"] == "ask_visit_children" and latest.intent["confidence"] == 1.0
    assert latest.text == "what about my daughter?" and latest.message_id == "abc"
    assert {e["entity"]: e["value"] for e in latest.entities} == {"facet": CHILDREN}
    assert tracker.get_slot("relationship") == "parent"
    applied = [(e.as_dict()["event"], e.as_dict().get("name")) for e in tracker.applied_events()]
    # the answer before, then listening, the message read again and its slot, as if just received
    assert applied[-4:] == [("action", "utter_x"), ("action", "action_listen"), ("user", None), ("slot", "relationship")]
    assert "action_follow_up" not in [e.as_dict().get("name") for e in tracker.applied_events()]
    users = [e for e in tracker.applied_events() if e.as_dict()["event"] == "user"]
    assert [u.intent["name"] for u in users] == ["ask_visit_rules", "ask_visit_children"]
    assert is_reread(new[2]) and not is_reread(said)
