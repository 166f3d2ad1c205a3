"""Who can help, here: action_search_services, action_refer_family (the same search for a
professional referring a family) and action_prison_services. Thin glue over bot.directory
(what to say: bot.directory.replies)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import db
from bot.actions_support import guarded, send
from bot.dialogue import trackers
from bot.directory import replies, search


@guarded
class ActionSearchServices(Action):
    """Local services first, then county, region and national ones; three at a time."""

    def name(self) -> Text:
        return "action_search_services"

    def audience(self, tracker: Tracker) -> str | None:
        """Whom the services are ranked for."""
        return tracker.get_slot("audience")

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = trackers.latest_intent(tracker)
        more = intent == "ask_more_results"
        # A new question asks afresh; "any more?" carries on with the need asked about.
        need = trackers.latest_entity(tracker, "need") if intent == "ask_find_service" else tracker.get_slot("need")
        offset = int(tracker.get_slot("directory_offset") or 0) + search.PAGE_SIZE if more else 0

        area = tracker.get_slot("area")
        council = search.council_for(area) if area else None
        if council is None:
            dispatcher.utter_message(response="utter_ask_directory_area")
            return [SlotSet("need", need), SlotSet("directory_offset", None)]

        audience = self.audience(tracker)
        try:
            page, broadened = await db.run(
                lambda session: replies.find_services(session, council=council, need=need, audience=audience, offset=offset),
                what="search the service directory",
            )
        except db.Unavailable:
            dispatcher.utter_message(response="utter_directory_unavailable")
            return []
        reply = replies.search_reply(page, place=council.name, need=need, offset=offset, more=more, broadened=broadened)
        send(dispatcher, reply.messages)
        return [SlotSet(slot, value) for slot, value in reply.slots.items()]


# What action_search_services sends when it has listed services (not when it asks for the place
# or has none: then the safeguarding line would interrupt a question).
_LISTED = frozenset({"utter_directory_result"})


@guarded
class ActionReferFamily(ActionSearchServices):
    """A professional asking where to refer or signpost a family in a place: the local services
    for the family (as action_search_services finds them), then children's social care and
    early help, where a child may be at risk."""

    def name(self) -> Text:
        return "action_refer_family"

    def audience(self, tracker: Tracker) -> str | None:
        # Ranked as for a family: the services the family can be referred to come first (with
        # audience "professional", search ranks services for professionals, such as training, first).
        return "family"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        before = len(dispatcher.messages)
        events = await super().run(dispatcher, tracker, domain)
        sent = {m.get("response") for m in dispatcher.messages[before:]}
        if sent & _LISTED:
            dispatcher.utter_message(response="utter_refer_family_safeguarding")
        return events


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
        # If the directory is down, the address has been given already; nothing else is lost.
        found = await db.run(
            lambda session: search.services_at_prison(session, prison_id), what="look up a prison's services", otherwise=[],
        )
        send(dispatcher, replies.prison_services_messages(found, prison))
        return []
