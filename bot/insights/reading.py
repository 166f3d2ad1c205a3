"""What a conversation's events say, read one way by the anonymous counts (bot.usage) and the
conversation summaries (bot.insights.summary): which intents are questions about a topic, a
message read again in context counted once under what it meant, and the area and audience
slots (the last ones set count; an area is kept as its council's code)."""
from __future__ import annotations

from typing import Any

from bot.directory.areas import find_council

# Intents that are not a question about a topic (not counted per topic on the statistics page).
_NOT_TOPICS = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "ask_more_results", "nlu_fallback"}


def is_topic(intent: str | None) -> bool:
    """Whether an intent is a question about a topic (counted per topic)."""
    return bool(intent) and intent not in _NOT_TOPICS and (intent.startswith("ask_") or intent.startswith("risk_") or intent in {"express_distress", "out_of_scope"})


def count_question(topics: dict[str, int], last_topic: str | None, intent: str | None, reread: bool) -> str | None:
    """Count a message the person sent under its topic in `topics`. A message read again in
    context (`reread`, bot.dialogue.follow_up) replaces its first reading, `last_topic` (the
    topic this returned for the message before): the same message counts once, as what it
    meant. Returns this message's topic (None when it is not a question about a topic)."""
    if reread and last_topic:
        topics[last_topic] -= 1
        if not topics[last_topic]:
            del topics[last_topic]
    topic = intent if is_topic(intent) else None
    if topic:
        topics[topic] = topics.get(topic, 0) + 1
    return topic


def read_slot(name: Any, value: Any, council: str, audience: str, councils: dict[str, str]) -> tuple[str, str]:
    """(council code, audience) after a slot event: `audience` as set (text), `area` as its
    council's code when the place is known (an unknown place keeps the council before).
    `councils` caches places already looked up."""
    if name == "audience" and isinstance(value, str):
        return council, value
    if name == "area" and isinstance(value, str) and value:
        if value not in councils:
            found = find_council(value)
            councils[value] = found.code if found else ""
        return councils[value] or council, audience
    return council, audience
