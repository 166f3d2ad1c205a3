"""How the assistant takes questions it was not built for: CLINC150's everyday task-assistant queries.

CLINC150 (Larson et al. 2019, CC BY 3.0; tests/nlu/clinc150/README.md) holds queries people type to
task assistants: banking, travel, cooking, small talk. None is about prisons or families, so each
should be declined, except the small talk and meta questions this assistant has its own replies for.
A reply falls in one of four classes, by the intent the whole NLU pipeline gives the query:

- declined: out_of_scope, the fallback ("could you put it another way"), or other_language;
- small talk: the assistant's own reply to the same kind of question (SMALL_TALK);
- crisis: a safety intent, whose reply gives emergency numbers: a false alarm here;
- answered: any other intent, a topical answer to a question nobody asked.

A sensitive flow (SENSITIVE_INTENTS: deleting details, the call-back consent, live chat) started
by such a query is counted beside them: it is one of the answered.

It also writes the training sample of the out-of-scope check (bot.nlp.intents.LinearIntentModel),
from CLINC150's training parts only:

    python -m tools.clinc --write-training ../shared/refdata/clinc150/clinc150_train_val.json
"""
from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from bot.nlp.clear_request import SENSITIVE_INTENTS
from bot.nlp.safety import SAFETY_INTENTS
from bot.nlp.scope import INSIDE, OUT_OF_SCOPE, OUTSIDE

ROOT = Path(__file__).resolve().parents[1]
CLINC_DIR = ROOT / "tests" / "nlu" / "clinc150"

DECLINED = frozenset({OUT_OF_SCOPE, "nlu_fallback", "other_language"})
# CLINC's small-talk and meta intents this assistant replies to in its own way, and the intent of that reply.
SMALL_TALK = {
    "greeting": "greet",
    "goodbye": "goodbye",
    "thank_you": "thank",
    "are_you_a_bot": "ask_human",  # "are you a bot": it says it is one, and how to reach a person
    "what_can_i_ask_you": "ask_capabilities",
    "yes": "affirm",
    "no": "deny",
}


def load(part: str, directory: Path = CLINC_DIR) -> list[tuple[str, str]]:
    """(text, CLINC intent) of one part kept in the repository: `val` (150 intents) or `oos_val` (intent `oos`)."""
    rows = json.loads((directory / f"{part}.json").read_text())
    return [(row, "oos") if isinstance(row, str) else (row[0], row[1]) for row in rows]


def classify(predicted: Optional[str], clinc_intent: str) -> str:
    """declined, small talk, crisis or answered (see the module's docstring)."""
    if predicted in SAFETY_INTENTS:
        return "crisis"
    if predicted in DECLINED or predicted is None:
        return "declined"
    if SMALL_TALK.get(clinc_intent) == predicted:
        return "small talk"
    return "answered"


@dataclass
class ScopeResult:
    """How a set of CLINC queries was taken: counts by class, and a few examples of each wrong class."""

    total: int = 0
    classes: Counter = field(default_factory=Counter)
    sensitive: int = 0
    # A few examples of each wrong class: (text, CLINC intent, predicted intent).
    examples: dict[str, list[tuple[str, str, Optional[str]]]] = field(default_factory=dict)

    def share(self, name: str) -> float:
        """The share of the queries in class `name`."""
        return self.classes[name] / self.total if self.total else 0.0

    @property
    def declined_or_small_talk(self) -> float:
        """The share declined or given the assistant's own small talk: the target's measure."""
        return self.share("declined") + self.share("small talk")


def measure(queries: Sequence[tuple[str, str]], predicted: Iterable[Optional[str]], keep: int = 40) -> ScopeResult:
    """Count the class of each query's predicted intent, keeping up to `keep` examples of each wrong class."""
    result = ScopeResult()
    for (text, clinc_intent), intent in zip(queries, predicted):
        kind = classify(intent, clinc_intent)
        result.total += 1
        result.classes[kind] += 1
        result.sensitive += intent in SENSITIVE_INTENTS
        if kind in ("crisis", "answered") or intent in SENSITIVE_INTENTS:
            bucket = result.examples.setdefault("sensitive" if intent in SENSITIVE_INTENTS else kind, [])
            if len(bucket) < keep:
                bucket.append((text, clinc_intent, intent))
    return result


# --- training data for the out-of-scope check (bot.nlp.intents.LinearIntentModel) ----------------
TRAINING_FILE = ROOT / "data" / "nlu" / "scope_clinc150.yml"
PER_INTENT = 80
# CLINC's "cancel" ("cancel it", "cancel") means something here: stopping the call-back form or a call back.
_NOT_OUTSIDE = frozenset(SMALL_TALK) | {"cancel"}


def training_sample(source: Path, per_intent: int = PER_INTENT, seed: int = 42) -> tuple[list[str], list[str]]:
    """(outside, inside) from CLINC150's training parts only: `per_intent` queries of each of its
    everyday intents and every out-of-scope training query (outside), and every query of the small
    talk the assistant answers (inside). A training query that is also a validation query (CLINC
    repeats a few) is left out, so that no query the report counts was trained on."""
    data = json.loads(source.read_text())
    validation = {text for text, _ in data["val"]} | set(data["oos_val"])
    by_intent: dict[str, list[str]] = {}
    for text, intent in data["train"]:
        if text not in validation:
            by_intent.setdefault(intent, []).append(text)
    rng = random.Random(seed)
    outside = [t for i in sorted(by_intent) if i not in _NOT_OUTSIDE for t in rng.sample(by_intent[i], min(per_intent, len(by_intent[i])))]
    outside += [t for t in data["oos_train"] if t not in validation]
    inside = [t for i in sorted(SMALL_TALK) for t in by_intent.get(i, [])]
    return outside, inside


def write_training(source: Path, out: Path = TRAINING_FILE, per_intent: int = PER_INTENT) -> None:
    """Write the sample as two Rasa lookup tables, read by LinearIntentClassifier (not intents:
    they train the out-of-scope check, not the intent classifier)."""
    outside, inside = training_sample(source, per_intent)
    header = (
        "# Everyday task-assistant queries, for the check that declines what the assistant was not built for\n"
        "# (bot/nlp/intents.py, out-of-scope check). Written by `python -m tools.clinc --write-training SOURCE`\n"
        f"# from CLINC150's training parts only ({per_intent} queries of each everyday intent, all out-of-scope\n"
        "# training queries; the small talk this assistant answers is `scope_inside`). The validation parts\n"
        "# (tests/nlu/clinc150/) are never trained on. CLINC150: Larson et al. 2019, clinc/oos-eval, CC BY 3.0.\n"
    )

    def block(name: str, texts: list[str]) -> str:
        return f"- lookup: {name}\n  examples: |\n" + "".join(f"    - {' '.join(t.split())}\n" for t in texts)

    out.write_text(header + 'version: "3.1"\nnlu:\n' + block(OUTSIDE, outside) + block(INSIDE, inside))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Write the CLINC150 training sample for the out-of-scope check.")
    parser.add_argument("--write-training", type=Path, required=True, help="clinc150_train_val.json (../shared/refdata/clinc150/)")
    parser.add_argument("--per-intent", type=int, default=PER_INTENT)
    args = parser.parse_args(argv)
    write_training(args.write_training, per_intent=args.per_intent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
