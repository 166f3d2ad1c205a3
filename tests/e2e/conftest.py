"""The real servers every end-to-end test talks to: the action server and Rasa with the trained
model, the REST channel, a SQLite tracker store and database. One set for the whole run (each
test uses its own conversation ids), so each module does not pay the start-up again."""
from __future__ import annotations

import pytest
import yaml

from bot.endpoints import tracker_store_endpoint
from bot.servers import Servers, free_port


@pytest.fixture(scope="session")
def servers(model_path, tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    actions_port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump(
            {
                "action_endpoint": {"url": f"http://localhost:{actions_port}/webhook"},
                "tracker_store": tracker_store_endpoint(f"sqlite:///{work / 'tracker.db'}"),
            }
        )
    )
    with Servers(
        model=model_path, rasa_port=free_port(), actions_port=actions_port, endpoints=endpoints, log_dir=work / "logs",
        database_url=f"sqlite:///{work / 'families_connect.db'}",
    ) as running:
        running.tracker_db = work / "tracker.db"
        yield running
