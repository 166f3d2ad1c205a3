"""action_search_services: who can help, here. Thin glue over bot.directory."""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot import db
from bot.actions_support import guarded
from bot.directory import areas, search
from bot.directory.taxonomy import NEEDS

logger = logging.getLogger(__name__)

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _latest_entity(tracker: Tracker, name: str) -> str | None:
    values = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]
    return str(values[0]) if values else None


def contact_line(found: search.Found) -> str:
    """How to reach a service: phone first (works from any phone), else web, else email."""
    if found.phone:
        return f"Tel {found.phone} ({found.opening_times})." if found.opening_times else f"Tel {found.phone}."
    if found.url:
        return f"Web: {found.url}"
    if found.email:
        return f"Email: {found.email}"
    return ""


def freshness(found: search.Found) -> str:
    """How recent the entry is, in a few words short enough for a text: when it was checked,
    or since when it has not been (an answer of such entries also says they may have changed)."""
    when = found.as_of
    if found.verified and isinstance(when, date):
        return f"checked {when.day} {MONTHS[when.month - 1]} {when.year}"
    if isinstance(when, date):
        return f"last checked {MONTHS[when.month - 1]} {when.year}"
    if isinstance(when, str) and when:
        year, _, month = when.partition("-")
        month = month[:2]
        label = f"{MONTHS[int(month) - 1]} {year}" if month.isdigit() and 1 <= int(month) <= 12 else year
        return f"not checked since {label}"
    return "not checked recently"


def utter_service(dispatcher: CollectingDispatcher, found: search.Found) -> None:
    """One service, one message: who, what they do, how to reach them, how recent."""
    dispatcher.utter_message(
        response="utter_directory_result",
        service_name=found.name if found.organization in found.name else f"{found.organization}: {found.name}",
        service_description=found.description,
        service_contact=contact_line(found),
        service_freshness=freshness(found),
        service_scope=areas.SCOPE_NAMES[found.scope],
    )


@guarded
class ActionSearchServices(Action):
    """Local services first, then county, region and national ones; three at a time."""

    def name(self) -> Text:
        return "action_search_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        more = intent == "ask_more_results"
        need = tracker.get_slot("need")
        if intent == "ask_find_service":
            need = _latest_entity(tracker, "need")  # a new question asks afresh
        offset = int(tracker.get_slot("directory_offset") or 0) + search.PAGE_SIZE if more else 0

        area = tracker.get_slot("area")
        council = search.council_for(area) if area else None
        if council is None:
            dispatcher.utter_message(response="utter_ask_directory_area")
            return [SlotSet("need", need), SlotSet("directory_offset", None)]

        audience = tracker.get_slot("audience")

        def look_up():  # database work off the event loop (asyncio's default thread pool)
            with db.session_factory()() as session:
                page = search.search_services(session, council=council, need=need, audience=audience, offset=offset)
                if not page.results and need and offset == 0:
                    return search.search_services(session, council=council, audience=audience), True
                return page, False

        try:
            page, broadened = await asyncio.to_thread(look_up)
        except SQLAlchemyError:
            logger.exception("service directory unavailable")
            dispatcher.utter_message(response="utter_directory_unavailable")
            return []

        place = council.name
        if more and not page.results:
            dispatcher.utter_message(response="utter_directory_no_more", area=place)
            return [SlotSet("directory_offset", None)]
        if not page.results:
            dispatcher.utter_message(response="utter_directory_none", area=place)
            return [SlotSet("need", need), SlotSet("directory_offset", None)]
        if offset == 0:
            if broadened:
                dispatcher.utter_message(response="utter_directory_no_need_match", area=place, need_name=NEEDS[need].lower())
            elif page.local_count:
                dispatcher.utter_message(response="utter_directory_local", area=place)
            else:
                dispatcher.utter_message(response="utter_directory_nothing_local", area=place)
        # Verified entries rank first, so a page with none has nothing checked recently: say so
        # plainly, and end with the national helpline as the contact that is current.
        unchecked_only = page.all_unchecked
        if unchecked_only:
            dispatcher.utter_message(response="utter_directory_unchecked_only")
        for found in page.results:
            utter_service(dispatcher, found)
        if unchecked_only:
            dispatcher.utter_message(response="utter_directory_unchecked_helpline")
            if page.has_more:
                dispatcher.utter_message(response="utter_directory_more")
        else:
            dispatcher.utter_message(response="utter_directory_more" if page.has_more else "utter_directory_end")
        return [SlotSet("need", None if broadened else need), SlotSet("directory_offset", float(offset) if page.has_more else None)]


@guarded
class ActionPrisonServices(Action):
    """After someone names a prison: the visitors' centre and family services there, if we know them."""

    def name(self) -> Text:
        return "action_prison_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        prison = tracker.get_slot("prison")
        prison_id = search.prison_id_for(prison) if prison else None
        if prison_id is None:
            return []
        def look_up():  # off the event loop
            with db.session_factory()() as session:
                return search.services_at_prison(session, prison_id)

        try:
            found = await asyncio.to_thread(look_up)
        except SQLAlchemyError:
            logger.exception("service directory unavailable")
            return []  # the address has been given already; nothing else is lost
        if found:
            unchecked_only = not any(service.verified for service in found)
            dispatcher.utter_message(response="utter_prison_services_unchecked" if unchecked_only else "utter_prison_services", prison=prison)
            for service in found:
                utter_service(dispatcher, service)
            if unchecked_only:
                dispatcher.utter_message(response="utter_directory_unchecked_helpline")
        return []
