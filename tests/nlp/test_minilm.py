"""The NumPy MiniLM encoder: the real weights, sensible geometry."""
from __future__ import annotations

import numpy as np
import pytest

from bot.nlp.minilm import HIDDEN, MiniLM, shared


@pytest.fixture(scope="module")
def encoder() -> MiniLM:
    return shared()


def test_unit_vectors_one_per_text(encoder):
    vectors = encoder.encode(["how do i book a visit", "", "x" * 2000])
    assert vectors.shape == (3, HIDDEN)
    assert np.allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-4)


def test_paraphrases_are_close_and_strangers_far(encoder):
    a, b, c = encoder.encode(
        ["how do i book a prison visit", "how can I arrange to see my son in jail", "the weather is nice today"]
    )
    assert a @ b > 0.4
    assert a @ c < 0.15


def test_batches_do_not_change_the_answer(encoder):
    texts = ["hi", "what ID do I need to visit my dad in prison on saturday", "bailiffs"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)
