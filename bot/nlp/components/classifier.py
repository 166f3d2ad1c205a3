"""The intent classifier as a Rasa component: bot.nlp.intents, with the out-of-scope check."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp import intents, scope
from bot.nlp.components.messages import set_intent
from bot.nlp.safety import SAFETY_INTENTS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent):
    """Intent classification with bot.nlp.intents (TF-IDF + lexicons + MiniLM embeddings, logistic regression)."""

    MODEL_DIR = "linear_intents"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "c": 20.0,
            "word_ngrams": [1, 3],
            "char_ngrams": [1, 5],
            "lexicon_weight": 1.0,
            "embedding_weight": 1.0,
            "extra_layers": [],
            "extra_layer_weight": 1.0,
            "ranking_length": 10,
            # The out-of-scope check (trained when the data has the lookup tables scope_outside and
            # scope_inside, data/nlu/scope_clinc150.yml): at or above this probability a message is
            # out_of_scope, whatever intent the classifier ranked first (unless it names the field:
            # bot.nlp.scope.names_the_field)...
            "scope_c": 5.0,
            "scope_threshold": 0.9,
            # ...except a safety intent, which needs this much more certainty to be declined. The safety
            # net's rules (SafetyNetClassifier) still raise a crisis message whatever this says.
            "scope_safety_threshold": 0.95,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model: Any = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _settings(self) -> "intents.Settings":
        return intents.Settings(
            word_ngrams=tuple(self._config["word_ngrams"]),
            char_ngrams=tuple(self._config["char_ngrams"]),
            c=float(self._config["c"]),
            lexicon_weight=float(self._config["lexicon_weight"]),
            embedding_weight=float(self._config["embedding_weight"]),
            extra_layers=tuple(int(layer) for layer in self._config["extra_layers"]),
            extra_layer_weight=float(self._config["extra_layer_weight"]),
            scope_c=float(self._config["scope_c"]),
        )

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        # A lookup table may be split over several files (data/nlu/lexicons_*.yml): join them, or
        # the last file read would silently replace the others.
        lexicons: Dict[str, List[str]] = {}
        scope_examples: Dict[str, List[str]] = {scope.OUTSIDE: [], scope.INSIDE: []}
        for table in training_data.lookup_tables:
            if table["name"].startswith("lexicon_"):
                lexicons.setdefault(table["name"], []).extend(table["elements"])
            elif table["name"] in scope_examples:
                scope_examples[table["name"]].extend(table["elements"])
        self._model = intents.LinearIntentModel(self._settings(), lexicons).fit(
            [m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples],
            outside=scope_examples[scope.OUTSIDE], inside=scope_examples[scope.INSIDE],
        )
        with self._model_storage.write_to(self._resource) as path:
            self._model.save(path / self.MODEL_DIR)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        with model_storage.read_from(resource) as path:
            model = intents.LinearIntentModel.load(path / cls.MODEL_DIR)
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        # A button payload ("/ask_visit_booking{...}") names its intent, which Rasa's RegexMessageHandler
        # applies at the end of the pipeline; no need to classify it.
        typed = []
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                named = {INTENT_NAME_KEY: text[1:].split("{", 1)[0].strip(), PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, named, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [named], add_to_output=True)
            else:
                typed.append(message)
        if not typed:
            return messages
        for message, (ranking, outside) in zip(typed, self._model.predict_with_scope([m.get(TEXT) or "" for m in typed])):
            ranked = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: p} for name, p in ranking[: self._config["ranking_length"]]]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)
            if self._out_of_scope(ranking[0][0], outside) and not scope.names_the_field(message.get(TEXT)):
                set_intent(message, scope.OUT_OF_SCOPE)
        return messages

    def _out_of_scope(self, intent: str, outside: Optional[float]) -> bool:
        if outside is None or intent == scope.OUT_OF_SCOPE:
            return False
        if intent in SAFETY_INTENTS:
            return outside >= self._config["scope_safety_threshold"]
        return outside >= self._config["scope_threshold"]
