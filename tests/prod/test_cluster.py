"""The production shape without Rasa: the endpoints written from the settings (bot/endpoints.py).
nginx in front of the Rasa servers is tested against small local servers in tests/test_nginx.py,
and with the real servers in tests/prod/test_faults.py and test_exposure.py."""
from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from bot.endpoints import TRACKER_STORE_TYPE, endpoints_for, lock_store_endpoint, tracker_store_endpoint, write_endpoints
from bot.settings import Settings


def test_postgres_tracker_store_and_redis_lock_store_from_urls():
    assert tracker_store_endpoint("postgresql://fc:s%40cret@db.internal:6543/tracker") == {
        "type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "db.internal", "port": 6543, "db": "tracker",
        "username": "fc", "password": "s@cret",
    }
    assert tracker_store_endpoint("postgresql://postgres@127.0.0.1/t") == {
        "type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "t", "username": "postgres",
    }
    assert tracker_store_endpoint("sqlite:///var/rasa_tracker.db") == {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": "var/rasa_tracker.db"}
    assert lock_store_endpoint("redis://:pw@cache:6380/3") == {"type": "redis", "url": "cache", "port": 6380, "db": 3, "password": "pw"}
    assert lock_store_endpoint("redis://127.0.0.1") == {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 0}
    assert lock_store_endpoint(None) is None
    with pytest.raises(ValueError):
        tracker_store_endpoint("mysql://x/y")
    with pytest.raises(ValueError):
        lock_store_endpoint("memcached://x")


def test_endpoints_file_for_a_run(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    key = "k" * 43
    settings = replace(
        Settings.from_env(), tracker_store_url="postgresql://postgres@127.0.0.1:5432/t", actions_port=5999, action_server_secret=key
    )
    assert "lock_store" not in endpoints_for(settings)  # in memory: one Rasa server only
    settings = replace(settings, lock_store_url="redis://127.0.0.1:6379/0")
    path = write_endpoints(endpoints_for(settings), tmp_path / "endpoints.yml")
    written = yaml.safe_load(path.read_text())
    # Rasa sends the action server's key with every call (bot/action_server.py refuses others).
    assert written["action_endpoint"] == {"url": "http://localhost:5999/webhook", "headers": {"X-Action-Server-Key": key}}
    assert written["tracker_store"]["dialect"] == "postgresql" and written["lock_store"]["type"] == "redis"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "${" not in path.read_text()
