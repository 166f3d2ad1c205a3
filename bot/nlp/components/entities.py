"""Entities found by rules over reference data and word lists: places and prisons, facts about the
asker, the help asked for, what an answer told us, and the aspect a follow-up asks about."""
from __future__ import annotations

from typing import Any, Dict, List, Text

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
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import profile
from bot.geo import gazetteer
from bot.nlp import follow_up, places  # places registers the spaCy factories the saved pipeline uses
from bot.nlp.components.guards import OtherLanguageClassifier
from bot.nlp.components.messages import RuleComponent, entity, intent_name
from bot.nlp.needs import find_need
from bot.nlp.profile import find_profile
from bot.nlp.safety import SAFETY_INTENTS, safety_intent

ENTITY_FOR_KIND = {places.AREA: "area", places.PRISON: "prison"}


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
                found.append(entity("corrected", ENTITY_FOR_KIND[kind], 0, len(text), self.name))
            for m in matches:
                confidence = 0.8 if m.fuzzy else 1.0
                found.append(entity(ENTITY_FOR_KIND[m.kind], m.value, m.start, m.end, self.name, confidence))
                address = profile.prison_address(m.value) if m.kind == places.PRISON else None
                if address:
                    # The register address rides along with the prison it belongs to (slot prison_address).
                    found.append(entity("prison_address", address, m.start, m.end, self.name, confidence))
                page = profile.prison_page(m.value) if m.kind == places.PRISON else None
                if page:
                    # So does its GOV.UK page (slot prison_page: the Safer Custody reply names it).
                    found.append(entity("prison_page", page, m.start, m.end, self.name, confidence))
            nation = places.nation_from(matches, gazetteer()) if matches else None
            if nation:
                # One per message (slot nation): which prison system and services apply.
                value, m = nation
                found.append(entity("nation", value, m.start, m.end, self.name, 0.8 if m.fuzzy else 1.0))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ProfileEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Finds relationship, profession, stage, child_age and number entities (bot.nlp.profile), and
    from them the two facts the conversation keeps: `audience` (family, young_person or
    professional: one per message) and `child_age_group` (the children's age band).
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            matches = [entity(m.entity, m.value, m.start, m.end, self.name) for m in find_profile(message.get(TEXT) or "")]
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
        return entity(kind, value, start, end, self.name)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NeedEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Finds the kind of help asked for (`need`, in the service directory's vocabulary; bot.nlp.needs)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = find_need(text) if not text.startswith("/") else None
            if found:
                found_entity = entity("need", found.need, found.start, found.end, self.name)
                message.set(ENTITIES, message.get(ENTITIES, []) + [found_entity], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class NotedEntityExtractor(RuleComponent, EntityExtractorMixin):
    """On an `inform` message, adds entity `noted`: which fact it told us (slot last_noted).

    stage, prison, area, audience or child_age, the most useful first, or "nothing"
    when it told us nothing we keep; area_changed, prison_changed or audience_changed when it
    put right what we had (entity `corrected`, from the place and profile extractors); the acknowledgement rules (data/rules/profile.yml)
    choose their reply by it. Runs after the classifiers, which decide what is `inform`.
    Button payloads carry their own `noted`.
    """

    ENTITY = "noted"

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or intent_name(message) != "inform":
                continue
            entities = message.get(ENTITIES, [])
            noted = profile.last_noted_from(entities) or profile.NOTHING_NOTED
            if noted in profile.CORRECTABLE and any(e[ENTITY_ATTRIBUTE_TYPE] == "corrected" and e[ENTITY_ATTRIBUTE_VALUE] == noted for e in entities):
                noted = profile.changed(noted)  # "I'm in Leeds now, not Stockton": the reply says it changed
            message.set(ENTITIES, entities + [entity(self.ENTITY, noted, 0, len(text), self.name)], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class FollowUpEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Marks a short follow-up ("what about my daughter?", "how far is it by bus?") with entity
    `follow_up`, the aspect it asks about (bot.nlp.follow_up). The intent is left as the
    classifier read it: what the follow-up means depends on the conversation, which the
    dialogue knows (bot.dialogue.follow_up). Never on a safety message or another language.
    """

    ENTITY = "follow_up"

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or intent_name(message) in (*SAFETY_INTENTS, OtherLanguageClassifier.INTENT):
                continue
            found = follow_up.find_follow_up(text)
            if found is None or safety_intent(text):
                continue
            found_entity = entity(self.ENTITY, found.facet, found.start, found.end, self.name)
            message.set(ENTITIES, message.get(ENTITIES, []) + [found_entity], add_to_output=True)
        return messages
