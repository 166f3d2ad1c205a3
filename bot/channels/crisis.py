"""A crisis message while a helpline worker has the conversation (issue 12, item 5).

While a worker has the conversation (paused), Rasa stores each message without answering. A
crisis message (the bot's own safety detection: the NLU's intent, else bot.nlp.safety's rule
layer on the text) still gets the bot's crisis answer at once, on the person's own channel,
the replies are written into the conversation for the worker to read, and the live case is
marked urgent.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered

from bot import db
from bot.nlp.safety import SAFETY_INTENTS, SAFETY_RESPONSES, safety_intent
from bot.referrals import cases
from bot.settings import Settings

logger = logging.getLogger(__name__)

def crisis_intent(tracker: Any, text: str) -> str | None:
    """The safety intent of the message just stored, as the bot's own NLU read it (Rasa parses
    and stores a message even while the conversation is paused; the pipeline's safety rule
    layer is part of that), else the safety rule layer on the text itself."""
    latest = getattr(tracker, "latest_message", None) if tracker is not None else None
    intent = ((getattr(latest, "intent", None) or {}).get("name")) if latest is not None else None
    if intent in SAFETY_INTENTS:
        return intent
    found = safety_intent(text or "")
    return found if found in SAFETY_INTENTS else None


def _mark_urgent(database_url: str, sender_id: str) -> int:
    with db.session_factory(database_url)() as session, session.begin():
        return len(cases.mark_urgent(sender_id, session=session))


async def _record_replies(agent: Any, sender_id: str, sent: list[tuple[str, dict]]) -> None:
    """Write the crisis replies into the conversation (under Rasa's lock for it), so the worker
    who picks the chat up reads in the transcript what the person was told."""
    try:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
            if tracker is None:
                return
            for response, reply in sent:
                data = {k: v for k, v in reply.items() if k not in ("text", "template", "response") and v}
                tracker.update(BotUttered(reply.get("text"), data, {"utter_action": response, "crisis_during_handoff": True}))
            await agent.tracker_store.save(tracker)
    except Exception as error:  # noqa: BLE001 - the person has the numbers; the transcript is second
        logger.error("crisis replies not written into the conversation (%s)", type(error).__name__)


async def crisis_reply(
    agent: Any, tracker: Any, message: UserMessage, output: OutputChannel, database_url: str | None = None
) -> bool:
    """If the message calls for the bot's crisis answer, send it at once on the person's own
    channel (the domain's responses, filled from the conversation's slots) and mark the
    conversation's open live case urgent. True when it was a crisis message."""
    intent = crisis_intent(tracker, message.text or "")
    if intent is None:
        return False
    logger.warning("%s: a crisis message while a worker has the conversation; crisis numbers sent", message.input_channel)
    nlg = getattr(agent, "nlg", None)
    slots = (
        tracker.current_slot_values() if tracker is not None
        else {slot.name: slot.initial_value for slot in getattr(getattr(agent, "domain", None), "slots", [])}
    )
    sent = []
    for response in SAFETY_RESPONSES[intent]:
        try:
            reply = nlg.generate_from_slots(response, slots, output.name()) if nlg is not None else None
            if reply:
                kept = dict(reply)  # copied first: send_response pops from it
                await output.send_response(message.sender_id, reply)
                sent.append((response, kept))
        except Exception as error:  # noqa: BLE001 - the next part, and the case, still matter
            logger.error("%s: a crisis reply could not be sent (%s)", message.input_channel, type(error).__name__)
    if tracker is not None and sent:
        await _record_replies(agent, message.sender_id, sent)
    try:
        url = database_url or Settings.from_env().database_url
        await asyncio.to_thread(_mark_urgent, url, message.sender_id)
    except Exception as error:  # noqa: BLE001
        logger.error("%s: the live case could not be marked urgent (%s)", message.input_channel, type(error).__name__)
    return True
