"""The production shape under test: an action server, the directory API and two Rasa servers
behind nginx, on scratch PostgreSQL databases (ours and Rasa's tracker store) and a Redis database of their
own, all on this machine. Everything is dropped afterwards."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

import psycopg2
import pytest
import redis

from bot import db
from bot.cluster import Cluster
from bot.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get("FC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Redis database 11 is the production tests' own; it is emptied afterwards.
REDIS_URL = os.environ.get("FC_TEST_REDIS", "redis://127.0.0.1:6379/11")



def admin() -> "psycopg2.extensions.connection":
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    return connection


def scratch_database() -> Iterator[str]:
    name = f"fc_prod_{uuid.uuid4().hex[:10]}"
    connection = admin()
    with connection.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        connection = admin()
        with connection.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def set_connections(url: str, allowed: bool) -> None:
    """Let nobody (superusers included) connect to the database at `url`, and end the
    connections it has; or let them in again."""
    name = url.rsplit("/", 1)[1]
    connection = admin()
    with connection.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    connection.close()


class ProdStack(Cluster):
    """A Cluster with the helpers the tests use: everything a family sends goes through nginx."""

    def post(self, path: str, body: object, timeout: float = 90) -> object:
        """POST JSON through nginx; the JSON answer (HTTPError for an error status)."""
        request = urllib.request.Request(
            self.public_url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def webchat(self, sender: str, message: str, timeout: float = 90) -> list[str]:
        """One web chat message through nginx; the texts of the replies."""
        replies = self.post("/webhooks/webchat/webhook", {"sender": sender, "message": message}, timeout)
        return [r.get("text", "") for r in replies]

    def webchat_id(self) -> str:
        """A conversation id issued by the web chat (through nginx), as the page gets one."""
        request = urllib.request.Request(f"{self.public_url}/webhooks/webchat/session", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["sender"]

    def busy_instances(self) -> list[int]:
        """The Rasa servers answering a request now: nginx opens a connection per request
        (no keep-alive), so an established connection to a server's port is one in flight."""
        ports = {self.instance_port + i: i for i in self.rasa}
        busy = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                port = int(local.rsplit(":", 1)[1], 16)
                if state == "01" and port in ports:  # 01: ESTABLISHED
                    busy.add(ports[port])
        return sorted(busy)

    def refusals(self, index: int) -> int:
        """How often nginx found Rasa server `index` refusing a connection (and went on to the next)."""
        log = (self.log_dir / "nginx.log").read_text(errors="replace") if self.log_dir else ""
        address = f"127.0.0.1:{self.instance_port + index}/"
        return sum("Connection refused" in line and address in line for line in log.splitlines())


@pytest.fixture(scope="package")
def stack(model_path, tmp_path_factory) -> Iterator[ProdStack]:
    work = tmp_path_factory.mktemp("prod")
    databases = [scratch_database(), scratch_database()]
    app_url, tracker_url = (next(d) for d in databases)
    cluster = ProdStack(
        model=model_path, public_port=free_port(), actions_port=free_port(), instance_port=free_port(2), instances=2,
        directory_api_port=free_port(), database_url=app_url, tracker_store_url=tracker_url, lock_store_url=REDIS_URL,
        log_dir=work / "logs", endpoints_path=work / "endpoints.yml", nginx_dir=work / "nginx",
        # A call back is stored slowly for one name, so a test can kill the server waiting on it.
        actions_imports=("tests.prod.slow_call_back",),
        # Short enough that a conversation whose server died holding its lock waits seconds, not a minute.
        # Every test client is 127.0.0.1: the per-address limits would count all the tests as one
        # person (they are tested in tests/prod/test_limits.py and tests/channels/test_webchat.py).
        env={"TICKET_LOCK_LIFETIME": "20", "ADDRESS_RATE_LIMIT": "100000", "SESSION_RATE_LIMIT": "100000"},
    )
    try:
        with cluster:
            yield cluster
    finally:
        db.engine_for.cache_clear()
        for d in databases:
            for _ in d:
                pass
        redis.Redis.from_url(REDIS_URL).flushdb()
