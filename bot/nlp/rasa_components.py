"""Rasa 3.6 NLU components wrapping bot.nlp: intents, places, profile, and two intent guards."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Text

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import profile
from bot.geo import gazetteer
from bot.nlp import follow_up, intents, places, scope  # places registers the spaCy factories the saved pipeline uses
from bot.nlp.clear_request import is_clear
from bot.nlp.language import detect as detect_language
from bot.nlp.needs import find_need
from bot.nlp.profile import find_profile
from bot.nlp.safety import DEATH_IN_CUSTODY, SAFETY_INTENTS, everyday_sense, news_for_prisoner, safety_intent
from bot.nlp.textmap import normalise_mapped

logger = logging.getLogger(__name__)

ENTITY_FOR_KIND = {places.AREA: "area", places.PRISON: "prison"}


def _entity(kind: str, value: str, start: int, end: int, extractor: str, confidence: float = 1.0) -> Dict[Text, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: kind,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        ENTITY_ATTRIBUTE_VALUE: value,
        EXTRACTOR: extractor,
        "confidence_entity": confidence,
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PlaceEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds `area` (a UK council) and `prison` entities with the spaCy pipeline from bot.nlp.places.

    Training builds the pipeline from the reference data and the training
    examples' vocabulary, and saves it inside the Rasa model.
    """

    SPACY_DIR = "spacy_places"

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, nlp: Any = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._finder = places.PlaceFinder(nlp) if nlp is not None else None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> PlaceEntityExtractor:
        return cls(config, model_storage, resource)

    @classmethod
    def required_packages(cls) -> List[Text]:
        return ["spacy", "rapidfuzz"]

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = places.words_of(m.get(TEXT) or "" for m in training_data.training_examples)
        nlp = places.build_pipeline(gazetteer(), vocabulary)
        with self._model_storage.write_to(self._resource) as path:
            nlp.to_disk(path / self.SPACY_DIR)
        self._finder = places.PlaceFinder(nlp)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any) -> PlaceEntityExtractor:
        with model_storage.read_from(resource) as path:
            nlp = spacy.load(path / cls.SPACY_DIR)
        return cls(config, model_storage, resource, nlp)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._finder is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            found = []
            matches, corrected = places.kept_places(text, self._finder.find(text), gazetteer())
            for kind in corrected:
                # "I'm not in Stockton any more, I'm in Leeds": the acknowledgement says it changed.
                found.append(_entity("corrected", ENTITY_FOR_KIND[kind], 0, len(text), self.name))
            for m in matches:
                confidence = 0.8 if m.fuzzy else 1.0
                found.append(_entity(ENTITY_FOR_KIND[m.kind], m.value, m.start, m.end, self.name, confidence))
                address = profile.prison_address(m.value) if m.kind == places.PRISON else None
                if address:
                    # The register address rides along with the prison it belongs to (slot prison_address).
                    found.append(_entity("prison_address", address, m.start, m.end, self.name, confidence))
                page = profile.prison_page(m.value) if m.kind == places.PRISON else None
                if page:
                    # So does its GOV.UK page (slot prison_page: the Safer Custody reply names it).
                    found.append(_entity("prison_page", page, m.start, m.end, self.name, confidence))
            nation = places.nation_from(matches, gazetteer()) if matches else None
            if nation:
                # One per message (slot nation): which prison system and services apply.
                value, m = nation
                found.append(_entity("nation", value, m.start, m.end, self.name, 0.8 if m.fuzzy else 1.0))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ProfileEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds relationship, profession, stage, child_age and number entities (bot.nlp.profile), and
    from them the two facts the conversation keeps: `audience` (family, young_person or
    professional: one per message) and `child_age_group` (the children's age band).
    """

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> ProfileEntityExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            matches = [_entity(m.entity, m.value, m.start, m.end, self.name) for m in find_profile(message.get(TEXT) or "")]
            found = [e for e in matches if e[ENTITY_ATTRIBUTE_TYPE] != "audience"]
            audience = profile.audience_from(matches)
            if audience:
                said = [e for e in matches if e[ENTITY_ATTRIBUTE_TYPE] == "audience" and e[ENTITY_ATTRIBUTE_VALUE] == audience]
                told = [e for e in matches if e[ENTITY_ATTRIBUTE_TYPE] in ("profession", "relationship")]
                found.append(self._derived("audience", audience, (said or told)[:1]))
            group = profile.child_age_group_from(matches)
            if group:
                found.append(self._derived("child_age_group", group, [e for e in found if e[ENTITY_ATTRIBUTE_TYPE] in ("child_age", "number")]))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def _derived(self, kind: str, value: str, basis: List[Dict[Text, Any]]) -> Dict[Text, Any]:
        """An entity worked out from others, spanning the words it was worked out from."""
        start = min(e[ENTITY_ATTRIBUTE_START] for e in basis)
        end = max(e[ENTITY_ATTRIBUTE_END] for e in basis)
        return _entity(kind, value, start, end, self.name)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NeedEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds the kind of help asked for (`need`, in the service directory's vocabulary; bot.nlp.needs)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> NeedEntityExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = find_need(text) if not text.startswith("/") else None
            if found:
                entity = _entity("need", found.need, found.start, found.end, self.name)
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages


def _set_intent(message: Message, name: str) -> None:
    """Make `name` the top intent with full confidence, keeping the classifier's ranking below it
    at half its confidence: the FallbackClassifier's ambiguity check (top two within 0.05) would
    otherwise undo a decided override whose runner-up the classifier was sure of ("what about
    Sunderland": inform over out_of_scope at 0.97)."""
    ranking = [
        {**r, PREDICTED_CONFIDENCE_KEY: r.get(PREDICTED_CONFIDENCE_KEY, 0.0) / 2}
        for r in message.get(INTENT_RANKING_KEY, [])
        if r.get(INTENT_NAME_KEY) != name
    ]
    top = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)


def _drop_intents(message: Message, names: Sequence[str]) -> None:
    """Take `names` out of the ranking: the best of the rest is the intent, at its own confidence
    (so the fallback classifier still judges it); none left is out_of_scope."""
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) not in names]
    top = ranking[0] if ranking else {INTENT_NAME_KEY: "out_of_scope", PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking or [top], add_to_output=True)


