"""Credentials for Rasa's HTTP API: short-lived HS256 JWTs sent as `Authorization: Bearer`.

Rasa runs with `--jwt-secret` (the `rasa_api` secret, `Settings.secret`) and `--jwt-method
HS256` (bot/rasa_server.py) and never with `--auth-token`, whose token travels in the URL
(`?token=`) and so into proxies' and servers' logs. Our clients (the console's RasaClient,
Servers, tests and scripts) mint a token per call that expires in two minutes.
"""
from __future__ import annotations

import time

import jwt

from bot.settings import Settings

ALGORITHM = "HS256"
TOKEN_SECONDS = 120
# Rasa's `requires_auth` lets role "admin" act on every conversation (role "user" only on the
# conversation named by its username).
API_USER = {"username": "families-connect", "role": "admin"}


def api_token(secret: str, seconds: int = TOKEN_SECONDS, now: float | None = None) -> str:
    """A JWT Rasa accepts for `seconds` from now."""
    now = time.time() if now is None else now
    return jwt.encode({"user": dict(API_USER), "iat": int(now), "exp": int(now) + seconds}, secret, algorithm=ALGORITHM)


def auth_headers(secret: str) -> dict[str, str]:
    """The header that authenticates one request to Rasa's HTTP API."""
    return {"Authorization": f"Bearer {api_token(secret)}"}


def settings_headers(settings: Settings | None = None) -> dict[str, str]:
    """auth_headers with this install's secret (RASA_AUTH_TOKEN, else the one in var/)."""
    return auth_headers((settings or Settings.from_env()).secret("rasa_api"))


def check_status(rasa_url: str, timeout: float = 5) -> None:
    """GET /status with a token; raises unless it answers 200 (container health checks)."""
    import urllib.request

    request = urllib.request.Request(rasa_url.rstrip("/") + "/status", headers=settings_headers())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status != 200:
            raise RuntimeError(f"Rasa answered {response.status}")


if __name__ == "__main__":  # python -m bot.api_auth http://localhost:5005  (health check)
    import sys

    check_status(sys.argv[1] if len(sys.argv) > 1 else Settings.from_env().rasa_url)
