"""The endpoints file Rasa runs with, written into var/ at start (owner-only) so the action
server's shared secret is never in git: the action endpoint with its `X-Action-Server-Key`
header (bot/action_server.py refuses calls without it), plus the rest of a template
(endpoints.yml: the tracker store) or sections built from settings (bot/cluster.py)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

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
