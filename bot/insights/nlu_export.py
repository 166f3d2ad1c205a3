"""Reviewers' labels as Rasa NLU training data (`bot review export`): YAML the team adds to
data/nlu after reading it (docs: the reviewer's guide).

Each label names a message by Rasa's timestamp; its words are read from the tracker store now,
so a conversation erased or purged since has none to give: that label is skipped and counted.
Also skipped and counted: a message with no words left (its call-back form was redacted) or that
was a button's payload ("/ask_human"), a label whose intent the domain no longer has, and a
message already among data/nlu's examples (under its intent or another: adding it again would
repeat it or make `rasa data validate` fail). Words go in on one line, with square brackets
made round so they never read as an entity annotation. The labels written are marked exported;
the next export leaves them out unless asked for everything.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.conversations import events, has_conversations
from bot.insights.models import ReviewLabel
from bot.insights.review import SAME_MESSAGE, intents
from bot.settings import ROOT

NLU_DIR = ROOT / "data" / "nlu"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there is one: data/nlu is large
# "[Stockton](area)" or "[Stockton]{"entity": "area"}" in an example: its words are "Stockton".
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Exported:
    yaml: str
    examples: int  # messages written
    erased: int  # the conversation is gone (erased or purged): no words to read
    no_text: int  # no words left (redacted), or a button's payload
    known: int  # already an example in data/nlu
    unknown_intent: int  # the domain has no such intent any more

    def counts(self) -> str:
        """What was written and skipped, in words (never the messages)."""
        parts = [f"{self.examples} example{'s' if self.examples != 1 else ''} written"]
        for n, why in ((self.erased, "conversation erased or past its retention"), (self.no_text, "no words to use"),
                       (self.known, "already in the training data"), (self.unknown_intent, "intent no longer in the domain")):
            if n:
                parts.append(f"{n} skipped: {why}")
        return "; ".join(parts)


def training_examples(nlu_dir: Path = NLU_DIR) -> set[str]:
    """Every intent example's words in the project's NLU data (annotations read as their words)."""
    found: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        for item in (yaml.load(path.read_text(), Loader=_LOADER) or {}).get("nlu") or []:
            if isinstance(item, dict) and "intent" in item:
                for line in str(item.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        found.add(_ANNOTATION.sub(r"\1", line[2:].strip()))
    return found


def clean(text: str) -> str:
    """A message as one line of an examples block: spaces collapsed, nothing unprintable,
    square brackets made round (never an entity annotation)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def _words(sender_id: str, engine: Engine) -> dict[float, str]:
    query = select(events.c.timestamp, events.c.data).where(events.c.sender_id == sender_id, events.c.type_name == "user")
    with engine.connect() as connection:
        return {timestamp: json.loads(data or "{}").get("text") or "" for timestamp, data in connection.execute(query)}


def _text_of(words: dict[float, str], timestamp: float) -> str | None:
    return next((text for at, text in words.items() if at is not None and abs(at - timestamp) < SAME_MESSAGE), None)


def to_yaml(examples: dict[str, str], header: str) -> str:
    """Rasa NLU YAML ("3.1"): one block per intent, in the order first labelled."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples.items():
        by_intent.setdefault(intent, []).append(text)
    lines = [f"# {line}" for line in header.splitlines()] + ['version: "3.1"']
    if not by_intent:
        return "\n".join(lines + ["nlu: []", ""])
    lines.append("nlu:")
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def export_labels(
    *, tracker_engine: Engine, session: Session, since: datetime | None = None, everything: bool = False,
    now: datetime | None = None, nlu_dir: Path = NLU_DIR,
) -> Exported:
    """Labels not exported yet (`everything`: all), made since `since` if given, as NLU YAML;
    the ones written are marked exported. The caller commits."""
    now = now or datetime.utcnow()
    query = select(ReviewLabel).order_by(ReviewLabel.id)
    if not everything:
        query = query.where(ReviewLabel.exported_at.is_(None))
    if since is not None:
        query = query.where(ReviewLabel.created_at >= since)
    labels = list(session.execute(query).scalars())
    known, allowed = training_examples(nlu_dir), set(intents())
    stored = has_conversations(tracker_engine)  # no events table: Rasa has kept nothing (yet)
    words: dict[str, dict[float, str]] = {}
    examples: dict[str, str] = {}
    erased = no_text = already = unknown = 0
    for label in labels:
        if label.sender_id not in words:
            words[label.sender_id] = _words(label.sender_id, tracker_engine) if stored else {}
        text = _text_of(words[label.sender_id], label.event_timestamp)
        if text is None:
            erased += 1
            continue
        text = clean(text)
        if not text or text.startswith("/"):
            no_text += 1
        elif label.intent not in allowed:
            unknown += 1
        elif text in known:
            already += 1
        else:
            examples.pop(text, None)  # a later label of the same words wins
            examples[text] = label.intent
            label.exported_at = now
    session.flush()
    header = (f"Reviewed messages from Families Connect (bot review export, {now:%Y-%m-%d %H:%M} UTC).\n"
              "Read them, then add them to data/nlu/<topic>.yml under their intent.")
    result = Exported("", len(examples), erased, no_text, already, unknown)
    return dataclasses.replace(result, yaml=to_yaml(examples, header + "\n" + result.counts()))


def export(*, tracker_engine: Engine, session: Session, since: datetime | None = None, everything: bool = False) -> str:
    """`export_labels`' YAML (its first comment lines say what was written and skipped)."""
    return export_labels(tracker_engine=tracker_engine, session=session, since=since, everything=everything).yaml
