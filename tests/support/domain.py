"""Reading domain.yml as a person would meet it: a response's recorded source (the comment lines
above it) and what Rasa's own response generator sends for it."""
from __future__ import annotations

import asyncio

from bot.settings import ROOT

DOMAIN_TEXT = (ROOT / "domain.yml").read_text()


def comment_above(name: str) -> str:
    """The comment lines directly above a response (its recorded source)."""
    lines = DOMAIN_TEXT.splitlines()
    i = lines.index(f"  {name}:")
    found = []
    while lines[i - 1].strip().startswith("#"):
        i -= 1
        found.append(lines[i])
    return "\n".join(reversed(found))


def render(name: str, **slots: str) -> list[str]:
    """What Rasa sends for a response, given the conversation's slots (initial values included)."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml(DOMAIN_TEXT)
    tracker = DialogueStateTracker.from_events("facts", [SlotSet(k, v) for k, v in slots.items()], slots=domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    message = asyncio.run(nlg.generate(name, tracker, CollectingOutputChannel.name()))
    return [message["text"]]
