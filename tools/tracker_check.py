"""What Rasa's SQL tracker store kept of a conversation, checked after fault and load tests
(tests/prod/test_faults.py, bench/load.py)."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from bot.dialogue.follow_up import is_reread


def tracker_problems(connection: Any, sender: str, sent: list[str] | None = None) -> list[str]:
    """What is wrong with one conversation in Rasa's SQL tracker store (`connection`: a
    SQLAlchemy connection): timestamps going back, a user message stored twice (same
    message id), a user message before the previous turn ended in action_listen, and, given
    the texts `sent`, user messages lost, added or out of order. Empty when all is well."""
    rows = connection.execute(
        text("SELECT id, type_name, action_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"),
        {"s": sender},
    ).all()
    problems: list[str] = []
    last_time: float | None = None
    message_ids: set[str] = set()
    texts: list[str] = []
    turn_open = False
    for row in rows:
        if last_time is not None and row.timestamp < last_time:
            problems.append(f"event {row.id} ({row.type_name}) is earlier than the one before")
        last_time = row.timestamp
        if row.type_name == "user":
            data = json.loads(row.data)
            if is_reread(data):
                continue  # the same message read again in context (action_follow_up), in the same turn
            if turn_open:
                problems.append(f"user event {row.id} came before the previous turn ended")
            turn_open = True
            message_id = data.get("message_id")
            if message_id in message_ids:
                problems.append(f"user message {message_id} stored twice")
            message_ids.add(message_id)
            texts.append(data.get("text"))
        elif row.type_name == "action" and row.action_name == "action_listen":
            turn_open = False
    if turn_open:
        problems.append("the last turn never ended (no action_listen after the last user message)")
    if sent is not None and texts != sent:
        problems.append(f"{len(texts)} user messages stored for {len(sent)} sent, or not in the order sent")
    return problems
