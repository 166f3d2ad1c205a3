"""`make run` honours its settings (issue 16, item 1): with non-default ports, FC_VAR_DIR and no
other configuration, Rasa, the action server, the console and the directory API all move, Rasa's
endpoints are written from the settings into that directory, a call back lands in the databases
there, and the directory API answers over HTTP (issue 18)."""
from __future__ import annotations

import sqlite3
import uuid

import pytest
import requests
import yaml
from sqlalchemy import select

from bot import db
from bot.referrals.models import Case
from bot.run import servers_for
from bot.servers import free_port
from bot.settings import ROOT, Settings
from tests.support import hsds_schemas
from tests.support.rest import ask_for_a_call_back

pytestmark = pytest.mark.e2e


def test_a_call_back_through_servers_started_from_settings(model_path, tmp_path, monkeypatch):
    var = tmp_path / "var"
    for name in ("DATABASE_URL", "TRACKER_STORE_URL", "LOCK_STORE_URL", "ACTION_SERVER_SECRET", "RASA_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "CONSOLE_PORT": free_port(), "DIRECTORY_API_PORT": free_port()}
    for name, port in ports.items():
        monkeypatch.setenv(name, str(port))
    monkeypatch.setenv("FC_VAR_DIR", str(var))
    monkeypatch.setenv("RASA_MODEL", str(model_path))
    settings = Settings.from_env()
    servers = servers_for(settings)
    servers.log_dir = tmp_path / "logs"
    with servers:
        assert servers.rasa_url.endswith(f":{ports['RASA_PORT']}")
        sender = f"settings-{uuid.uuid4().hex[:8]}"
        ask_for_a_call_back(servers, sender)

        # Rasa was given endpoints written from the settings, in FC_VAR_DIR, not the repository's var/
        written = var / f"endpoints.{ports['RASA_PORT']}.yml"
        endpoints = yaml.safe_load(written.read_text())
        assert endpoints["action_endpoint"]["url"] == f"http://localhost:{ports['ACTIONS_PORT']}/webhook"
        assert endpoints["tracker_store"]["db"] == str(var / "rasa_tracker.db")
        assert not (ROOT / "var" / written.name).exists()

        # the conversation is in the tracker store there, the call back in the database there
        with sqlite3.connect(var / "rasa_tracker.db") as tracker:
            (events,) = tracker.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()
        assert events > 20
        with db.session_factory(f"sqlite:///{var / 'families_connect.db'}")() as session:
            cases = list(session.execute(select(Case).where(Case.sender_id == sender)).scalars())
        assert len(cases) == 1

        # the directory's Open Referral UK API answers a real HTTP client, from the seed loaded at start
        api = f"http://localhost:{ports['DIRECTORY_API_PORT']}"
        assert requests.get(api + "/", timeout=10).json()["openapi_url"] == f"http://localhost:{ports['DIRECTORY_API_PORT']}/openapi.json"
        near = requests.get(api + "/service_at_locations", params={"postcode": "DH1 3HU", "proximity": 15000}, timeout=10)
        assert near.status_code == 200 and near.headers["Access-Control-Allow-Origin"] == "*"
        assert hsds_schemas.response_problems(near.json(), "/service_at_locations") == []
        assert "HMP Durham" in [x["location"]["name"] for x in near.json()["contents"]]
