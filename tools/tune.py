"""Choose the intent classifier's settings on a validation split of the training data only.

    python -m tools.tune results/nlu-split/training_data.yml [--grid c=5,10,20 embedding_weight=1,2]
    python -m tools.tune data/nlu --folds 5 [--errors results/cv-errors.json]

The held-out test split that `make test-nlu` reports is never read here, so the
settings chosen cannot be tuned to it. With ``--folds`` every example is predicted
once by a model that did not see it (stratified k-fold cross-validation over the
files or directories given), which is steadier than one validation fifth and is
the way to judge changes to the training data. Sentence embeddings are computed
once and reused for every setting and fold (they do not depend on them).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from bot.nlp import intents
from bot.nlp.minilm import HIDDEN, LAYERS, shared


def read_examples(path: Path) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Texts, intents and lexicons (lookup tables named lexicon_<intent>) from a Rasa NLU YAML file."""
    texts, labels, lexicons = [], [], {}
    for block in yaml.safe_load(path.read_text())["nlu"]:
        lines = [line.strip()[2:] for line in block.get("examples", "").splitlines() if line.strip().startswith("- ")]
        if "intent" in block:
            texts += lines
            labels += [block["intent"]] * len(lines)
        elif "lookup" in block and block["lookup"].startswith("lexicon_"):
            lexicons.setdefault(block["lookup"], []).extend(lines)  # one lexicon may span files
    return texts, labels, lexicons


class CachedEmbeddings(intents.LinearIntentModel):
    """The model with sentence embeddings looked up from a precomputed table (every layer of each text)."""

    table: dict[str, np.ndarray] = {}

    def _embedding_features(self, texts):
        columns = np.concatenate([np.arange(layer * HIDDEN, (layer + 1) * HIDDEN) for layer in self._embedding_layers()])
        return sparse.csr_matrix(np.vstack([self.table[t][columns] for t in texts]) * self._embedding_weights())


def read_paths(paths: list[Path]) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """read_examples over files and directories (every *.yml inside, sorted)."""
    texts, labels, lexicons = [], [], {}
    for path in paths:
        for file in sorted(path.glob("*.yml")) if path.is_dir() else [path]:
            t, l, x = read_examples(file)
            texts += t
            labels += l
            lexicons.update(x)
    return texts, labels, lexicons


def load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return dict(zip(data["texts"].tolist(), data["vectors"]))


def save_cache(path: Path, table: dict[str, np.ndarray]) -> None:
    """Write atomically: several runs may share one cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = sorted(table)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npz")
    np.savez(tmp, texts=np.array(texts), vectors=np.stack([table[t] for t in texts]).astype(np.float32))
    os.replace(tmp, path)


def parse_grid(items: list[str]) -> dict[str, list]:
    grid = {}
    for item in items:
        name, values = item.split("=", 1)
        if name not in intents.Settings.__dataclass_fields__:
            raise SystemExit(f"unknown setting {name!r}; known: {', '.join(intents.Settings.__dataclass_fields__)}")
        if name == "extra_layers":  # layer lists separated by "/", layers within one by "+": 3/2+4
            grid[name] = [tuple(int(x) for x in v.split("+") if x) for v in values.split("/")]
        else:
            grid[name] = [float(v) for v in values.split(",")]
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("training_data", type=Path, nargs="+", help="Rasa NLU files or directories of them")
    parser.add_argument("--grid", nargs="*", default=["c=10,20,50", "embedding_weight=1,1.5,2"])
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--folds", type=int, default=0, help="k-fold cross-validation instead of one validation split")
    parser.add_argument("--errors", type=Path, help="with --folds: write the misclassified examples of the last setting here")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path("var/embeddings-cache.npz"),
                        help="sentence embeddings kept between runs, by text (a build output; '' for none)")
    args = parser.parse_args()

    texts, labels, lexicons = read_paths(args.training_data)
    if args.folds:
        splits = list(StratifiedKFold(args.folds, shuffle=True, random_state=args.seed).split(texts, labels))
    else:
        indices = list(range(len(texts)))
        fit_i, val_i = train_test_split(
            indices, test_size=args.validation_fraction, random_state=args.seed, stratify=labels
        )
        splits = [(fit_i, val_i)]
    start = time.perf_counter()
    unique = sorted(set(texts))
    cached = load_cache(args.cache) if str(args.cache) else {}
    missing = [t for t in unique if t not in cached]
    if missing:
        cached.update(zip(missing, shared().encode(missing, layers=range(LAYERS + 1))))
        if str(args.cache):
            save_cache(args.cache, cached)
    CachedEmbeddings.table = {t: cached[t] for t in unique}
    print(f"embedded {len(unique)} texts in {time.perf_counter() - start:.0f}s; {len(texts)} examples, {len(splits)} split(s)")

    grid = parse_grid(args.grid)
    names = list(grid)
    results = []
    for values in itertools.product(*(grid[n] for n in names)):
        settings = intents.Settings(**dict(zip(names, values)))
        start = time.perf_counter()
        predicted: dict[int, str] = {}
        for fit_i, val_i in splits:
            model = CachedEmbeddings(settings, lexicons).fit([texts[i] for i in fit_i], [labels[i] for i in fit_i])
            rankings = model.predict([texts[i] for i in val_i])
            predicted.update({i: ranking[0][0] for i, ranking in zip(val_i, rankings)})
        order = sorted(predicted)
        truth, guess = [labels[i] for i in order], [predicted[i] for i in order]
        accuracy = float(np.mean([p == y for p, y in zip(guess, truth)]))
        macro_f1 = float(f1_score(truth, guess, average="macro"))
        results.append((accuracy, values))
        shown = ", ".join(f"{n}={v}" for n, v in zip(names, values))
        print(f"{shown}: accuracy {accuracy:.4f}, macro F1 {macro_f1:.4f} ({time.perf_counter() - start:.0f}s)", flush=True)
        if args.errors:
            wrong = [{"text": texts[i], "intent": labels[i], "predicted": predicted[i]} for i in order if predicted[i] != labels[i]]
            args.errors.parent.mkdir(parents=True, exist_ok=True)
            args.errors.write_text(json.dumps(wrong, indent=1))
    best = max(results)
    print("best: " + ", ".join(f"{n}={v}" for n, v in zip(names, best[1])) + f" -> {best[0]:.4f}")


if __name__ == "__main__":
    main()
