"""End to end: the real action server and Rasa, trained model, REST channel, SQLite tracker store."""
from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.support.rest import response_name, talk, texts


pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]



def first_responses_by_intent() -> dict[str, set[str]]:
    """From the rules: the responses that can open the answer to each intent."""
    opening: dict[str, set[str]] = {}
    for path in (ROOT / "data" / "rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text())["rules"]:
            steps = rule["steps"]
            if "intent" not in steps[0]:
                continue
            action = next(s["action"] for s in steps if "action" in s)
            opening.setdefault(steps[0]["intent"], set()).update(ACTION_OPENINGS.get(action, {action}))
    return opening


# The responses a custom action can open its answer with.
ACTION_OPENINGS = {
    "action_search_services": {
        "utter_ask_directory_area", "utter_directory_local", "utter_directory_nothing_local",
        "utter_directory_no_need_match", "utter_directory_none",
        "utter_directory_unchecked_only",  # a "more" page with no checked entries opens with it
    },
    "action_prison_info": {"utter_prison_address", "utter_ask_which_prison", "utter_noted_prison"},
}
ACTION_OPENINGS["action_refer_family"] = ACTION_OPENINGS["action_search_services"]


# --- the tests ----------------------------------------------------------------------------
def test_status_and_greeting(servers):
    replies = talk(servers, "hiya")
    assert response_name(texts(replies)[0]) == "utter_greet"
    assert [b["payload"] for b in replies[0]["buttons"]][0] == "/ask_visit_booking"


@pytest.mark.parametrize(
    "question, response",
    [
        ("my husband was arrested last night, what happens now?", "utter_arrest"),
        ("how do i book a visit at hmp durham", "utter_visit_booking"),
        ("what ID do I need to take on a prison visit", "utter_visit_rules"),
        ("is there help paying for the train to the prison", "utter_visit_costs"),
        ("how do i send money to my son in prison", "utter_send_money"),
        ("how long will he actually serve of a 6 year sentence", "utter_sentence"),
        ("what is home detention curfew", "utter_hdc"),
        ("I'm a nan bringing up my grandchildren while their mum is inside. Is there support?", "utter_kinship_care"),
        ("my daughter keeps crying at night since her dad went to prison", "utter_child_feelings"),
        ("how can a social worker share information with the prison", "utter_info_sharing"),
    ],
)
def test_topical_answers(servers, question, response):
    replies = texts(talk(servers, question))
    assert response_name(replies[0]) == response, replies


def test_remembers_who_is_asking(servers):
    sender = f"teacher-{uuid.uuid4().hex[:8]}"
    first = texts(talk(servers, "what can the school do", sender=sender))
    assert response_name(first[0]) == "utter_ask_audience"
    answer = texts(talk(servers, "I'm a teacher", sender=sender))
    assert [response_name(t) for t in answer] == ["utter_school_professional", "utter_school_professional_2"]
    again = texts(talk(servers, "what can a school do for a pupil with a dad in prison", sender=sender))
    assert response_name(again[0]) == "utter_school_professional"  # not asked twice


def test_places_and_prisons_are_understood_and_remembered(servers):
    assert texts(talk(servers, "we live in stockon")) [0] == "Thanks, I'll remember you're in Stockton-on-Tees."
    assert texts(talk(servers, "hes at HMP Low Newton"))[0] == "Thanks. HMP Low Newton is at Brasside, Durham, DH1 5YA."


def test_a_bare_age_answers_the_age_question(servers):
    sender = f"parent-{uuid.uuid4().hex[:8]}"
    # the honesty advice first (issue 13, item 7), then the question whose answer follows
    first = [response_name(t) for t in texts(talk(servers, "how do i tell my son his dad is in prison", sender=sender))]
    assert first == ["utter_tell_children_honesty", "utter_ask_child_age"]
    replies = texts(talk(servers, "6", sender=sender))
    assert [response_name(t) for t in replies] == ["utter_tell_children", "utter_tell_children_5_to_11"]


def test_each_answer_is_acknowledged_for_what_it_told_us(servers):
    sender = f"noted-{uuid.uuid4().hex[:8]}"
    assert response_name(texts(talk(servers, "we're in Durham", sender=sender))[0]) == "utter_noted_area"
    assert response_name(texts(talk(servers, "how do i book a visit", sender=sender))[0]) == "utter_visit_booking"
    # A later answer that tells us nothing we keep is not thanked as if it were the area again.
    assert response_name(texts(talk(servers, "45", sender=sender))[0]) == "utter_noted"
    assert response_name(texts(talk(servers, "I'm his mum", sender=sender))[0]) == "utter_noted_audience"


def test_safety_interrupts_anything(servers):
    sender = f"safety-{uuid.uuid4().hex[:8]}"
    talk(servers, "what do i tell the kids", sender=sender)
    replies = texts(talk(servers, "tbh i keep thinking about ending it all", sender=sender))
    assert response_name(replies[0]) == "utter_risk_self"
    assert "116 123" in replies[0] and "999" in replies[0]


def test_conversations_are_kept_in_the_sqlite_tracker_store(servers):
    sender = f"stored-{uuid.uuid4().hex[:8]}"
    talk(servers, "hello", "how do i book a visit", sender=sender)
    with sqlite3.connect(servers.tracker_db) as db:
        kinds = [row[0] for row in db.execute("select type_name from events where sender_id = ? order by id", (sender,))]
    assert kinds.count("user") == 2 and "bot" in kinds


def test_independent_real_world_questions(servers):
    """Questions written without sight of the training data; each should get its topic's answer."""
    questions = yaml.safe_load((ROOT / "tests" / "nlu" / "realworld.yml").read_text())["questions"]
    opening = first_responses_by_intent()
    right, misses, lengths = 0, Counter(), []
    for q in questions:
        replies = texts(talk(servers, q["text"]))
        lengths += [len(t) for t in replies]
        got = response_name(replies[0]) if replies else None
        if got in opening[q["intent"]]:
            right += 1
        else:
            misses[(q["intent"], got)] += 1
    accuracy = right / len(questions)
    print(f"\nreal-world questions over REST: {right}/{len(questions)} = {accuracy:.1%}; misses: {misses.most_common(10)}")
    assert max(lengths) <= 640
    assert accuracy >= 0.85


# --- the service directory, from the seed entries -------------------------------------------
def test_who_supports_grandparent_carers_in_stockton(servers):
    replies = texts(talk(servers, "who supports grandparent carers in Stockton"))
    names = [response_name(t) for t in replies]
    assert names[0] == "utter_directory_local" and "Stockton-on-Tees" in replies[0]
    assert "utter_directory_result" in names
    assert any("Stockton" in t for t in replies[1:])  # the local service comes first
    # an answer of unchecked entries only ends with the national helpline (issue 13, item 1)
    assert names[-1] in ("utter_directory_more", "utter_directory_end", "utter_directory_unchecked_helpline")


def test_support_near_a_postcode_then_more(servers):
    sender = f"dir-{uuid.uuid4().hex[:8]}"
    first = texts(talk(servers, "any support near TS18", sender=sender))
    assert response_name(first[0]) == "utter_directory_local"
    assert [response_name(t) for t in first].count("utter_directory_result") == 3
    assert response_name(first[-1]) == "utter_directory_more"
    more = texts(talk(servers, "any more", sender=sender))
    assert response_name(more[0]) == "utter_directory_result"
    assert not set(more) & set(first[1:4])  # the next ones, not the same again


def test_asks_where_then_searches_there(servers):
    sender = f"dir-{uuid.uuid4().hex[:8]}"
    assert response_name(texts(talk(servers, "can you find me a support group near me", sender=sender))[0]) == "utter_ask_directory_area"
    replies = texts(talk(servers, "Kingston", sender=sender))
    assert response_name(replies[0]) == "utter_directory_local" and "Kingston upon Thames" in replies[0]


def test_a_place_with_no_local_services_says_so(servers):
    replies = texts(talk(servers, "are there any groups for families of prisoners in Cardiff"))
    assert response_name(replies[0]) == "utter_directory_nothing_local" and "Cardiff" in replies[0]
    assert response_name(replies[1]) == "utter_directory_result"


def test_visiting_a_prison_gives_its_address_and_family_services(servers):
    replies = texts(talk(servers, "hes in HMP Durham"))
    assert replies[0] == "Thanks. HMP Durham is at Old Elvet, Durham, DH1 3HU."
    assert response_name(replies[1]) == "utter_prison_services"
    assert any("Durham Visitors' Centre" in t for t in replies[2:])


def test_buttons_with_entities_arrive_intact_and_work(servers):
    sender = f"buttons-{uuid.uuid4().hex[:8]}"
    asked = talk(servers, "what happens now", sender=sender)
    assert response_name(asked[0]["text"]) == "utter_ask_stage"
    payload = asked[0]["buttons"][0]["payload"]
    assert payload == '/inform{"stage": "arrested", "noted": "stage"}'
    assert response_name(texts(talk(servers, payload, sender=sender))[0]) == "utter_arrest"
