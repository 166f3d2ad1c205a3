"""What the directory's actions say: the responses to send (by name, with their values) and the
slots to set, worked out from what a search found. The actions only read the conversation,
run the search (bot.db.run) and send these (actions/directory.py, actions/prisons.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.directory import areas, search
from bot.directory.prisons import PrisonInfo
from bot.directory.taxonomy import NEEDS
from bot.geo import Council

Message = dict[str, Any]  # keyword arguments of dispatcher.utter_message: response=..., and its values


@dataclass(frozen=True)
class Reply:
    """Messages to send, in order, and slots to set (name -> value, in order)."""

    messages: list[Message] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)


def service_message(found: search.Found) -> Message:
    """One service, one message: who, what they do, how to reach them, how recent."""
    return dict(
        response="utter_directory_result",
        service_name=found.name if found.organization in found.name else f"{found.organization}: {found.name}",
        service_description=found.description,
        service_contact=search.contact_line(found),
        service_freshness=search.freshness(found),
        service_scope=areas.SCOPE_NAMES[found.scope],
    )


def find_services(
    session: Session, *, council: Council, need: str | None, audience: str | None, offset: int,
) -> tuple[search.Page, bool]:
    """A page of services for `need` in `council`, and whether it was broadened: when nothing
    meets the need there, the first page lists what the place has for any need."""
    page = search.search_services(session, council=council, need=need, audience=audience, offset=offset)
    if not page.results and need and offset == 0:
        return search.search_services(session, council=council, audience=audience), True
    return page, False


def search_reply(page: search.Page, *, place: str, need: str | None, offset: int, more: bool, broadened: bool) -> Reply:
    """The answer to "who can help, here?" (or "any more?" when `more`), for a page found in
    `place` at `offset`. Slots: the need kept for "any more?", and the next page's offset."""
    if more and not page.results:
        return Reply([dict(response="utter_directory_no_more", area=place)], {"directory_offset": None})
    if not page.results:
        return Reply([dict(response="utter_directory_none", area=place)], {"need": need, "directory_offset": None})
    messages: list[Message] = []
    if offset == 0:
        if broadened:
            messages.append(dict(response="utter_directory_no_need_match", area=place, need_name=NEEDS[need].lower()))
        elif page.local_count:
            messages.append(dict(response="utter_directory_local", area=place))
        else:
            messages.append(dict(response="utter_directory_nothing_local", area=place))
    # Verified entries rank first, so a page with none has nothing checked recently: say so
    # plainly, and end with the national helpline as the contact that is current.
    unchecked_only = page.all_unchecked
    if unchecked_only:
        messages.append(dict(response="utter_directory_unchecked_only"))
    messages += [service_message(found) for found in page.results]
    if unchecked_only:
        messages.append(dict(response="utter_directory_unchecked_helpline"))
        if page.has_more:
            messages.append(dict(response="utter_directory_more"))
    else:
        messages.append(dict(response="utter_directory_more" if page.has_more else "utter_directory_end"))
    return Reply(messages, {"need": None if broadened else need, "directory_offset": float(offset) if page.has_more else None})


def prison_services_messages(found: list[search.Found], prison: str) -> list[Message]:
    """The visitors' centre and family services at a prison, if any are known (nothing if not:
    the prison's address has been given already)."""
    if not found:
        return []
    unchecked_only = not any(service.verified for service in found)
    messages = [dict(response="utter_prison_services_unchecked" if unchecked_only else "utter_prison_services", prison=prison)]
    messages += [service_message(service) for service in found]
    if unchecked_only:
        messages.append(dict(response="utter_directory_unchecked_helpline"))
    return messages


def prison_info_messages(info: PrisonInfo, *, asks_about_travel: bool) -> list[Message]:
    """Where a prison is, where its phone numbers and visiting times are (its GOV.UK page), help
    with the fares when they asked how to get there, and who helps families there."""
    messages = [
        dict(response="utter_prison_address", prison=info.name, prison_address=info.address),
        dict(response="utter_prison_page" if info.own_page else "utter_prison_page_find", prison=info.name, prison_page=info.page),
    ]
    if asks_about_travel:
        messages.append(dict(response="utter_prison_travel_costs"))
    if info.services:
        messages.append(dict(response="utter_prison_services", prison=info.name))
        messages += [service_message(service) for service in info.services]
    else:
        messages.append(dict(response="utter_prison_no_services", prison=info.name))
    return messages
