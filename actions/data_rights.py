""""Delete my details": erase the person's cases now and their conversation moments later. Thin glue over bot.referrals."""
from __future__ import annotations

import asyncio
import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot import db
from bot.actions_support import guarded
from bot.referrals import cases

logger = logging.getLogger(__name__)


@guarded
class ActionDeleteMyData(Action):
    """After they confirmed: delete their cases, queue the conversation's erasure, forget every slot."""

    def name(self) -> Text:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        def erase() -> None:  # off the event loop (asyncio's default thread pool)
            with db.session_factory()() as session, session.begin():
                cases.request_erasure(tracker.sender_id, session=session)

        try:
            await asyncio.to_thread(erase)
        except SQLAlchemyError as error:
            logger.warning("could not record an erasure request: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_delete_my_data_failed")
            return []
        dispatcher.utter_message(response="utter_delete_my_data_done")
        return [AllSlotsReset()]
