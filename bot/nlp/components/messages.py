"""Reading and setting the intent and entities of a Rasa message, shared by the components."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.scope import OUT_OF_SCOPE


class RuleComponent(GraphComponent):
    """A component made of rules only: nothing to train, configure or store, so Rasa creates
    it the same way every time (subclasses write only `process`)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> GraphComponent:
        return cls()


def entity(kind: str, value: str, start: int, end: int, extractor: str, confidence: float = 1.0) -> Dict[Text, Any]:
    """An entity as Rasa keeps it in a message."""
    return {
        ENTITY_ATTRIBUTE_TYPE: kind,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        ENTITY_ATTRIBUTE_VALUE: value,
        EXTRACTOR: extractor,
        "confidence_entity": confidence,
    }


def set_intent(message: Message, name: str) -> None:
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


def drop_intents(message: Message, names: Sequence[str]) -> None:
    """Take `names` out of the ranking: the best of the rest is the intent, at its own confidence
    (so the fallback classifier still judges it); none left is out_of_scope."""
    ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) not in names]
    top = ranking[0] if ranking else {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking or [top], add_to_output=True)


def intent_name(message: Message) -> Optional[str]:
    """The message's intent so far (None before a classifier has run)."""
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
