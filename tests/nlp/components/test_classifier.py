"""The intent classifier component (bot/nlp/components/classifier.py), driven through Rasa's graph-component interfaces."""
from __future__ import annotations

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.components.classifier import LinearIntentClassifier


def test_intent_classifier_trains_loads_and_leaves_payloads_to_rasa(storage, context):
    examples = {
        "ask_visit_booking": ["how do i book a visit", "booking a prison visit", "can i visit him", "visit booking line"],
        "send_money": ["how do i send him money", "send money to a prisoner", "put cash on his account", "money for canteen"],
    }
    training = TrainingData([Message({TEXT: t, INTENT: i}) for i, texts in examples.items() for t in texts])
    config = {"embedding_weight": 0.0}  # the sentence encoder has its own tests
    resource = Resource("intents")
    LinearIntentClassifier.create(config, storage, resource, context).train(training)
    classifier = LinearIntentClassifier.load(config, storage, resource, context)
    typed, payload = classifier.process([Message({TEXT: "send him money"}), Message({TEXT: '/ask_visit_booking{"area": "x"}'})])
    assert typed.get(INTENT)["name"] == "send_money"
    assert [r["name"] for r in typed.get(INTENT_RANKING_KEY)] == ["send_money", "ask_visit_booking"]
    assert payload.get(INTENT) == {"name": "ask_visit_booking", "confidence": 1.0}


def test_a_message_the_check_finds_out_of_scope_is_declined_but_a_crisis_needs_more(storage, context):
    """The out-of-scope check trains on the lookup tables scope_outside and scope_inside
    (data/nlu/scope_clinc150.yml); at or above scope_threshold the intent is out_of_scope, and a
    safety intent needs scope_safety_threshold."""
    examples = {
        "ask_visit_booking": ["how do i book a visit", "booking a prison visit", "can i visit him", "visit booking line"],
        "ask_send_money": ["how do i send him money", "send money to a prisoner", "put cash on his account", "money for canteen"],
        "out_of_scope": ["tell me a joke", "who won the match"],
    }
    outside = ["transfer 100 dollars to my savings", "what is the weather in paris", "set a timer for ten minutes",
               "how long do i cook rice", "play my workout playlist", "what is my credit score", "book a table for two"]
    training = TrainingData(
        [Message({TEXT: t, INTENT: i}) for i, texts in examples.items() for t in texts],
        lookup_tables=[{"name": "scope_outside", "elements": outside}, {"name": "scope_inside", "elements": ["hello there"]}],
    )
    config = {"embedding_weight": 0.0, "scope_threshold": 0.6}
    resource = Resource("scoped")
    LinearIntentClassifier.create(config, storage, resource, context).train(training)
    classifier = LinearIntentClassifier.load(config, storage, resource, context)
    weather, visit = classifier.process([Message({TEXT: "what is the weather in london"}), Message({TEXT: "book a visit"})])
    assert weather.get(INTENT)["name"] == "out_of_scope"
    assert visit.get(INTENT)["name"] == "ask_visit_booking"
    assert classifier._out_of_scope("ask_money", 0.7)
    assert not classifier._out_of_scope("risk_self", 0.7)
    assert classifier._out_of_scope("risk_self", 0.96)
    assert not classifier._out_of_scope("ask_money", None)


def test_a_message_that_names_the_field_keeps_the_classifiers_intent(storage, context):
    class Sure:  # a model whose out-of-scope check is sure of everything
        def predict_with_scope(self, texts):
            return [([("ask_visit_booking", 0.6), ("out_of_scope", 0.4)], 0.99) for _ in texts]

    classifier = LinearIntentClassifier({}, storage, Resource("sure"), Sure())
    table, visit = classifier.process([Message({TEXT: "can i book a table"}), Message({TEXT: "can i change my visit date"})])
    assert table.get(INTENT)["name"] == "out_of_scope"
    assert visit.get(INTENT)["name"] == "ask_visit_booking"


def test_a_lexicon_split_over_two_files_is_joined(tmp_path):
    """data/nlu/lexicons_textspeak.yml adds to lexicons defined in another file: both halves count."""
    examples = [Message(data={"text": t, "intent": i}) for t, i in [
        ("how do i book a visit", "ask_visit_booking"), ("book me in to see him", "ask_visit_booking"),
        ("what can i take in", "ask_visit_rules"), ("what id do i need", "ask_visit_rules"),
    ]]
    tables = [{"name": "lexicon_ask_visit_rules", "elements": ["what id"]},
              {"name": "lexicon_ask_visit_rules", "elements": ["wot can i take"]},
              {"name": "lexicon_ask_visit_booking", "elements": ["book a visit"]}]
    storage = LocalModelStorage(tmp_path)
    component = LinearIntentClassifier({"embedding_weight": 0.0}, storage, Resource("linear"))
    component.train(TrainingData(training_examples=examples, lookup_tables=tables))
    assert component._model.lexicons["lexicon_ask_visit_rules"] == ["what id", "wot can i take"]
