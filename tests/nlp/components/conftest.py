"""Fixtures for driving the components through Rasa's own graph-component interfaces."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


@pytest.fixture
def context():
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def _message(text, intent="ask_visit_booking", confidence=0.6, entities=None):
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    if entities is not None:
        m.set(ENTITIES, entities)
    return m


@pytest.fixture
def message():
    """A factory of messages as the classifier leaves them: message(text, intent=, confidence=, entities=)."""
    return _message
