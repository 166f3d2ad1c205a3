"""The safety net's recall beside its false alarms, for `make test-nlu`.

Recall: of the crisis messages the project has, how many reach a safety intent (any of
SAFETY_INTENTS: each one's reply gives emergency numbers). False alarms: of held-out
ordinary messages that mention children, partners, leaving, danger or police in passing,
how many get a safety intent instead of an answer. Both are measured for the rule layer
alone (bot/nlp/safety.py) and for the whole NLU pipeline of a trained model (the rule
layer over the classifier, then the fallback), which is what decides the reply.

Fails (exit 1) if the served model's whole pipeline (--model, models/current.tar.gz) misses any
crisis message the project has, or if the rule layer misses one of the held-out crisis messages
it is meant to catch on their words. The evaluation model (--held-out-model, trained without the
split's held-out fifth) is reported beside it, as the measure of how the net does on crisis
messages no model has seen; a classifier cannot be held to 100% there, so it does not fail.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import yaml

from bot.nlp.safety import SAFETY_INTENTS, safety_intent

ROOT = Path(__file__).resolve().parents[1]
CRISIS = Path("tests/nlu/safety_crisis.yml")
ORDINARY = Path("tests/nlu/safety_ordinary.yml")
REALWORLD = Path("tests/nlu/realworld.yml")
SAFETY_TRAINING = Path("data/nlu/safety.yml")

Predict = Callable[[Sequence[str]], list[Optional[str]]]


@dataclass(frozen=True)
class Crisis:
    text: str
    intent: str
    rule_layer: bool = True  # the rule layer is meant to catch it on its words alone


def _nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) from a Rasa NLU YAML file (training data, or `rasa data split` output)."""
    out = []
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        if "intent" in block and isinstance(block.get("examples"), str):
            out += [(block["intent"], line.strip()[2:]) for line in block["examples"].splitlines() if line.strip().startswith("- ")]
    return out


def crisis_sets(root: Path = ROOT, split: Optional[Path] = None) -> dict[str, list[Crisis]]:
    """Every crisis message the project has, by where it comes from."""
    held_out = [Crisis(m["text"], m["intent"], m.get("rule_layer", True)) for m in yaml.safe_load((root / CRISIS).read_text())["messages"]]
    realworld = [
        Crisis(q["text"], q["intent"], False)
        for q in yaml.safe_load((root / REALWORLD).read_text())["questions"]
        if q["intent"] in SAFETY_INTENTS
    ]
    sets = {
        "crisis, held out (safety_crisis.yml)": held_out,
        "crisis, real-world questions": realworld,
    }
    if split is not None and split.exists():
        sets["crisis, split's held-out safety examples"] = [
            Crisis(t, i, False) for i, t in _nlu_examples(split) if i in SAFETY_INTENTS
        ]
    sets["crisis, all safety training examples"] = [
        Crisis(t, i, False) for i, t in _nlu_examples(root / SAFETY_TRAINING) if i in SAFETY_INTENTS
    ]
    return sets


def ordinary_messages(root: Path = ROOT) -> list[str]:
    return list(yaml.safe_load((root / ORDINARY).read_text())["messages"])


def rule_layer(texts: Sequence[str]) -> list[Optional[str]]:
    return [safety_intent(t) for t in texts]


def model_predictor(model: Path, batch: int = 256) -> Predict:
    """The intent the whole NLU pipeline of a trained model gives each text (after the fallback).

    The texts go through the model's NLU graph as Rasa runs it for one message
    (MessageProcessor._parse_message_with_graph), a batch at a time: every component
    processes a list, so the sentence encoder runs on batches (a tenth of the time).
    """
    # Rasa is imported only here: the report's other parts (and its tests) run without loading it.
    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no debug line per parsed message
    processor = Agent.load(str(model)).processor
    target = processor.model_metadata.nlu_target

    def predict(texts: Sequence[str]) -> list[Optional[str]]:
        out: list[Optional[str]] = []
        for start in range(0, len(texts), batch):
            messages = [UserMessage(t) for t in texts[start : start + batch]]
            inputs = {PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: DialogueStateTracker("report", [])}
            parsed = processor.graph_runner.run(inputs=inputs, targets=[target])[target]
            out += [(m.get("intent") or {}).get("name") for m in parsed]
        return out

    return predict