def _intent_name(message: Message) -> Optional[str]:
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyNetClassifier(GraphComponent):
    """Sends messages about risk of harm to the safety intents even when the classifier misses them."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> SafetyNetClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload names its intent itself
            urgent = safety_intent(text)
            current = _intent_name(message)
            # Someone who has died is past "ring Safer Custody": the death-in-custody answer wins over risk_prisoner.
            bereaved = urgent == DEATH_IN_CUSTODY and current in ("risk_prisoner", "express_distress")
            if urgent and urgent == current:
                # The classifier agrees, perhaps unsure: full confidence, so the fallback
                # classifier after this cannot turn a crisis into "sorry, I didn't understand".
                _set_intent(message, urgent)
            elif urgent and (bereaved or current not in SAFETY_INTENTS[:-1]) and not (urgent == "express_distress" and current in SAFETY_INTENTS):
                logger.info("Safety net raised intent %s over %s", urgent, current)
                _set_intent(message, urgent)
            elif current == DEATH_IN_CUSTODY and not urgent and news_for_prisoner(text):
                # "Mum died and my brother is in prison": news to pass on, not a death in custody.
                _set_intent(message, "ask_bad_news")
            elif current in SAFETY_INTENTS and not urgent and everyday_sense(text):
                # The classifier's crisis guess rests on a word in its everyday sense ("jump start
                # my car", "he hit the roof"): the next intent it ranked that is not a crisis.
                logger.info("Safety intent %s dropped: everyday sense", current)
                _drop_intents(message, SAFETY_INTENTS)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OtherLanguageClassifier(GraphComponent):
    """Sends a message in another language to `other_language` (bot.nlp.language), never over safety.

    The classifier is trained on English only, so its guess for a Polish or Urdu message is
    noise. An English safety phrase in the message ("ona chce umrzeć, she wants to die") leaves
    it to the safety net; a foreign message with 999 in it goes to the distress answer, which
    gives the emergency numbers.
    """

    INTENT = "other_language"
    # A classifier's safety intent this sure of itself is kept even for a foreign message.
    SAFETY_CONFIDENCE = 0.7

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> OtherLanguageClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue
            found = detect_language(text)
            if found is None:
                continue
            current = message.get(INTENT) or {}
            if safety_intent(text) or (
                current.get(INTENT_NAME_KEY) in SAFETY_INTENTS
                and (current.get(PREDICTED_CONFIDENCE_KEY) or 0) >= self.SAFETY_CONFIDENCE
            ):
                continue
            _set_intent(message, "express_distress" if found.emergency else self.INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ClearRequestClassifier(GraphComponent):
    """Sends a guess at a sensitive flow (delete my details, a call back, live chat) to the fallback
    when the message does not name what that flow does (bot.nlp.clear_request): "please delete
    my to-do list" is not a request to delete what the assistant holds."""

    FALLBACK = "nlu_fallback"

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> ClearRequestClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = _intent_name(message)
            if not is_clear(intent, message.get(TEXT) or ""):
                logger.info("Not a clear request for %s: fallback", intent)
                _set_intent(message, self.FALLBACK)
        return messages


