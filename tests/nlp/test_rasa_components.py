"""The Rasa components, driven through Rasa's own graph-component interfaces."""
from __future__ import annotations

from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.rasa_components import (
    FollowUpEntityExtractor,
    LinearIntentClassifier,
    NotedEntityExtractor,
    PlaceEntityExtractor,
    ProfileEntityExtractor,
    SafetyNetClassifier,
    ShortAnswerClassifier,
)


@pytest.fixture
def context():
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def message(text, intent="ask_visit_booking", confidence=0.6, entities=None):
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    if entities is not None:
        m.set(ENTITIES, entities)
    return m


def test_place_extractor_trains_persists_and_loads(storage, context):
    resource = Resource("places")
    training = TrainingData([Message({TEXT: "how do i book a visit", INTENT: "ask_visit_booking"})])
    extractor = PlaceEntityExtractor.create({}, storage, resource, context)
    extractor.train(training)
    loaded = PlaceEntityExtractor.load({}, storage, resource, context)
    (msg,) = loaded.process([message("can i visit hmp low newton from stockon")])
    entities = {(e["entity"], e["value"]) for e in msg.get(ENTITIES)}
    assert entities == {
        ("prison", "HMP Low Newton"),
        ("prison_address", "Brasside, Durham, DH1 5YA"),
        ("prison_page", "https://www.gov.uk/guidance/low-newton-prison"),
        ("area", "Stockton-on-Tees"),
        ("nation", "england"),  # the prison's: HMP Low Newton is in England
    }
    fuzzy = next(e for e in msg.get(ENTITIES) if e["entity"] == "area")
    assert fuzzy["confidence_entity"] < 1.0 and fuzzy["extractor"] == "PlaceEntityExtractor"


def profile_entities(storage, context, text):
    extractor = ProfileEntityExtractor.create({}, storage, Resource("profile"), context)
    (msg,) = extractor.process([message(text)])
    return {(e["entity"], e["value"]) for e in msg.get(ENTITIES)}


def test_profile_extractor_adds_entities_and_who_is_asking(storage, context):
    assert profile_entities(storage, context, "im his nan and hes on remand") == {
        ("relationship", "grandparent"), ("stage", "remand"), ("audience", "family"),
    }


def test_a_teacher_is_a_professional(storage, context):
    assert ("audience", "professional") in profile_entities(storage, context, "im a teacher")


def test_one_audience_per_message_a_young_person_first(storage, context):
    found = profile_entities(storage, context, "im 14 and my dad is in prison")
    assert [v for e, v in found if e == "audience"] == ["young_person"]


def test_childrens_ages_give_their_band(storage, context):
    assert ("child_age_group", "mixed") in profile_entities(storage, context, "my kids are 3 and 9")
    assert ("child_age_group", "5_to_11") in profile_entities(storage, context, "6")
    assert not any(e == "child_age_group" for e, _ in profile_entities(storage, context, "40"))


def test_derived_entities_span_the_words_they_come_from(storage, context):
    extractor = ProfileEntityExtractor.create({}, storage, Resource("profile"), context)
    text = "hi im a social worker"
    (msg,) = extractor.process([message(text)])
    audience = next(e for e in msg.get(ENTITIES) if e["entity"] == "audience")
    assert "social worker" in text[audience["start"] : audience["end"]]


@pytest.mark.parametrize(
    "intent, entities, expected",
    [
        ("inform", [{"entity": "stage", "value": "remand", "start": 0, "end": 6}, {"entity": "area", "value": "Durham", "start": 10, "end": 16}], "stage"),
        ("inform", [{"entity": "prison", "value": "HMP Durham", "start": 0, "end": 10}], "prison"),
        ("inform", [{"entity": "number", "value": "40", "start": 0, "end": 2}], "nothing"),
        ("ask_visit_booking", [{"entity": "prison", "value": "HMP Durham", "start": 0, "end": 10}], None),
        # a fact put right: the reply says it changed
        ("inform", [{"entity": "area", "value": "Leeds", "start": 0, "end": 5}, {"entity": "corrected", "value": "area", "start": 0, "end": 5}], "area_changed"),
        ("inform", [{"entity": "audience", "value": "family", "start": 0, "end": 5}, {"entity": "corrected", "value": "audience", "start": 0, "end": 5}], "audience_changed"),
        # a correction of something the message does not give (the stage) changes nothing noted
        ("inform", [{"entity": "area", "value": "Leeds", "start": 0, "end": 5}, {"entity": "corrected", "value": "stage", "start": 0, "end": 5}], "area"),
    ],
)
def test_noted_says_what_an_inform_message_told_us(storage, context, intent, entities, expected):
    extractor = NotedEntityExtractor.create({}, storage, Resource("noted"), context)
    (msg,) = extractor.process([message("some text here", intent=intent, entities=entities)])
    noted = [e["value"] for e in msg.get(ENTITIES) if e["entity"] == "noted"]
    assert noted == ([expected] if expected else [])


def test_noted_leaves_button_payloads_alone(storage, context):
    extractor = NotedEntityExtractor.create({}, storage, Resource("noted"), context)
    (msg,) = extractor.process([message('/inform{"stage": "arrested", "noted": "stage"}', intent="inform", entities=[])])
    assert msg.get(ENTITIES) == []


def test_safety_net_overrides_a_topic_intent(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("he keeps saying hell kill himself in there", intent="ask_keep_in_touch")])
    assert msg.get(INTENT) == {"name": "risk_prisoner", "confidence": 1.0}
    assert [r["name"] for r in msg.get(INTENT_RANKING_KEY)] == ["risk_prisoner", "ask_keep_in_touch"]


