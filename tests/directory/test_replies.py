"""bot/directory/replies.py: what the directory's actions say, from what a search found (no Rasa,
no database: the actions' own tests run them end to end)."""
from __future__ import annotations

from datetime import date

from bot.directory import areas, replies, search
from bot.directory.prisons import PrisonInfo


def found(n: int, *, verified: bool = True, organization: str = "Org") -> search.Found:
    return search.Found(
        f"s{n}", f"Service {n}", organization, "what they do", "0191 000 0000", None, None, areas.LOCAL,
        date(2026, 11, 3) if verified else "2024-05", verified, "verified" if verified else "unchecked",
    )


def page(*results: search.Found, has_more: bool = False, local: int = 1, offset: int = 0) -> search.Page:
    return search.Page(list(results), offset, has_more, local)


def names(messages: list[dict]) -> list[str]:
    return [m["response"] for m in messages]


def test_one_service_one_message():
    message = replies.service_message(found(1))
    assert message == dict(
        response="utter_directory_result", service_name="Org: Service 1", service_description="what they do",
        service_contact=search.contact_line(found(1)), service_freshness=search.freshness(found(1)), service_scope="local",
    )
    assert replies.service_message(found(2, organization="Service"))["service_name"] == "Service 2"  # not "Service: Service 2"


def test_a_first_page_of_checked_local_services_with_more_to_come():
    reply = replies.search_reply(page(found(1), found(2), found(3), has_more=True), place="Leeds", need="housing", offset=0,
                                 more=False, broadened=False)
    assert names(reply.messages) == ["utter_directory_local"] + ["utter_directory_result"] * 3 + ["utter_directory_more"]
    assert reply.messages[0]["area"] == "Leeds"
    assert reply.slots == {"need": "housing", "directory_offset": 0.0}


def test_nothing_local_and_the_last_page():
    reply = replies.search_reply(page(found(1), local=0), place="Leeds", need=None, offset=0, more=False, broadened=False)
    assert names(reply.messages) == ["utter_directory_nothing_local", "utter_directory_result", "utter_directory_end"]
    assert reply.slots == {"need": None, "directory_offset": None}


def test_nothing_for_the_need_so_everything_there_and_the_need_is_dropped():
    reply = replies.search_reply(page(found(1)), place="Cornwall", need="kinship_care", offset=0, more=False, broadened=True)
    assert names(reply.messages)[0] == "utter_directory_no_need_match"
    assert reply.messages[0]["need_name"] == "grandparents and kinship carers"
    assert reply.slots == {"need": None, "directory_offset": None}


def test_only_unchecked_entries_say_so_and_end_with_the_helpline():
    reply = replies.search_reply(page(found(1, verified=False), has_more=True, offset=3), place="Leeds", need=None, offset=3,
                                 more=True, broadened=False)
    assert names(reply.messages) == [
        "utter_directory_unchecked_only", "utter_directory_result", "utter_directory_unchecked_helpline", "utter_directory_more",
    ]  # not the first page: no "here is what's local"
    assert reply.slots == {"need": None, "directory_offset": 3.0}


def test_nothing_found_or_nothing_more():
    none = replies.search_reply(page(), place="Leeds", need="housing", offset=0, more=False, broadened=False)
    assert names(none.messages) == ["utter_directory_none"] and none.slots == {"need": "housing", "directory_offset": None}
    no_more = replies.search_reply(page(offset=3), place="Leeds", need="housing", offset=3, more=True, broadened=False)
    assert names(no_more.messages) == ["utter_directory_no_more"] and no_more.slots == {"directory_offset": None}


def test_services_at_a_prison():
    assert replies.prison_services_messages([], "HMP Durham") == []
    checked = replies.prison_services_messages([found(1), found(2, verified=False)], "HMP Durham")
    assert names(checked) == ["utter_prison_services", "utter_directory_result", "utter_directory_result"]
    assert checked[0]["prison"] == "HMP Durham"
    unchecked = replies.prison_services_messages([found(1, verified=False)], "HMP Durham")
    assert names(unchecked) == ["utter_prison_services_unchecked", "utter_directory_result", "utter_directory_unchecked_helpline"]


def test_a_prison_described():
    info = PrisonInfo("DMI", "HMP Durham", "Old Elvet, Durham", "https://www.gov.uk/guidance/durham-prison", True, [found(1)])
    messages = replies.prison_info_messages(info, asks_about_travel=True)
    assert names(messages) == [
        "utter_prison_address", "utter_prison_page", "utter_prison_travel_costs", "utter_prison_services", "utter_directory_result",
    ]
    assert messages[0]["prison_address"] == "Old Elvet, Durham" and messages[1]["prison_page"] == info.page
    unknown_page = PrisonInfo("DMI", "HMP Durham", "Old Elvet, Durham", "https://www.gov.uk/find-a-prison", False, [])
    assert names(replies.prison_info_messages(unknown_page, asks_about_travel=False)) == [
        "utter_prison_address", "utter_prison_page_find", "utter_prison_no_services",
    ]
