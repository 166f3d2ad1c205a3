"""One message through Rasa, on every public channel: whatever happens, the person hears something.

The action server down makes Rasa say nothing (it logs "Bot will continue, but the actions
events are lost" and predicts the next action); the tracker store's database down makes it
raise (`fail_loudly`: Rasa's own default would carry on with an empty conversation kept in
one server's memory). When Rasa raised, or said nothing while the conversation is not paused
for a helpline worker, the person is told it went wrong on our side, to try again, and the
helpline number (domain.yml's `utter_channel_cannot_answer`). With the action server down the
message stays in the conversation (Rasa stored it); with the tracker store down it is not
stored, and the person is asked to send it again. While a worker has the conversation, a
crisis message still gets the bot's crisis answer (bot/channels/crisis.py).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot import texts
from bot.channels.crisis import crisis_reply

logger = logging.getLogger(__name__)

CANNOT_ANSWER = "utter_channel_cannot_answer"  # the kind apology (domain.yml)


def cannot_answer(channel: str | None = None) -> str:
    """The kind apology for a message Rasa could not answer, with the helpline's number and hours."""
    return texts.text(CANNOT_ANSWER, channel)


class WatchedOutput(OutputChannel):
    """Passes everything to `inner` and notes whether any message went out."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override] - the inner channel's name, per instance
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def agent_of(app: Any) -> Any:
    """The Rasa agent serving `app`, if it has a tracker store (None: no Rasa behind us, as in tests)."""
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    return agent if getattr(agent, "tracker_store", None) is not None else None


def _raise(error: Exception) -> None:
    raise error


def fail_loudly(app: Any) -> None:
    """Make Rasa's tracker store raise when the database is down, instead of its default:
    Rasa wraps every tracker store in a FailSafeTrackerStore that, on an error, carries on
    with an empty conversation and keeps it in this server's memory only, so the person gets
    answers as a stranger and what they say is lost from the shared store (and each Rasa
    server remembers something different). Raising lets `answer` tell them kindly instead."""
    store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
    if store is not None and hasattr(store, "_on_tracker_store_error") and store._on_tracker_store_error is not _raise:
        store._on_tracker_store_error = _raise  # rasa 3.6's FailSafeTrackerStore: the error callback


async def answer(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    app: Any = None,
    database_url: str | None = None,
) -> bool:
    """Hand `message` to Rasa; when it raised or said nothing (conversation not paused), send
    the kind apology (`cannot_answer`) on the message's own channel. While a worker has the
    conversation (paused: Rasa stores the message and says nothing), a crisis message still
    gets the bot's crisis answer at once and its live case is marked urgent (`crisis_reply`).
    True when Rasa answered (or was not expected to)."""
    fail_loudly(app)
    inner = message.output_channel
    watched = WatchedOutput(inner)
    message.output_channel = watched
    agent = agent_of(app)
    try:
        await on_new_message(message)
        if watched.sent or agent is None:
            return True  # answered; or no Rasa behind us to judge silence by
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        if tracker is not None and tracker.is_paused():
            await crisis_reply(agent, tracker, message, inner, database_url)
            return True
        logger.error("%s: Rasa gave no reply to a message (action server or database down?)", message.input_channel)
    except Exception as error:  # noqa: BLE001 - the person must hear something; no text in the log
        logger.error("%s: a message could not be handled (%s)", message.input_channel, type(error).__name__)
        if isinstance(getattr(inner, "messages", None), list):
            inner.messages.clear()  # not stored, so not said: only the sorry message goes back
        if agent is not None and not watched.sent:
            # Rasa failed (database down?): a crisis message still gets the crisis numbers.
            await crisis_reply(agent, None, message, inner, database_url)
    try:
        await inner.send_text_message(message.sender_id, cannot_answer(message.input_channel))
    except Exception as error:  # noqa: BLE001
        logger.error("%s: the sorry message could not be sent either (%s)", message.input_channel, type(error).__name__)
    return False
