"""The directory in a real headless browser (Debian's chromium, driven by Playwright): an admin
adds a service, finds an old entry, marks it replaced by the new one; from then on the
assistant's directory answer (action_search_services, against the same database) offers the
successor in its place."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from actions.directory import ActionSearchServices
from bot.directory.models import Service
from tests.support import directory_records as data

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)]


def directory_answer(make_tracker, dispatcher) -> list[str]:
    """What the assistant lists for "who helps grandparent carers in Stockton?"."""
    dispatcher.messages.clear()
    tracker = make_tracker(slots={"area": "Stockton-on-Tees", "audience": "family"}, intent="ask_find_service",
                           entities=[{"entity": "need", "value": "kinship_care"}, {"entity": "area", "value": "Stockton-on-Tees"}])
    # In a thread of its own, as on the action server (Playwright's sync API holds this thread's event loop).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, ActionSearchServices().run(dispatcher, tracker, {})).result(60)
    return [m["service_name"] for m in dispatcher.messages if m["response"] == "utter_directory_result"]


def test_an_admin_replaces_an_entry_and_the_assistant_offers_its_successor(browser, console, make_user, session_for, database_url,
                                                                         monkeypatch, make_tracker, dispatcher):
    monkeypatch.setenv("DATABASE_URL", database_url)  # the action server's database is the console's
    with session_for() as s, s.begin():
        data.load(s)
    make_user("ann", role="admin", name="Ann Admin")
    before = directory_answer(make_tracker, dispatcher)
    assert before[0] == "Org stockton-kinship: Service stockton-kinship"

    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(console.url + "/login")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(console.url + "/")
    page.get_by_role("link", name="Directory").click()
    page.wait_for_url(console.url + "/directory")

    # The service that carries it on: added with the Open Referral fields, checked against its page.
    page.get_by_role("link", name="Add a service").click()
    page.get_by_label("Or a new organisation's name").fill("Tees Kinship Network")
    page.get_by_label("Name", exact=True).fill("Kinship Support Tees")
    page.get_by_label("Description").fill("Support groups and a helpline for grandparents raising grandchildren.")
    page.get_by_label("Phone numbers (one a line)").fill("01642 000 333")
    page.get_by_label("Someone to talk to and support groups").check()
    page.get_by_role("group", name="Who it is for").get_by_label("Grandparents and kinship carers").check()
    page.locator("#new-areas").fill("Stockton-on-Tees")
    page.get_by_label("What you checked these details against").fill("https://teeskin.example/support")
    page.get_by_role("button", name="Add the service").click()
    assert "Service added." in page.get_by_role("status").inner_text()
    successor = page.locator("p.hint code").first.inner_text()
    assert successor == "kinship-support-tees"

    # Find the old entry and mark it replaced.
    page.get_by_role("link", name="← Directory").click()
    page.get_by_label("Name, organisation or id").fill("stockton-kinship")
    page.get_by_label("Area (council, region or nation)").fill("Stockton")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name="Search results")
    assert results.get_by_role("row").count() == 2  # the heading and the one entry
    results.get_by_role("link", name="Service stockton-kinship").click()
    page.wait_for_url(re.compile(r"/directory/entries/stockton-kinship$"))
    page.get_by_label("Id of the entry that carries it on").fill(successor)
    page.get_by_label("How you know (a web address, a document, or a call)", exact=True).fill("https://teeskin.example/news/merger")
    page.get_by_role("button", name="Mark replaced").click()
    assert "Marked replaced" in page.get_by_role("status").inner_text()
    assert "People are offered Kinship Support Tees instead" in page.inner_text("main")
    assert not [e for e in errors if "Content Security Policy" in e]

    with session_for() as s:
        old = s.get(Service, "stockton-kinship")
        assert (old.state, old.successor_id, old.verified_by) == ("replaced", "kinship-support-tees", "Ann Admin")
    # From then on the assistant offers the successor, first (it is checked), and never the old entry.
    after = directory_answer(make_tracker, dispatcher)
    assert after[0] == "Tees Kinship Network: Kinship Support Tees"
    assert not any("stockton-kinship" in name for name in after)
    result = next(m for m in dispatcher.messages if m["response"] == "utter_directory_result")
    assert "01642 000333" in result["service_contact"]
