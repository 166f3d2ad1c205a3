"""Choose the intent classifier's settings on a validation split of the training data only.

    python -m bot.nlp.tune results/nlu-split/training_data.yml [--grid c=5,10,20 embedding_weight=1,2]

The held-out test split that `make test-nlu` reports is never read here, so the
settings chosen cannot be tuned to it. Sentence embeddings are computed once and
reused for every setting (they do not depend on them).
"""
from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.model_selection import train_test_split

from bot.nlp import intents


def read_examples(path: Path) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Texts, intents and lexicons (lookup tables named lexicon_<intent>) from a Rasa NLU YAML file."""
    texts, labels, lexicons = [], [], {}
    for block in yaml.safe_load(path.read_text())["nlu"]:
        lines = [line.strip()[2:] for line in block.get("examples", "").splitlines() if line.strip().startswith("- ")]
        if "intent" in block:
            texts += lines
            labels += [block["intent"]] * len(lines)
        elif "lookup" in block and block["lookup"].startswith("lexicon_"):
            lexicons[block["lookup"]] = lines
    return texts, labels, lexicons


class CachedEmbeddings(intents.LinearIntentModel):
    """The model with sentence embeddings looked up from a precomputed table."""

    table: dict[str, np.ndarray] = {}

    def _embedding_features(self, texts):
        from scipy import sparse

        return sparse.csr_matrix(np.vstack([self.table[t] for t in texts]) * self.settings.embedding_weight)


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    grid = {}
    for item in items:
        name, values = item.split("=", 1)
        if name not in intents.Settings.__dataclass_fields__:
            raise SystemExit(f"unknown setting {name!r}; known: {', '.join(intents.Settings.__dataclass_fields__)}")
        grid[name] = [float(v) for v in values.split(",")]
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("training_data", type=Path)
    parser.add_argument("--grid", nargs="*", default=["c=10,20,50", "embedding_weight=1,1.5,2"])
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    texts, labels, lexicons = read_examples(args.training_data)
    fit_x, val_x, fit_y, val_y = train_test_split(
        texts, labels, test_size=args.validation_fraction, random_state=args.seed, stratify=labels
    )
    from bot.nlp.minilm import shared

    start = time.perf_counter()
    unique = sorted(set(texts))
    CachedEmbeddings.table = dict(zip(unique, shared().encode(unique)))
    print(f"embedded {len(unique)} texts in {time.perf_counter() - start:.0f}s; fit {len(fit_x)}, validate {len(val_x)}")

    grid = parse_grid(args.grid)
    names = list(grid)
    results = []
    for values in itertools.product(*(grid[n] for n in names)):
        settings = intents.Settings(**dict(zip(names, values)))
        start = time.perf_counter()
        model = CachedEmbeddings(settings, lexicons).fit(fit_x, fit_y)
        predicted = [ranking[0][0] for ranking in model.predict(val_x)]
        accuracy = float(np.mean([p == y for p, y in zip(predicted, val_y)]))
        results.append((accuracy, values))
        shown = ", ".join(f"{n}={v:g}" for n, v in zip(names, values))
        print(f"{shown}: accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f}s)", flush=True)
    best = max(results)
    print("best: " + ", ".join(f"{n}={v:g}" for n, v in zip(names, best[1])) + f" -> {best[0]:.4f}")


if __name__ == "__main__":
    main()
