"""The NLU training data is clean: no repeats, no near-copies, every intent well covered.

Near-copies matter beyond tidiness: one half of a pair in the training split and
the other in the held-out split would flatter the held-out accuracy.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import yaml
from tests.support.nlu_examples import DATA, examples
from sklearn.feature_extraction.text import TfidfVectorizer

DOMAIN = yaml.safe_load((DATA.parents[1] / "domain.yml").read_text())


def lexicons():
    found = {}
    for path in sorted(DATA.glob("lexicons_*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            # one lexicon may be split over several files (LinearIntentClassifier joins them)
            found.setdefault(block["lookup"], []).extend(line.strip()[2:] for line in block["examples"].splitlines() if line.strip())
    return found


def normalised(text):
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower().replace("'", "")).split())


def test_no_example_appears_twice():
    counts = Counter(normalised(t) for _, t in examples())
    assert [t for t, n in counts.items() if n > 1] == []


def test_no_near_copies():
    items = [(i, t) for i, t in examples() if len(normalised(t).split()) >= 5]
    texts = [normalised(t) for _, t in items]
    matrix = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(texts)
    pairs = []
    for start in range(0, matrix.shape[0], 500):
        block = (matrix[start : start + 500] @ matrix.T).toarray()
        for r, c in zip(*np.nonzero(block > 0.85)):
            if start + r < c:
                pairs.append((texts[start + r], texts[c]))
    assert len(pairs) <= 10, pairs[:20]


def test_every_intent_is_trained_and_well_covered():
    counts = Counter(i for i, _ in examples())
    # EXTERNAL_ intents are triggered by our code through Rasa's API (the live-chat sweep),
    # never typed: they have no examples, and nobody can type one (public channels refuse
    # slash-intents).
    # other_language is set by a rule component (bot.nlp.language), never learnt: examples in other
    # languages would teach the classifier nothing it can use on English, and none may come from English.
    typed = {i for i in DOMAIN["intents"] if not i.startswith("EXTERNAL_") and i != "other_language"}
    assert set(counts) == typed
    thin = {i: n for i, n in counts.items() if n < 40}
    assert thin == {}


def test_every_topic_intent_has_a_lexicon_and_lexicons_are_distinct():
    found = lexicons()
    for intent in DOMAIN["intents"]:
        if intent.startswith(("ask_", "risk_")) or intent in ("express_distress", "out_of_scope"):
            assert f"lexicon_{intent}" in found, intent
    owners = Counter(normalised(term) for terms in found.values() for term in set(map(normalised, terms)))
    shared = [t for t, n in owners.items() if n > 1]
    assert len(shared) <= 25, shared
