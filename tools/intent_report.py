"""Print intent accuracy and macro F1 from `rasa test nlu` and fail below a minimum accuracy."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def summarise(report: dict) -> tuple[float, float, list[tuple[str, float, int]]]:
    """(accuracy, macro F1, the weakest intents as (name, f1, support))."""
    accuracy = float(report["accuracy"])
    macro_f1 = float(report["macro avg"]["f1-score"])
    per_intent = [
        (name, float(v["f1-score"]), int(v["support"]))
        for name, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and name not in ("macro avg", "weighted avg", "micro avg")
    ]
    return accuracy, macro_f1, sorted(per_intent, key=lambda x: x[1])


def print_summary(path: Path) -> float:
    """Print accuracy, macro F1 and the weakest intents of an intent_report.json; return the accuracy."""
    accuracy, macro_f1, weakest = summarise(json.loads(path.read_text()))
    print(f"Held-out NLU evaluation: intent accuracy {accuracy:.3f}, macro F1 {macro_f1:.3f}")
    print("Weakest intents: " + ", ".join(f"{n} {f:.2f} (n={s})" for n, f, s in weakest[:5]))
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path, help="intent_report.json written by `rasa test nlu`")
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    args = parser.parse_args(argv)
    accuracy = print_summary(args.report)
    if accuracy < args.min_accuracy:
        print(f"FAIL: intent accuracy {accuracy:.3f} is below {args.min_accuracy:.2f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
