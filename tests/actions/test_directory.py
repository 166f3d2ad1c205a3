"""action_search_services with real rasa_sdk trackers against a real database."""
from __future__ import annotations

import asyncio

from tests.support import directory_records as data
import pytest

from actions.directory import ActionSearchServices
from bot.directory import search


@pytest.fixture
def directory(session_for, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with session_for() as s, s.begin():
        data.load(s)


def run(tracker, dispatcher):
    return asyncio.run(ActionSearchServices().run(dispatcher, tracker, {}))


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_grandparent_carers_in_stockton(directory, make_tracker, dispatcher):
    tracker = make_tracker(
        slots={"area": "Stockton-on-Tees", "audience": "family"}, intent="ask_find_service",
        entities=[{"entity": "need", "value": "kinship_care"}, {"entity": "area", "value": "Stockton-on-Tees"}],
    )
    events = run(tracker, dispatcher)
    # None of these made-up entries has been checked: the answer says so and ends with the helpline.
    assert responses(dispatcher) == (
        ["utter_directory_local", "utter_directory_unchecked_only"] + ["utter_directory_result"] * 3 + ["utter_directory_unchecked_helpline"]
    )
    results = [m for m in dispatcher.messages if m["response"] == "utter_directory_result"]
    assert results[0]["service_name"] == "Org stockton-kinship: Service stockton-kinship"
    assert results[0]["service_contact"] == "Tel 0191 000 0000."
    assert results[0]["service_freshness"] == "not checked since May 2024"
    assert slots(events) == {"need": "kinship_care", "directory_offset": None}


def test_no_area_yet_asks_for_one_and_keeps_the_need(directory, make_tracker, dispatcher):
    tracker = make_tracker(intent="ask_find_service", entities=[{"entity": "need", "value": "housing"}])
    events = run(tracker, dispatcher)
    assert responses(dispatcher) == ["utter_ask_directory_area"]
    assert slots(events)["need"] == "housing"


def test_more_pages_on(directory, make_tracker, dispatcher):
    first = make_tracker(slots={"area": "Stockton-on-Tees"}, intent="ask_find_service")
    events = run(first, dispatcher)
    assert responses(dispatcher)[-1] == "utter_directory_more" and slots(events)["directory_offset"] == 0.0
    more = make_tracker(slots={"area": "Stockton-on-Tees", "directory_offset": 0.0}, intent="ask_more_results")
    dispatcher.messages.clear()
    events = run(more, dispatcher)
    assert responses(dispatcher) == ["utter_directory_unchecked_only", "utter_directory_result", "utter_directory_unchecked_helpline"]  # 4 in all
    assert slots(events)["directory_offset"] is None


def test_nothing_local_says_so_then_gives_national(directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"area": "Cornwall"}, intent="ask_find_service", entities=[{"entity": "need", "value": "kinship_care"}])
    run(tracker, dispatcher)
    assert responses(dispatcher) == [
        "utter_directory_nothing_local", "utter_directory_unchecked_only", "utter_directory_result", "utter_directory_unchecked_helpline",
    ]


def test_a_need_nobody_meets_there_falls_back_to_general_support(directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"area": "Maidstone"}, intent="ask_find_service", entities=[{"entity": "need", "value": "housing"}])
    events = run(tracker, dispatcher)
    assert responses(dispatcher)[0] == "utter_directory_no_need_match"
    assert dispatcher.messages[0]["need_name"] == "housing"
    assert slots(events)["need"] is None


def test_a_new_question_forgets_the_old_need(directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"area": "Stockton-on-Tees", "need": "housing"}, intent="ask_find_service")
    run(tracker, dispatcher)
    assert len([m for m in dispatcher.messages if m["response"] == "utter_directory_result"]) == 3


