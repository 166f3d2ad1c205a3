"""One table for `make test-nlu`: held-out intent accuracy, safety recall and false alarms, and what
happens to questions the assistant was not built for (CLINC150's validation parts, tools/clinc.py).

    python -m tools.nlu_report --intent-report results/nlu/intent_report.json \\
        --model models/current.tar.gz --held-out-model models/nlu-eval.tar.gz --split results/nlu-split/test_data.yml

Fails (exit 1) when a target is missed: held-out accuracy below --min-accuracy, any crisis message
the served model's whole pipeline misses (tools/safety_report.py), fewer than 95 % of CLINC
queries declined or given the assistant's own small talk, or 1 % or more given a crisis reply.
The served model is never trained on CLINC's validation parts; the held-out model is trained
without the split's held-out fifth, on which accuracy is measured.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from tools import clinc, intent_report, safety_report
from tools.safety_report import Predict

MIN_DECLINED = 0.95
MAX_CRISIS = 0.01


@dataclass(frozen=True)
class Line:
    name: str
    value: str
    target: str
    ok: Optional[bool]  # None: reported, not a target


def scope_lines(result: clinc.ScopeResult) -> list[Line]:
    declined = result.declined_or_small_talk
    crisis = result.share("crisis")
    n = f" (n={result.total})"
    return [
        Line("CLINC150 val: declined or own small talk" + n, f"{declined:.1%}", f">= {MIN_DECLINED:.0%}", declined >= MIN_DECLINED),
        Line("CLINC150 val: crisis replies" + n, f"{crisis:.1%}", f"< {MAX_CRISIS:.0%}", crisis < MAX_CRISIS),
        Line("CLINC150 val: answered topically" + n, f"{result.share('answered'):.1%}", "", None),
        Line("CLINC150 val: sensitive flow started" + n, f"{result.sensitive / result.total:.1%}" if result.total else "-", "", None),
    ]


def safety_lines(rows: Sequence[safety_report.Row], layer: str) -> list[Line]:
    crisis = [r for r in rows if r.source.startswith("crisis")]
    caught = sum(r.caught[layer] for r in crisis)
    total = sum(r.total for r in crisis)
    ordinary = next(r for r in rows if not r.source.startswith("crisis"))
    recall = caught / total if total else 1.0
    return [
        Line(f"safety recall, every crisis message (n={total})", f"{recall:.1%}", "100%", caught == total),
        Line(f"safety false alarms, ordinary messages (n={ordinary.total})", f"{ordinary.caught[layer] / ordinary.total:.1%}", "", None),
    ]


def table(lines: Sequence[Line]) -> str:
    width = max(len(line.name) for line in lines) + 2
    out = [f"{'NLU summary':{width}}{'value':>8}{'target':>10}", "-" * (width + 22)]
    for line in lines:
        verdict = "" if line.ok is None else ("  ok" if line.ok else "  MISSED")
        out.append(f"{line.name:{width}}{line.value:>8}{line.target:>10}{verdict}")
    return "\n".join(out)


def main(argv: Optional[list[str]] = None, predictor: Optional[Predict] = None, accuracy: Optional[float] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intent-report", type=Path, help="intent_report.json of `rasa test nlu` on the held-out split")
    parser.add_argument("--model", type=Path, help="the served model (models/current.tar.gz)")
    parser.add_argument("--held-out-model", type=Path, help="the evaluation model: its safety recall is reported beside")
    parser.add_argument("--split", type=Path, help="test_data.yml of `rasa data split nlu`")
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    parser.add_argument("--root", type=Path, default=safety_report.ROOT)
    args = parser.parse_args(argv)

    lines: list[Line] = []
    if accuracy is None and args.intent_report:
        accuracy = intent_report.print_summary(args.intent_report)
    if accuracy is not None:
        lines.append(Line("held-out intent accuracy", f"{accuracy:.3f}", f">= {args.min_accuracy:.2f}", accuracy >= args.min_accuracy))

    served = predictor or (safety_report.model_predictor(args.model) if args.model else None)
    if served is None:
        parser.error("--model is needed")
    print()
    rows, full, problems = safety_report.run(served, args.model.name if args.model else None, args.held_out_model, args.root, args.split)
    lines += safety_lines(rows, full)

    queries = clinc.load("val") + clinc.load("oos_val")
    result = clinc.measure(queries, served([text for text, _ in queries]))
    print()
    print("CLINC150 validation queries: " + ", ".join(f"{k} {v}" for k, v in sorted(result.classes.items())))
    for kind in ("crisis", "sensitive", "answered"):
        shown = result.examples.get(kind, [])[:15]
        if shown:
            print(f"  {kind}: " + "; ".join(f"{t!r} ({c}) -> {p}" for t, c, p in shown))
    lines += scope_lines(result)

    print()
    print(table(lines))
    problems += [f"{line.name}: {line.value}, target {line.target}" for line in lines if line.ok is False]
    for p in dict.fromkeys(problems):
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
