"""Conversations saved through Rasa's own SQLTrackerStore, as the running assistant saves them."""
from __future__ import annotations

import asyncio
import time

from bot import db


def save_conversation(tracker_url: str, sender: str, turns: list[tuple], started: float | None = None) -> None:
    """Save a conversation through Rasa's SQLTrackerStore. Turns: ("user", text, intent),
    ("bot", text), ("slot", name, value), ("pause",), ("resume",), ("reread", text, intent): the
    message before said again as action_follow_up does (a rewind, then the same words read anew)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        BotUttered, ConversationPaused, ConversationResumed, SlotSet, UserUttered, UserUtteranceReverted,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    at = started or time.time()
    events = []
    for i, turn in enumerate(turns):
        stamp = at + i
        if turn[0] == "user":
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": 1.0}, timestamp=stamp))
        elif turn[0] == "bot":
            events.append(BotUttered(turn[1], metadata=turn[2] if len(turn) > 2 else {}, timestamp=stamp))
        elif turn[0] == "slot":
            events.append(SlotSet(turn[1], turn[2], timestamp=stamp))
        elif turn[0] == "reread":
            events.append(UserUtteranceReverted(timestamp=stamp))
            events.append(UserUttered(turn[1], {"name": turn[2], "confidence": 1.0}, timestamp=stamp,
                                      metadata={"reread": "follow_up"}))
        elif turn[0] == "pause":
            events.append(ConversationPaused(timestamp=stamp))
        else:
            events.append(ConversationResumed(timestamp=stamp))
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tracker_url[len("sqlite:///"):])
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def engine(url: str):
    """The engine the code under test uses for the tracker store at `url`."""
    return db.engine_for(url)