def test_database_down_gets_a_kind_message(make_tracker, dispatcher, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    run(make_tracker(slots={"area": "Stockton-on-Tees"}, intent="ask_find_service"), dispatcher)
    assert responses(dispatcher) == ["utter_directory_unavailable"]


def test_named_prison_brings_its_family_services(directory, make_tracker, dispatcher):
    from actions.directory import ActionPrisonServices

    asyncio.run(ActionPrisonServices().run(dispatcher, make_tracker(slots={"prison": "HMP Durham"}), {}))
    assert responses(dispatcher) == ["utter_prison_services_unchecked", "utter_directory_result", "utter_directory_unchecked_helpline"]
    assert dispatcher.messages[1]["service_name"] == "Org durham-visitors: Service durham-visitors"


def test_a_prison_with_no_services_listed_adds_nothing(directory, make_tracker, dispatcher):
    from actions.directory import ActionPrisonServices

    asyncio.run(ActionPrisonServices().run(dispatcher, make_tracker(slots={"prison": "HMP Exeter"}), {}))
    assert dispatcher.messages == []


@pytest.fixture
def seed_directory(session_for, database_url, monkeypatch):
    from bot.directory.seed import load_seed

    monkeypatch.setenv("DATABASE_URL", database_url)
    with session_for() as s, s.begin():
        load_seed(s)


def test_an_answer_of_unchecked_entries_only_says_so_and_adds_the_helpline(seed_directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"area": "Kingston upon Thames", "audience": "family"}, intent="ask_find_service",
                           entities=[{"entity": "need", "value": "court_support"}])
    run(tracker, dispatcher)
    assert responses(dispatcher) == [
        "utter_directory_nothing_local", "utter_directory_unchecked_only", "utter_directory_result", "utter_directory_unchecked_helpline",
    ]
    result = dispatcher.messages[2]
    assert result["service_freshness"] == "not checked since Apr 2008"


def test_checked_entries_come_first_and_retired_ones_never(seed_directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"area": "Northumberland", "audience": "family"}, intent="ask_find_service",
                           entities=[{"entity": "need", "value": "visiting"}])
    run(tracker, dispatcher)
    said = responses(dispatcher)
    assert "utter_directory_unchecked_only" not in said and said[-1] == "utter_directory_more"
    results = [m for m in dispatcher.messages if m["response"] == "utter_directory_result"]
    assert all(r["service_freshness"] == "checked 3 Dec 2026" for r in results)
    names = [r["service_name"] for r in results]
    assert not any("Acklington" in n for n in names)
    helpline = make_tracker(slots={"area": "Cardiff"}, intent="ask_find_service", entities=[{"entity": "need", "value": "keeping_in_touch"}])
    dispatcher.messages.clear()
    run(helpline, dispatcher)
    contacts = [m["service_contact"] for m in dispatcher.messages if m["response"] == "utter_directory_result"]
    assert "Tel 0808 808 3444 (Mon-Fri 10am-5pm)." in contacts


def test_a_closed_prisons_visitors_centre_gives_its_successor(seed_directory, make_tracker, dispatcher):
    from actions.directory import ActionPrisonServices

    asyncio.run(ActionPrisonServices().run(dispatcher, make_tracker(slots={"prison": "HMP Acklington"}), {}))
    assert responses(dispatcher) == ["utter_prison_services", "utter_directory_result"]
    assert dispatcher.messages[1]["service_name"] == "NEPACS: HMP Northumberland Visitor Centre"
    assert dispatcher.messages[1]["service_contact"] == "Tel 01670 383736."


def test_every_seed_entry_fits_in_one_text_message():
    """Each entry is sent as one utter_directory_result: with its contact, hours and freshness it
    must stay within 320 characters (tests/test_domain.py checks the templates, this the data)."""
    import yaml

    from bot.directory.seed import read_seed
    from pathlib import Path

    domain = Path(__file__).resolve().parents[2] / "domain.yml"
    template = yaml.safe_load(domain.read_text())["responses"]["utter_directory_result"][0]["text"]
    for r in read_seed():
        found = search.Found(
            r.id, r.name, r.organization_name, r.description, r.phone or r.organization_phone, r.url or r.organization_url,
            r.email or r.organization_email, 4, r.last_verified or r.source_published, r.state == "verified", r.state, r.opening_times,
        )
        name = found.name if found.organization in found.name else f"{found.organization}: {found.name}"
        text = template.format(service_name=name, service_description=found.description, service_contact=search.contact_line(found),
                               service_freshness=search.freshness(found), service_scope="national")
        assert len(text) <= 320, (r.id, len(text))
