"""action_follow_up (actions/conversation.py) with real rasa_sdk trackers as the action server gets
them: the events it returns say the message again as what it means after the last topic."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker

from actions.conversation import ActionFollowUp


def tracker_after(topic: str | None, text: str, guess: str, entities: list[dict], slots: dict | None = None) -> Tracker:
    events = [{"event": "action", "name": "action_listen"}]
    if topic:
        events += [
            {"event": "user", "text": "earlier", "parse_data": {"intent": {"name": topic}, "entities": []}},
            {"event": "action", "name": f"utter_{topic[4:]}"},
            {"event": "bot", "text": "(answer)"},
            {"event": "action", "name": "action_listen"},
        ]
    latest = {"intent": {"name": guess, "confidence": 0.5}, "entities": entities, "text": text,
              "intent_ranking": [{"name": guess, "confidence": 0.5}]}
    events.append({"event": "user", "text": text, "parse_data": latest, "message_id": "m1", "input_channel": "rest"})
    events.append({"event": "slot", "name": "last_noted", "value": "audience"})
    return Tracker("test-user", slots or {}, latest, events, False, None, {}, "action_listen")


def run(tracker, dispatcher):
    return asyncio.run(ActionFollowUp().run(dispatcher, tracker, {}))


def follow_up(facet):
    return {"entity": "follow_up", "value": facet, "start": 0, "end": 5}


def test_what_about_my_daughter_after_the_id_answer_is_about_children_on_visits(dispatcher):
    events = run(tracker_after("ask_visit_rules", "what about my daughter?", "inform", [follow_up("children")]), dispatcher)
    assert dispatcher.messages == []  # the rules for the new intent answer it
    rewind, listen, said, slot = events
    assert rewind == {"event": "rewind"} and listen == {"event": "action", "name": "action_listen"}
    assert said["parse_data"]["intent"] == {"name": "ask_visit_children", "confidence": 1.0}
    assert said["text"] == "what about my daughter?" and said["message_id"] == "m1" and said["input_channel"] == "rest"
    assert said["metadata"]["reread"] == "follow_up" and "timestamp" not in said
    assert [e["entity"] for e in said["parse_data"]["entities"]] == ["facet"]
    assert slot == {"event": "slot", "name": "last_noted", "value": "audience"}  # what the message set, set again


def test_anyone_nearby_searches_for_the_last_topics_kind_of_help(dispatcher):
    events = run(tracker_after("ask_kinship_care", "is there anyone nearby?", "ask_human", [follow_up("nearby")]), dispatcher)
    said = events[2]["parse_data"]
    assert said["intent"]["name"] == "ask_find_service"
    assert {e["entity"]: e["value"] for e in said["entities"]} == {"facet": "nearby", "need": "kinship_care"}


def test_how_long_will_he_serve_on_remand(dispatcher):
    events = run(tracker_after(None, "how long will he serve?", "ask_sentence", [follow_up("duration")], {"stage": "remand"}), dispatcher)
    assert events[2]["parse_data"]["intent"]["name"] == "ask_remand_length"


def test_without_a_facet_the_message_keeps_the_classifiers_reading(dispatcher):
    events = run(tracker_after("ask_money", "hmm", "ask_money", []), dispatcher)
    assert events[2]["parse_data"]["intent"]["name"] == "ask_money"


def test_did_i_help_is_asked_once_with_buttons_after_a_topic_answer(dispatcher):
    from actions.conversation import ActionAskFeedback

    events = [{"event": "user", "text": "how do i book", "parse_data": {"intent": {"name": "ask_visit_booking"}}},
              {"event": "user", "text": "thanks", "parse_data": {"intent": {"name": "thank"}}}]
    tracker = Tracker("test-user", {}, {"intent": {"name": "thank"}}, events, False, None, {}, "utter_thank")
    assert asyncio.run(ActionAskFeedback().run(dispatcher, tracker, {})) == [{"event": "slot", "timestamp": None, "name": "feedback_asked", "value": True}]
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_feedback"]

    asked = events + [{"event": "slot", "name": "feedback_asked", "value": True}]
    again = Tracker("test-user", {}, {"intent": {"name": "goodbye"}}, asked, False, None, {}, "utter_goodbye")
    dispatcher.messages.clear()
    assert asyncio.run(ActionAskFeedback().run(dispatcher, again, {})) == []
    assert dispatcher.messages == []
