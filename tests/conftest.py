"""Shared fixtures: real rasa_sdk trackers and dispatchers, and the trained model's location."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A rasa_sdk Tracker as the action server would receive it."""

    def make(
        slots: dict[str, Any] | None = None,
        intent: str = "inform",
        entities: list[dict[str, Any]] | None = None,
        text: str = "",
        previous_action: str | None = None,
    ) -> Tracker:
        events: list[dict[str, Any]] = [{"event": "action", "name": "action_listen"}]
        if previous_action:
            events = [
                {"event": "user", "text": "earlier", "parse_data": {"intent": {"name": "greet"}, "entities": []}},
                {"event": "action", "name": previous_action},
                {"event": "bot", "text": "(question)"},
                {"event": "action", "name": "action_listen"},
            ]
        latest = {"intent": {"name": intent, "confidence": 1.0}, "entities": entities or [], "text": text}
        events.append({"event": "user", "text": text, "parse_data": latest})
        return Tracker(
            sender_id="test-user",
            slots=slots or {},
            latest_message=latest,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return make


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = ROOT / "models" / "current.tar.gz"
    if not path.exists():
        pytest.skip("no trained model: run `make train`")
    return path
