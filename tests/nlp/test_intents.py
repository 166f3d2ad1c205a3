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


OUTSIDE = ["transfer 100 dollars to my savings", "what is the weather in paris", "set a timer for ten minutes",
           "how long do i cook rice", "play my workout playlist", "what is my credit score", "book a table for two",
           "how do i jump start my car"]
INSIDE = ["hello there", "thanks a lot", "goodbye for now"]


@pytest.fixture(scope="module")
def scoped():
    texts = [t for examples in TEXTS.values() for t in examples] + ["tell me a joke", "whats the football score"]
    intents = [i for i, examples in TEXTS.items() for _ in examples] + ["out_of_scope"] * 2
    return LinearIntentModel(Settings(embedding_weight=0.0), LEXICONS).fit(texts, intents, outside=OUTSIDE, inside=INSIDE)


def test_the_out_of_scope_check_separates_everyday_queries_from_the_topics(scoped):
    (_, visit), (_, weather), (_, hello) = scoped.predict_with_scope(["can i book a visit", "what is the weather in london", "hello"])
    assert weather > 0.5 > visit
    assert hello < 0.5


def test_the_out_of_scope_check_survives_saving(scoped, tmp_path):
    scoped.save(tmp_path)
    reloaded = LinearIntentModel.load(tmp_path)
    texts = ["send him money", "set an alarm for 7"]
    assert [p for _, p in reloaded.predict_with_scope(texts)] == pytest.approx([p for _, p in scoped.predict_with_scope(texts)])


def test_without_everyday_queries_there_is_no_check(model):
    assert [p for _, p in model.predict_with_scope(["hello"])] == [None]
