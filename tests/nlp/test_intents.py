"""The linear intent model: learns, ranks, and survives saving without pickles."""
from __future__ import annotations

import pytest

from bot.nlp.intents import LinearIntentModel, Settings

TEXTS = {
    "ask_visit_booking": ["how do i book a visit", "booking a prison visit", "visiting order help", "when can i visit him"],
    "ask_send_money": ["how do i send him money", "money for his canteen", "transfer cash to prison account", "send money online"],
    "greet": ["hello", "hiya", "good evening", "hi there"],
}
LEXICONS = {"lexicon_ask_send_money": ["postal order", "spends"]}


@pytest.fixture(scope="module", params=[0.0, 1.0], ids=["words", "words+embeddings"])
def model(request):
    texts = [t for examples in TEXTS.values() for t in examples]
    intents = [i for i, examples in TEXTS.items() for _ in examples]
    return LinearIntentModel(Settings(embedding_weight=request.param), LEXICONS).fit(texts, intents)


def test_predicts_a_full_ranking(model):
    (ranking,) = model.predict(["can i book to visit on sunday"])
    assert ranking[0][0] == "ask_visit_booking"
    assert sorted(name for name, _ in ranking) == sorted(TEXTS)
    assert abs(sum(p for _, p in ranking) - 1.0) < 1e-6


def test_lexicon_words_count_even_when_no_example_uses_them(model):
    (ranking,) = model.predict(["can i use a postal order for his spends"])
    assert ranking[0][0] == "ask_send_money"


def test_round_trip_without_pickles(model, tmp_path):
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "weights.npz"]
    reloaded = LinearIntentModel.load(tmp_path)
    texts = ["hello", "send cash", "visit times"]
    assert [r[0] for r in reloaded.predict(texts)] == pytest.approx([r[0] for r in model.predict(texts)])


def test_needs_two_intents():
    with pytest.raises(ValueError):
        LinearIntentModel().fit(["a", "b"], ["greet", "greet"])
