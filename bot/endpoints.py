"""The endpoints file Rasa runs with, built from the settings (bot/settings.py) and written into
var/ at start (owner-only), so the action server's shared secret is never in git: the action
endpoint with its `X-Action-Server-Key` header (bot/action_server.py refuses calls without it),
the tracker store (TRACKER_STORE_URL) and the lock store (LOCK_STORE_URL). `make run`
(bot/servers.py), `make run-prod` (bot/cluster.py) and the containers (`python -m bot.cluster
endpoints`) all write it here, so a setting moves every process that uses it. Tests may start
Rasa from a template of their own instead (`from_template`)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.settings import Settings

ACTION_KEY_HEADER = "X-Action-Server-Key"


def action_endpoint(actions_url: str, secret: str) -> dict[str, Any]:
    """Rasa's `action_endpoint` section: the action server's webhook and the key it requires."""
    return {"url": f"{actions_url.rstrip('/')}/webhook", "headers": {ACTION_KEY_HEADER: secret}}


def from_template(template: Path, actions_url: str, secret: str) -> dict[str, Any]:
    """`template` (an endpoints.yml) with its action endpoint pointed at `actions_url` and keyed."""
    endpoints = yaml.safe_load(template.read_text()) or {}
    endpoints["action_endpoint"] = action_endpoint(actions_url, secret)
    return endpoints


def write_endpoints(endpoints: dict[str, Any], path: Path) -> Path:
    """Write an endpoints file readable only by its owner (it holds secrets and passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Generated from the settings at start (bot/endpoints.py); do not edit or commit.\n")
        handle.write(yaml.safe_dump(endpoints, sort_keys=False))
    os.chmod(path, 0o600)
    return path


# --- endpoints from settings --------------------------------------------------------------------
# Rasa's SQLTrackerStore with pooled SQLite connections (bot/tracker_store.py); PostgreSQL as Rasa has it.
TRACKER_STORE_TYPE = "bot.tracker_store.SQLTrackerStore"


def tracker_store_endpoint(url: str) -> dict[str, Any]:
    """Rasa's `tracker_store` section for a SQLAlchemy URL (sqlite:/// or postgresql://)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": parsed.database}
    if backend != "postgresql":
        raise ValueError(f"TRACKER_STORE_URL must be sqlite:/// or postgresql://, not {backend}")
    section: dict[str, Any] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": "postgresql",
        "url": parsed.host or "localhost",
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }
    return {k: v for k, v in section.items() if v is not None}


def lock_store_endpoint(url: str | None) -> dict[str, Any] | None:
    """Rasa's `lock_store` section for redis://[:password@]host[:port][/db]; None: in memory."""
    if not url:
        return None
    parsed = make_url(url)
    if parsed.drivername not in ("redis", "rediss"):
        raise ValueError(f"LOCK_STORE_URL must be redis://host:port/db, not {parsed.drivername}")
    section: dict[str, Any] = {
        "type": "redis",
        "url": parsed.host or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "password": parsed.password,
        "use_ssl": parsed.drivername == "rediss" or None,
    }
    return {k: v for k, v in section.items() if v is not None}


def endpoints_for(settings: Settings, actions_url: str | None = None) -> dict[str, Any]:
    """endpoints.yml for a run: the action server (with the key it requires), the tracker
    store and the lock store."""
    endpoints: dict[str, Any] = {
        "action_endpoint": action_endpoint(actions_url or f"http://localhost:{settings.actions_port}", settings.secret("action_server")),
        "tracker_store": tracker_store_endpoint(settings.tracker_store_url),
    }
    lock_store = lock_store_endpoint(settings.lock_store_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    return endpoints
