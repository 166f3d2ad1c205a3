"""action_prison_info: a named prison's address, GOV.UK page and family services. Thin glue
over bot.directory.prisons (what to say: bot.directory.replies)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import db
from bot.actions_support import guarded, send
from bot.dialogue import trackers
from bot.dialogue.follow_up import FACET_ENTITY
from bot.directory import prisons, replies
from bot.geo import gazetteer
from bot.nlp.follow_up import TRAVEL


@guarded
class ActionPrisonInfo(Action):
    """Where a prison is, where its phone numbers and visiting times are, and who helps families there."""

    def name(self) -> Text:
        return "action_prison_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        # The prison this message names, else the one we were told about before.
        prison = prisons.find(trackers.latest_entity(tracker, "prison") or tracker.get_slot("prison"))
        if prison is None:
            dispatcher.utter_message(response="utter_ask_which_prison")
            return []
        # A question about getting there ("how far is it by bus?", read in context by action_follow_up).
        travel = trackers.has_entity(tracker, FACET_ENTITY, TRAVEL)

        if prison.id in gazetteer().devolved_prisons:
            # Scotland's and Northern Ireland's own prison services: no GOV.UK page or register
            # address; the nation's variant says who runs it and who supports families there.
            dispatcher.utter_message(response="utter_noted_prison", prison=prison.display_name)
            if travel:
                dispatcher.utter_message(response="utter_prison_travel_costs")
            return [SlotSet("prison", prison.display_name), SlotSet("nation", prison.country.lower().replace(" ", "_"))]

        try:
            info = await db.run(lambda session: prisons.prison_info(prison, session=session), what="look up a prison's services")
        except db.Unavailable:
            info = prisons.prison_info(prison, session=None)  # the register and the page need no database
        send(dispatcher, replies.prison_info_messages(info, asks_about_travel=travel))
        return [SlotSet("prison", info.name), SlotSet("prison_address", info.address), SlotSet("prison_page", info.page)]