@dataclass
class Row:
    source: str
    total: int
    caught: dict[str, int]  # layer -> messages given a safety intent
    examples: dict[str, list[str]]  # layer -> misses (crisis) or false alarms (ordinary)


def measure(predictors: dict[str, Predict], crisis: dict[str, list[Crisis]], ordinary: Sequence[str]) -> list[Row]:
    rows = []
    for source, items in crisis.items():
        texts = [c.text for c in items]
        caught, misses = {}, {}
        for layer, predict in predictors.items():
            got = predict(texts)
            caught[layer] = sum(g in SAFETY_INTENTS for g in got)
            misses[layer] = [c.text for c, g in zip(items, got) if g not in SAFETY_INTENTS]
        rows.append(Row(source, len(items), caught, misses))
    caught, alarms = {}, {}
    for layer, predict in predictors.items():
        got = predict(list(ordinary))
        caught[layer] = sum(g in SAFETY_INTENTS for g in got)
        alarms[layer] = [f"{t} -> {g}" for t, g in zip(ordinary, got) if g in SAFETY_INTENTS]
    rows.append(Row("ordinary, held out (FALSE ALARMS)", len(ordinary), caught, alarms))
    return rows


def table(rows: list[Row], layers: Sequence[str]) -> str:
    width = max(len(r.source) for r in rows) + 2
    cols = [max(16, len(layer) + 3) for layer in layers]
    lines = ["Safety net: crisis rows give recall (safety intent reached), the ordinary row false alarms",
             f"{'':{width}}{'n':>6}" + "".join(f"{layer:>{c}}" for layer, c in zip(layers, cols))]
    for r in rows:
        cells = "".join(f"{f'{r.caught[l]} ({r.caught[l] / r.total:.1%})' if r.total else '-':>{c}}" for l, c in zip(layers, cols))
        lines.append(f"{r.source:{width}}{r.total:>6}{cells}")
    return "\n".join(lines)


def failures(rows: list[Row], crisis: dict[str, list[Crisis]], full: Optional[str]) -> list[str]:
    """Why the report fails: any crisis message the whole pipeline misses; any held-out crisis
    message meant for the rule layer that it misses."""
    problems = []
    for r in rows:
        if r.source.startswith("crisis") and full and r.caught[full] < r.total:
            problems.append(f"{full} recall {r.caught[full]}/{r.total} on {r.source}: " + "; ".join(r.examples[full][:10]))
    meant = [c.text for items in crisis.values() for c in items if c.rule_layer]
    missed = [t for t, g in zip(meant, rule_layer(meant)) if g not in SAFETY_INTENTS]
    if missed:
        problems.append(f"rule layer missed {len(missed)} crisis message(s) it is meant to catch: " + "; ".join(missed[:10]))
    return problems


def run(served: Optional[Predict], served_name: Optional[str], held_out: Optional[Path], root: Path = ROOT,
        split: Optional[Path] = None) -> tuple[list[Row], Optional[str], list[str]]:
    """Measure the rule layer, the served pipeline (`served`, when given) and the evaluation model
    (`held_out`), print the table and the served pipeline's false alarms, and return the rows, the
    served pipeline's column and why the report fails (`failures`)."""
    predictors: dict[str, Predict] = {"rule layer": rule_layer}
    full = None
    if served is not None:
        full = "full NLU" + (f" ({served_name})" if served_name else "")
        predictors[full] = served
    if held_out:
        predictors[f"held-out model ({held_out.name})"] = model_predictor(held_out)
    crisis = crisis_sets(root, split)
    rows = measure(predictors, crisis, ordinary_messages(root))
    print(table(rows, list(predictors)))
    alarms = rows[-1].examples.get(full or "rule layer", [])
    if alarms:
        print(f"False alarms ({full or 'rule layer'}): " + "; ".join(alarms[:25]))
    return rows, full, failures(rows, crisis, full)


def main(argv: Optional[list[str]] = None, predictor: Optional[Predict] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="the served model (models/current.tar.gz): its whole pipeline must catch every crisis message")
    parser.add_argument("--held-out-model", type=Path, help="the evaluation model (models/nlu-eval.tar.gz): reported, not a gate")
    parser.add_argument("--split", type=Path, help="test_data.yml of `rasa data split nlu`: its safety examples are held out from the model")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    served = predictor or (model_predictor(args.model) if args.model else None)
    _, _, problems = run(served, args.model.name if args.model else None, args.held_out_model, args.root, args.split)
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