# Words that can sit around an answer without adding a question: "I'm in Stockton", "she's 6".
_FILLER = frozenset(
    "i im am a an the his her my its it is in at near from live living we were are hes shes on and just only "
    "about age aged years year yrs old yo she he they theyre been got ok okay yes so well erm um council area "
    "postcode prison hmp yoi jail of our me ma mam me were based lives currently now "
    # a place asked about again, after an answer: "what about Sunderland", "how about durham then"
    "what how wot abt then instead also".split()
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ShortAnswerClassifier(GraphComponent):
    """Reads a short reply made only of facts ("Stockton", "his nan", "14", "on remand") as `inform`.

    Replies to "which area?" or "how old are they?" are too short for the
    classifier to place reliably; what they contain is clear from the entities.
    """

    MAX_WORDS = 6

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> ShortAnswerClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            # A need ("housing in Durham") is a request, not a fact about the asker.
            entities = [e for e in message.get(ENTITIES) or [] if e[ENTITY_ATTRIBUTE_TYPE] != "need"]
            if text.startswith("/") or not entities or _intent_name(message) in SAFETY_INTENTS:
                continue
            if len(text.split()) > self.MAX_WORDS:
                continue
            remainder = list(text)
            for e in entities:
                for i in range(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]):
                    remainder[i] = " "
            leftover = [w for w in normalise_mapped("".join(remainder)).text.split() if w not in _FILLER]
            if not leftover:
                _set_intent(message, "inform")
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NotedEntityExtractor(GraphComponent, EntityExtractorMixin):
    """On an `inform` message, adds entity `noted`: which fact it told us (slot last_noted).

    stage, prison, area, audience or child_age, the most useful first, or "nothing"
    when it told us nothing we keep; area_changed, prison_changed or audience_changed when it
    put right what we had (entity `corrected`, from the place and profile extractors); the acknowledgement rules (data/rules/profile.yml)
    choose their reply by it. Runs after the classifiers, which decide what is `inform`.
    Button payloads carry their own `noted`.
    """

    ENTITY = "noted"

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> NotedEntityExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or _intent_name(message) != "inform":
                continue
            entities = message.get(ENTITIES, [])
            noted = profile.last_noted_from(entities) or profile.NOTHING_NOTED
            if noted in profile.CORRECTABLE and any(e[ENTITY_ATTRIBUTE_TYPE] == "corrected" and e[ENTITY_ATTRIBUTE_VALUE] == noted for e in entities):
                noted = profile.changed(noted)  # "I'm in Leeds now, not Stockton": the reply says it changed
            message.set(ENTITIES, entities + [_entity(self.ENTITY, noted, 0, len(text), self.name)], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class FollowUpEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Marks a short follow-up ("what about my daughter?", "how far is it by bus?") with entity
    `follow_up`, the aspect it asks about (bot.nlp.follow_up). The intent is left as the
    classifier read it: what the follow-up means depends on the conversation, which the
    dialogue knows (bot.dialogue.follow_up). Never on a safety message or another language.
    """

    ENTITY = "follow_up"

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> FollowUpEntityExtractor:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or _intent_name(message) in (*SAFETY_INTENTS, OtherLanguageClassifier.INTENT):
                continue
            found = follow_up.find_follow_up(text)
            if found is None or safety_intent(text):
                continue
            entity = _entity(self.ENTITY, found.facet, found.start, found.end, self.name)
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages


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
                _set_intent(message, scope.OUT_OF_SCOPE)
        return messages

    def _out_of_scope(self, intent: str, outside: Optional[float]) -> bool:
        if outside is None or intent == scope.OUT_OF_SCOPE:
            return False
        if intent in SAFETY_INTENTS:
            return outside >= self._config["scope_safety_threshold"]
        return outside >= self._config["scope_threshold"]