def test_safety_net_keeps_the_classifiers_safety_intent(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message("i cant cope, i want to die", intent="risk_self", confidence=0.9)])
    assert msg.get(INTENT)["name"] == "risk_self"


def test_safety_net_confirms_an_unsure_classifier_so_the_fallback_cannot_drop_a_crisis(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    fallback = FallbackClassifier.create({**FallbackClassifier.get_default_config(), "threshold": 0.35}, storage, Resource("fb"), context)
    msg = message("i have no reason to go on living without him", intent="risk_self", confidence=0.34)
    (msg,) = fallback.process(net.process([msg]))
    assert msg.get(INTENT) == {"name": "risk_self", "confidence": 1.0}


def test_safety_net_drops_a_crisis_guess_that_rests_on_an_everyday_sense(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("safety"), context)
    m = message("who can jump off my dead car battery", intent="risk_self", confidence=0.8)
    m.set(INTENT_RANKING_KEY, [{"name": "risk_self", "confidence": 0.8}, {"name": "express_distress", "confidence": 0.1},
                               {"name": "out_of_scope", "confidence": 0.06}])
    (msg,) = net.process([m])
    assert msg.get(INTENT) == {"name": "out_of_scope", "confidence": 0.06}
    # a crisis phrase as well: the rules keep the crisis
    (kept,) = net.process([message("my phone is dead and i want to die", intent="risk_self", confidence=0.8)])
    assert kept.get(INTENT)["name"] == "risk_self"


def test_safety_net_ignores_button_payloads(storage, context):
    net = SafetyNetClassifier.create({}, storage, Resource("net"), context)
    (msg,) = net.process([message('/inform{"stage": "arrested"}', intent="inform", confidence=1.0)])
    assert msg.get(INTENT)["name"] == "inform"


@pytest.mark.parametrize(
    "text, entities, expected",
    [
        ("Stockton", [{"entity": "area", "start": 0, "end": 8, "value": "Stockton-on-Tees"}], "inform"),
        ("im in stockton", [{"entity": "area", "start": 6, "end": 14, "value": "Stockton-on-Tees"}], "inform"),
        ("6", [{"entity": "number", "start": 0, "end": 1, "value": "6"}], "inform"),
        # a follow-up naming another place (issue 14): the search runs again there
        ("what about Sunderland", [{"entity": "area", "start": 11, "end": 21, "value": "Sunderland"}], "inform"),
        ("how about durham then?", [{"entity": "area", "start": 10, "end": 16, "value": "County Durham"}], "inform"),
        ("visiting times at hmp durham", [{"entity": "prison", "start": 18, "end": 28, "value": "HMP Durham"}], "ask_visit_booking"),
        ("how do i book", [], "ask_visit_booking"),
    ],
)
def test_short_answers_become_inform(storage, context, text, entities, expected):
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    (msg,) = classifier.process([message(text, entities=entities)])
    assert msg.get(INTENT)["name"] == expected


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


def test_a_guess_at_a_sensitive_flow_without_a_clear_request_falls_back(storage, context):
    from bot.nlp.rasa_components import ClearRequestClassifier

    gate = ClearRequestClassifier.create({}, storage, Resource("clear"), context)
    todo, details, button = gate.process([
        message("please delete my todo list", intent="delete_my_data"),
        message("please delete my details", intent="delete_my_data"),
        message("/delete_my_data", intent="delete_my_data"),
    ])
    assert todo.get(INTENT)["name"] == "nlu_fallback"
    assert details.get(INTENT)["name"] == "delete_my_data"
    assert button.get(INTENT)["name"] == "delete_my_data"


def test_a_lexicon_split_over_two_files_is_joined(tmp_path):
    """data/nlu/lexicons_textspeak.yml adds to lexicons defined in another file: both halves count."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlp.rasa_components import LinearIntentClassifier

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


def test_an_override_is_not_undone_by_the_fallbacks_ambiguity_check(storage, context):
    """The classifier was sure of out_of_scope (0.97); the short-answer rule makes it inform. The
    ranking below keeps its order at half confidence, so top two are never within 0.05."""
    classifier = ShortAnswerClassifier.create({}, storage, Resource("short"), context)
    msg = message("what about Sunderland", entities=[{"entity": "area", "start": 11, "end": 21, "value": "Sunderland"}])
    msg.set(INTENT, {"name": "out_of_scope", "confidence": 0.97})
    msg.set("intent_ranking", [{"name": "out_of_scope", "confidence": 0.97}, {"name": "inform", "confidence": 0.02}])
    (msg,) = classifier.process([msg])
    ranking = msg.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["inform", "out_of_scope"]
    assert ranking[0]["confidence"] - ranking[1]["confidence"] > 0.05


@pytest.mark.parametrize("text, intent, expected", [
    ("what about my daughter?", "ask_child_feelings", "children"),
    ("how far is it by bus?", "nlu_fallback", "travel"),
    ("what about me, i want to end it all", "ask_own_wellbeing", None),  # the safety net's words: never a follow-up
    ("and money-wise?", "risk_self", None),  # nor a message the classifier reads as a crisis
    ("what about my daughter?", "other_language", None),
    ("/ask_money", "ask_money", None),
    ("how do i book a visit", "ask_visit_booking", None),
])
def test_follow_ups_are_marked_with_their_facet_and_the_intent_is_left_alone(storage, context, text, intent, expected):
    extractor = FollowUpEntityExtractor.create({}, storage, Resource("follow_up"), context)
    (msg,) = extractor.process([message(text, intent=intent, entities=[])])
    assert [e["value"] for e in msg.get(ENTITIES) if e["entity"] == "follow_up"] == ([expected] if expected else [])
    assert msg.get(INTENT)["name"] == intent
