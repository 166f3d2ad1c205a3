"""Conversations saved through Rasa's own SQLTrackerStore, as the running assistant saves them."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy.engine import make_url

from bot import db


def save_conversation(
    tracker_url: str, sender: str, turns: list[tuple], started: float | None = None, channel: str | None = None,
) -> None:
    """Save a conversation through Rasa's SQLTrackerStore. Turns: ("user", text, intent[, confidence]),
    ("bot", text[, metadata]), ("slot", name, value), ("pause",), ("resume",), ("reread", text, intent): the
    message before said again as action_follow_up does (a rewind, then the same words read anew),
    ("action", name): an action run, ("loop", name or None): a form activated or ended. `channel`:
    the user messages' input channel. Saving the same sender again with more turns (the same
    `started`) adds only the new ones, as Rasa does after each turn."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted, ActiveLoop, BotUttered, ConversationPaused, ConversationResumed, SlotSet, UserUttered,
        UserUtteranceReverted,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    at = started or time.time()
    events = []
    for i, turn in enumerate(turns):
        stamp = at + i
        if turn[0] == "user":
            confidence = turn[3] if len(turn) > 3 else 1.0
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": confidence}, timestamp=stamp, input_channel=channel))
        elif turn[0] == "action":
            events.append(ActionExecuted(turn[1], timestamp=stamp))
        elif turn[0] == "loop":
            events.append(ActiveLoop(turn[1], timestamp=stamp))
        elif turn[0] == "bot":
            events.append(BotUttered(turn[1], metadata=turn[2] if len(turn) > 2 else {}, timestamp=stamp))
        elif turn[0] == "slot":
            events.append(SlotSet(turn[1], turn[2], timestamp=stamp))
        elif turn[0] == "reread":
            events.append(UserUtteranceReverted(timestamp=stamp))
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": 1.0}, timestamp=stamp,
                                      input_channel=channel, metadata={"reread": "follow_up"}))
        elif turn[0] == "pause":
            events.append(ConversationPaused(timestamp=stamp))
        else:
            events.append(ConversationResumed(timestamp=stamp))
    url = make_url(tracker_url)
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=url.host, port=url.port, db=url.database,
                                username=url.username, password=url.password)
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def engine(url: str):
    """The engine the code under test uses for the tracker store at `url`."""
    return db.engine_for(url)
