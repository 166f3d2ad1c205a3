"""Shared fixtures: real rasa_sdk trackers and dispatchers, real databases (SQLite and the
PostgreSQL server on this machine), and the trained model's location."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("FC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg2

    name = f"fc_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from bot import db

        db.engine_for.cache_clear()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """An empty database with no tables yet: SQLite in a temporary file, then PostgreSQL."""
    from bot import db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        yield url
        db.engine_for(url).dispose()
        db.engine_for.cache_clear()
    else:
        for url in _postgres_database():
            yield url
            db.engine_for(url).dispose()


@pytest.fixture
def database_url(empty_database_url) -> str:
    """An empty database at the newest schema: SQLite in a temporary file, then PostgreSQL."""
    from bot import db

    db.upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def session_for(database_url):
    """Open a session on the test database: `with session_for() as s, s.begin(): ...`."""
    from bot import db

    return db.session_factory(database_url)


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
    """The trained model the end-to-end tests serve: models/current.tar.gz, or FC_TEST_MODEL."""
    path = Path(os.environ.get("FC_TEST_MODEL") or ROOT / "models" / "current.tar.gz")
    if not path.exists():
        pytest.skip("no trained model: run `make train`")
    return path


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's chromium, headless, driven by Playwright (`make chromium` installs it)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def tracker_url(tmp_path) -> str:
    """A tracker store of Rasa's own (SQLite) for one test."""
    return f"sqlite:///{tmp_path / 'tracker.db'}"
