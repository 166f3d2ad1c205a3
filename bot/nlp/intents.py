"""A linear intent classifier: TF-IDF over words and character n-grams, then logistic regression.

Lexicons (Rasa lookup tables named ``lexicon_<intent>``, data/nlu/lexicons_*.yml) add
one feature each: whether the message uses that topic's vocabulary. They carry
what a person who knows the field knows about words no example happens to use.

Sentence embeddings from all-MiniLM-L6-v2 (bot/nlp/minilm.py) add meaning that no
word list has: "where have they taken him" is near "which prison is he in".
The same pooling of an earlier encoder layer (``extra_layers``, from the same forward
pass, so no extra time per message) adds wording the last layer has smoothed away.

An out-of-scope check beside it (``fit(..., outside=..., inside=...)``): a second logistic
regression on the same features, in scope (every intent's examples but out_of_scope's, and the
small talk the assistant answers) against out of scope (out_of_scope's examples and everyday
task-assistant queries, data/nlu/scope_clinc150.yml, written by tools/clinc.py).
``predict_with_scope`` gives its probability that a message is out of scope; the Rasa component
decides what to do with it. It trains in seconds.

Measured on this project's data it matches DIET's held-out accuracy while
training in seconds instead of half an hour on two cores (see docs/nlu.md).
It saves itself as JSON and NumPy arrays, never as a pickle, so loading a
model file cannot run code.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlp.minilm import HIDDEN, LAYERS, shared

_APOSTROPHES = re.compile(r"[’'`]")
TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-letter words: "u", "i", "r"


def preprocess(text: str) -> str:
    """Lower case with apostrophes removed, so "don't" and "dont" are one word."""
    return _APOSTROPHES.sub("", text.lower())


@dataclass
class Settings:
    word_ngrams: tuple[int, int] = (1, 3)
    char_ngrams: tuple[int, int] = (1, 5)
    char_min_df: int = 2
    c: float = 20.0
    max_iter: int = 3000
    lexicon_weight: float = 1.0
    embedding_weight: float = 1.0  # 0 turns the sentence embeddings off
    extra_layers: tuple[int, ...] = ()  # earlier MiniLM layers, mean-pooled like the last (1-5)
    extra_layer_weight: float = 1.0
    scope_c: float = 5.0  # the out-of-scope check's regularisation (used only when it is trained)


class LinearIntentModel:
    """Fit on texts and intent names; predict a ranking of (intent, probability)."""

    def __init__(self, settings: Settings | None = None, lexicons: dict[str, list[str]] | None = None) -> None:
        self.settings = settings or Settings()
        self.lexicons = {name: sorted({preprocess(t).strip() for t in terms if t.strip()}) for name, terms in (lexicons or {}).items()}
        self._lexicon_patterns = [
            re.compile(r"\b(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")\b")
            for terms in self.lexicons.values()
            if terms
        ]
        self.words: TfidfVectorizer | None = None
        self.chars: TfidfVectorizer | None = None
        self.classes: list[str] = []
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self.scope_coef: np.ndarray | None = None  # out-of-scope check: weights, then intercept last

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        s = self.settings
        words = TfidfVectorizer(
            ngram_range=tuple(s.word_ngrams), sublinear_tf=True, token_pattern=TOKEN_PATTERN, preprocessor=preprocess
        )
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(s.char_ngrams), sublinear_tf=True, min_df=s.char_min_df,
            preprocessor=preprocess,
        )
        return words, chars

    def _lexicon_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        weight = self.settings.lexicon_weight
        rows = []
        for text in texts:
            clean = preprocess(text)
            rows.append([min(len(p.findall(clean)), 2) / 2 * weight for p in self._lexicon_patterns])
        return sparse.csr_matrix(np.asarray(rows, dtype=float).reshape(len(texts), len(self._lexicon_patterns)))

    def _embedding_layers(self) -> tuple[int, ...]:
        return (LAYERS, *self.settings.extra_layers)

    def _embedding_weights(self) -> np.ndarray:
        """One weight per embedding column: the last layer's, then the extra layers'."""
        s = self.settings
        return np.repeat([s.embedding_weight] + [s.extra_layer_weight] * len(s.extra_layers), HIDDEN).astype(np.float32)

    def _embedding_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.csr_matrix(shared().encode(texts, layers=self._embedding_layers()) * self._embedding_weights())

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        parts = [self.words.transform(texts), self.chars.transform(texts), self._lexicon_features(texts)]
        if self.settings.embedding_weight:
            parts.append(self._embedding_features(texts))
        return sparse.hstack(parts).tocsr()

    def fit(
        self, texts: Sequence[str], intents: Sequence[str], outside: Sequence[str] = (), inside: Sequence[str] = (),
        out_of_scope: str = "out_of_scope",
    ) -> "LinearIntentModel":
        """Fit the intent classifier on texts and intents; with `outside` texts, also the out-of-scope
        check: `inside` texts and every example but `out_of_scope`'s against `outside` and those."""
        if len(set(intents)) < 2:
            raise ValueError("need examples of at least two intents")
        self.words, self.chars = self._vectorizers()
        self.words.fit(texts)
        self.chars.fit(texts)
        features = self._features(texts)
        model = LogisticRegression(C=self.settings.c, max_iter=self.settings.max_iter)
        model.fit(features, intents)
        self.classes = [str(c) for c in model.classes_]
        self._set_weights(model.coef_, model.intercept_)
        self.scope_coef = None
        if outside:
            is_out = np.array([intent == out_of_scope for intent in intents] + [False] * len(inside) + [True] * len(outside))
            extra = self._features([*inside, *outside])
            check = LogisticRegression(C=self.settings.scope_c, max_iter=self.settings.max_iter, class_weight="balanced")
            check.fit(sparse.vstack([features, extra]).tocsr(), is_out)
            self.scope_coef = np.concatenate([check.coef_[0], check.intercept_]).astype(np.float64)
        return self

    def _set_weights(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        if len(self.classes) == 2 and coef.shape[0] == 1:
            # Two intents: scikit-learn fits one logistic score for the second class;
            # a softmax over (0, score) gives the same probabilities.
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros_like(intercept), intercept])
        self.coef, self.intercept = coef, intercept
        # Kept transposed and contiguous: a sparse row times coef.T would otherwise copy
        # the whole weight matrix on every message (measured: a sixth of a reply's time).
        self._coef_t = np.ascontiguousarray(coef.T)

    def predict(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """For each text, every intent with its probability, best first."""
        return [ranking for ranking, _ in self.predict_with_scope(texts)]

    def predict_with_scope(self, texts: Sequence[str]) -> list[tuple[list[tuple[str, float]], float | None]]:
        """For each text, its ranking (as `predict`) and the out-of-scope check's probability that
        it is out of scope (None when the model has no check)."""
        features = self._features(texts)
        outside: list[float | None] = [None] * len(texts)
        if self.scope_coef is not None:
            logits = np.asarray(features @ self.scope_coef[:-1]).ravel() + self.scope_coef[-1]
            outside = [float(p) for p in 1.0 / (1.0 + np.exp(-logits))]
        scores = features @ self._coef_t + self.intercept
        scores = np.asarray(scores)
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        ranked = []
        for row in probs:
            order = np.argsort(-row)
            ranked.append([(self.classes[i], float(row[i])) for i in order])
        return list(zip(ranked, outside))

    # --- saving without pickles -------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "settings": self.settings.__dict__,
            "lexicons": self.lexicons,
            "classes": self.classes,
            "word_vocabulary": {k: int(v) for k, v in self.words.vocabulary_.items()},
            "char_vocabulary": {k: int(v) for k, v in self.chars.vocabulary_.items()},
        }
        (directory / "model.json").write_text(json.dumps(meta))
        scope = {} if self.scope_coef is None else {"scope_coef": self.scope_coef}
        np.savez(
            directory / "weights.npz",
            word_idf=self.words.idf_, char_idf=self.chars.idf_, coef=self.coef, intercept=self.intercept, **scope,
        )

    @classmethod
    def load(cls, directory: Path) -> "LinearIntentModel":
        meta = json.loads((directory / "model.json").read_text())
        weights = np.load(directory / "weights.npz", allow_pickle=False)
        settings = Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["settings"].items()})
        model = cls(settings, meta["lexicons"])
        model.words, model.chars = model._vectorizers()
        model.words.vocabulary = meta["word_vocabulary"]
        model.chars.vocabulary = meta["char_vocabulary"]
        model.words.idf_ = weights["word_idf"]
        model.chars.idf_ = weights["char_idf"]
        model.classes = meta["classes"]
        model._set_weights(weights["coef"], weights["intercept"])
        model.scope_coef = weights["scope_coef"] if "scope_coef" in weights.files else None
        return model
