"""action_prison_info: a named prison's address, GOV.UK page and family services. Thin glue
over bot.directory.prisons."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.directory import utter_service
from bot import db
from bot.actions_support import guarded
from bot.dialogue.follow_up import FACET_ENTITY
from bot.directory import prisons
from bot.geo import gazetteer
from bot.nlp.follow_up import TRAVEL

logger = logging.getLogger(__name__)


def _named_prison(tracker: Tracker) -> str | None:
    """The prison this message names, else the one we were told about before."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "prison" and entity.get("value"):
            return str(entity["value"])
    return tracker.get_slot("prison")


def _asks_about_travel(tracker: Tracker) -> bool:
    """A question about getting there ("how far is it by bus?", read in context by action_follow_up)."""
    return any(e.get("entity") == FACET_ENTITY and e.get("value") == TRAVEL for e in tracker.latest_message.get("entities") or [])


@guarded
class ActionPrisonInfo(Action):
    """Where a prison is, where its phone numbers and visiting times are, and who helps families there."""

    def name(self) -> Text:
        return "action_prison_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        prison = prisons.find(_named_prison(tracker))
        if prison is None:
            dispatcher.utter_message(response="utter_ask_which_prison")
            return []

        if prison.id in gazetteer().devolved_prisons:
            # Scotland's and Northern Ireland's own prison services: no GOV.UK page or register
            # address; the nation's variant says who runs it and who supports families there.
            dispatcher.utter_message(response="utter_noted_prison", prison=prison.display_name)
            if _asks_about_travel(tracker):
                dispatcher.utter_message(response="utter_prison_travel_costs")
            return [SlotSet("prison", prison.display_name), SlotSet("nation", prison.country.lower().replace(" ", "_"))]

        def look_up():  # database work off the event loop
            with db.session_factory()() as session:
                return prisons.prison_info(prison, session=session)

        try:
            info = await asyncio.to_thread(look_up)
        except SQLAlchemyError:
            logger.exception("service directory unavailable")
            info = prisons.prison_info(prison, session=None)  # the register and the page need no database

        dispatcher.utter_message(response="utter_prison_address", prison=info.name, prison_address=info.address)
        dispatcher.utter_message(
            response="utter_prison_page" if info.own_page else "utter_prison_page_find",
            prison=info.name, prison_page=info.page,
        )
        if _asks_about_travel(tracker):
            dispatcher.utter_message(response="utter_prison_travel_costs")
        if info.services:
            dispatcher.utter_message(response="utter_prison_services", prison=info.name)
            for service in info.services:
                utter_service(dispatcher, service)
        else:
            dispatcher.utter_message(response="utter_prison_no_services", prison=info.name)
        return [SlotSet("prison", info.name), SlotSet("prison_address", info.address), SlotSet("prison_page", info.page)]
