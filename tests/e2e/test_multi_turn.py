"""End to end over REST: multi-turn conversations as families and professionals write them (issue 14,
item 5). Each conversation in conversations.yml runs in a fresh sender against the real servers and
the trained model; every reply is checked for the facts it must carry (and must not)."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from tests.support.rest import DOMAIN, response_name, talk, texts

pytestmark = pytest.mark.e2e

CONVERSATIONS = yaml.safe_load((Path(__file__).with_name("conversations.yml")).read_text())


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_names() -> None:
    """Fail at collection, not after minutes of servers, on a `first` that names no response."""
    known = set(DOMAIN["responses"])
    unknown = [
        f"{conversation['name']!r}, turn {number}: {name}"
        for conversation in CONVERSATIONS
        for number, turn in enumerate(conversation["turns"], 1)
        for name in _as_list(turn.get("first"))
        if name not in known
    ]
    if unknown:
        raise ValueError("conversations.yml names responses that are not in domain.yml:\n  " + "\n  ".join(unknown))


_check_names()


def _transcript(history: list[tuple[str, list[str]]]) -> str:
    lines = []
    for said, replies in history:
        lines.append(f"  > {said}")
        lines += [f"    < [{response_name(text) or '?'}] {text}" for text in replies] or ["    < (no reply)"]
    return "\n".join(lines)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_conversation(servers, conversation):
    sender = f"conv-{uuid.uuid4().hex[:8]}"
    history: list[tuple[str, list[str]]] = []
    for number, turn in enumerate(conversation["turns"], 1):
        said = turn["say"]
        replies = texts(talk(servers, said, sender=sender))
        history.append((said, replies))
        joined = "\n".join(replies)

        def fail(problem: str) -> str:
            return f"turn {number} of {conversation['name']!r}: {problem}\nconversation so far:\n{_transcript(history)}"

        assert replies, fail(f"no reply to {said!r}")
        first = _as_list(turn.get("first"))
        if first:
            got = response_name(replies[0])
            assert got in first, fail(f"the first reply to {said!r} is {got}, expected {' or '.join(first)}")
        for pattern in _as_list(turn.get("expect")):
            assert re.search(pattern, joined, re.I), fail(f"the replies to {said!r} do not contain /{pattern}/")
        for pattern in _as_list(turn.get("not")):
            found = re.search(pattern, joined, re.I)
            assert not found, fail(f"the replies to {said!r} contain /{pattern}/ ({found.group(0)!r})")
