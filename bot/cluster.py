"""The production shape on one machine (`make run-prod`): several Rasa servers sharing a
PostgreSQL tracker store and a Redis lock store, one action server, the staff console, and a
small round-robin balancer in front of the Rasa servers. Stays in the foreground; Ctrl-C stops
everything.

    python -m bot.cluster                 # RASA_INSTANCES (default 2) Rasa servers behind :RASA_PORT
    python -m bot.cluster balance --port 5005 --upstream http://127.0.0.1:5006 ...   # the balancer alone
    python -m bot.cluster endpoints --out var/endpoints.yml [--actions-url http://actions:5055]

Rasa reads its endpoints from a YAML file whose `${VAR}`s must all be set, so the file for a
run is generated from bot.settings (`bot.endpoints.endpoints_for`, as `make run` does) into
var/endpoints.prod.yml at start.

The balancer (aiohttp, about 100 lines, rather than nginx: nothing to install here, and its
retry rule is ours and tested) sends each request to the next Rasa server in turn. A server
that refuses the connection is skipped for a few seconds and the request goes to the next one
(it was never received, so it is never handled twice). A server that dies after receiving a
request gives a 502: the message may have been handled, so it is not sent again (nginx's
default for POST, too). Requests for one conversation may reach different servers: Rasa's
Redis lock store makes them take turns. In containers, deploy/nginx.conf does the same job.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot import log_hygiene
from bot.dialogue.follow_up import is_reread
from bot.endpoints import endpoints_for, write_endpoints
from bot.servers import BIN, Servers, wait_for
from bot.settings import Settings

logger = logging.getLogger(__name__)


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database `url` names if it does not exist (no-op for SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    import psycopg2

    admin = psycopg2.connect(
        host=parsed.host or "localhost", port=parsed.port or 5432, user=parsed.username,
        password=parsed.password, dbname="postgres",
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        admin.close()


# --- checking what the tracker store kept ----------------------------------------------------
def tracker_problems(connection: Any, sender: str, sent: list[str] | None = None) -> list[str]:
    """What is wrong with one conversation in Rasa's SQL tracker store (`connection`: a
    SQLAlchemy connection): timestamps going back, a user message stored twice (same
    message id), a user message before the previous turn ended in action_listen, and, given
    the texts `sent`, user messages lost, added or out of order. Empty when all is well."""
    import json

    from sqlalchemy import text

    rows = connection.execute(
        text("SELECT id, type_name, action_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"),
        {"s": sender},
    ).all()
    problems: list[str] = []
    last_time: float | None = None
    message_ids: set[str] = set()
    texts: list[str] = []
    turn_open = False
    for row in rows:
        if last_time is not None and row.timestamp < last_time:
            problems.append(f"event {row.id} ({row.type_name}) is earlier than the one before")
        last_time = row.timestamp
        if row.type_name == "user":
            data = json.loads(row.data)
            if is_reread(data):
                continue  # the same message read again in context (action_follow_up), in the same turn
            if turn_open:
                problems.append(f"user event {row.id} came before the previous turn ended")
            turn_open = True
            message_id = data.get("message_id")
            if message_id in message_ids:
                problems.append(f"user message {message_id} stored twice")
            message_ids.add(message_id)
            texts.append(data.get("text"))
        elif row.type_name == "action" and row.action_name == "action_listen":
            turn_open = False
    if turn_open:
        problems.append("the last turn never ended (no action_listen after the last user message)")
    if sent is not None and texts != sent:
        problems.append(f"{len(texts)} user messages stored for {len(sent)} sent, or not in the order sent")
    return problems


# --- the balancer ------------------------------------------------------------------------------
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length"}
)


@dataclass
class Upstream:
    url: str
    down_until: float = 0.0
    served: int = 0
    refused: int = 0


class Balancer:
    """Round robin over `upstreams`, skipping one that refuses connections for `skip_seconds`."""

    def __init__(self, upstreams: list[str], skip_seconds: float = 5.0, timeout: float = 120.0) -> None:
        if not upstreams:
            raise ValueError("the balancer needs at least one upstream")
        self.upstreams = [Upstream(u.rstrip("/")) for u in upstreams]
        self.skip_seconds = skip_seconds
        self.timeout = timeout
        self._turn = itertools.count()
        self._session: Any = None

    def order(self, now: float | None = None) -> list[Upstream]:
        """This request's upstreams to try: the next in turn first; ones marked down last."""
        now = time.monotonic() if now is None else now
        turn = next(self._turn)
        healthy = [u for u in self.upstreams if u.down_until <= now]
        down = [u for u in self.upstreams if u.down_until > now]
        if healthy:  # turns go round the healthy ones, so a dead server's share is spread evenly
            start = turn % len(healthy)
            healthy = healthy[start:] + healthy[:start]
        return healthy + down

    async def handle(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        if request.path == "/_balancer":
            return web.json_response(
                [{"url": u.url, "served": u.served, "refused": u.refused, "down": u.down_until > time.monotonic()} for u in self.upstreams]
            )
        if self._session is None:
            # A new connection per request: a stale keep-alive connection to a killed server
            # would fail after the request was written, which we could not safely retry.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True, limit=0),
                timeout=aiohttp.ClientTimeout(total=self.timeout), auto_decompress=False,
            )
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or ""
        for upstream in self.order():
            try:
                async with self._session.request(
                    request.method, upstream.url + request.path_qs, headers=headers, data=body, allow_redirects=False
                ) as reply:
                    payload = await reply.read()
                    upstream.served += 1
                    out_headers = {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=reply.status, body=payload, headers=out_headers)
            except aiohttp.ClientConnectorError:
                # Never connected: the request was not received; try the next server.
                upstream.refused += 1
                upstream.down_until = time.monotonic() + self.skip_seconds
                logger.warning("balancer: %s refused the connection; skipping it for %.0fs", upstream.url, self.skip_seconds)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                # Sent, then lost: it may have been handled, so it is not sent again.
                upstream.down_until = time.monotonic() + self.skip_seconds
                logger.warning("balancer: %s failed mid-request (%s)", upstream.url, type(error).__name__)
                return web.json_response({"error": "the server handling this message stopped; please try again"}, status=502)
        return web.json_response({"error": "no Rasa server is available"}, status=502)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def serve_balancer(port: int, upstreams: list[str], interface: str = "127.0.0.1") -> None:
    """Run the balancer in the foreground until SIGTERM or Ctrl-C."""
    from aiohttp import web

    balancer = Balancer(upstreams)
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", balancer.handle)
    app.on_cleanup.append(lambda _app: balancer.close())
    web.run_app(app, host=interface, port=port, access_log=None, print=None, handle_signals=True)


# --- the cluster -------------------------------------------------------------------------------
@dataclass
class Cluster(Servers):
    """One action server, `instances` Rasa servers on ports from `instance_port`, the console
    (when `console_port` is set) and the balancer on `rasa_port`."""

    interface: str | None = None  # the balancer's (default RASA_INTERFACE: localhost)
    instances: int = 2
    instance_port: int = 5006
    lock_store_url: str | None = None
    endpoints_path: Path | None = None  # where the generated endpoints go (default var/)
    rasa: dict[int, subprocess.Popen] = field(default_factory=dict)
    actions: subprocess.Popen | None = None
    balancer: subprocess.Popen | None = None

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.instance_port + index}"

    def _settings(self) -> Settings:
        from dataclasses import replace

        settings = Settings.from_env()
        return replace(
            settings,
            tracker_store_url=self.tracker_store_url or settings.tracker_store_url,
            lock_store_url=self.lock_store_url if self.lock_store_url is not None else settings.lock_store_url,
            actions_port=self.actions_port,
        )

    def start_actions(self, timeout: float = 120) -> None:
        self.actions = self._spawn("actions", self.actions_args())
        wait_for(f"{self.actions_url}/health", timeout, self.actions)

    def stop_actions(self) -> None:
        self._kill(self.actions, signal.SIGTERM)

    def start_instance(self, index: int, wait: bool = True, timeout: float = 240) -> None:
        # Only the balancer reaches a Rasa server.
        args = self.rasa_args(self.instance_port + index, self.endpoints, "127.0.0.1")
        self.rasa[index] = self._spawn(f"rasa-{index}", args)
        if wait:
            self.wait_instance(index, timeout)

    def wait_instance(self, index: int, timeout: float = 240) -> None:
        wait_for(f"{self.instance_url(index)}/status", timeout, self.rasa[index], api_secret=self.auth_token)

    def kill_instance(self, index: int) -> None:
        """Kill one Rasa server at once (SIGKILL: no clean shutdown, as in a crash)."""
        self._kill(self.rasa.get(index), signal.SIGKILL)

    def _kill(self, process: subprocess.Popen | None, sig: int) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(30)

    def start(self, timeout: float = 300) -> "Cluster":
        settings = self._settings()
        for url in (self.database_url or settings.database_url, settings.tracker_store_url):
            ensure_postgres_database(url)
        self.env.setdefault("TRACKER_STORE_URL", settings.tracker_store_url)
        if settings.lock_store_url:
            self.env.setdefault("LOCK_STORE_URL", settings.lock_store_url)  # the channels' rate limit
        self.prepare_database()
        from dataclasses import replace

        settings = replace(settings, action_server_secret=self.env["ACTION_SERVER_SECRET"])
        path = self.endpoints_path or settings.var_dir / "endpoints.prod.yml"
        self.endpoints = write_endpoints(endpoints_for(settings, self.actions_url), path)
        try:
            self.start_actions(timeout)
            for index in range(self.instances):
                self.start_instance(index, wait=False)
            if self.console_port:
                console = self._spawn("console", [str(BIN / "python"), "-m", "bot.log_hygiene", "bot.console", "--port", str(self.console_port)])
                wait_for(f"{self.console_url}/login", timeout, console)
            for index in range(self.instances):
                self.wait_instance(index, timeout)
            self.balancer = self._spawn(
                "balancer",
                [str(BIN / "python"), "-m", "bot.cluster", "balance", "--port", str(self.rasa_port), "--interface", str(self.interface),
                 "--upstream", *[self.instance_url(i) for i in range(self.instances)]],
            )
            wait_for(f"{self.rasa_url}/_balancer", 30, self.balancer)
        except Exception:
            self.stop()
            raise
        return self


def run(settings: Settings) -> int:
    """`make run-prod`: the cluster, the web chat page and the retention schedule."""
    from bot.run import foreground, model_missing

    if model_missing(settings):
        return 1
    if settings.rasa_instances > 1 and not settings.lock_store_url:
        print("More than one Rasa server needs a Redis lock store: set LOCK_STORE_URL=redis://host:6379/0.", file=sys.stderr)
        return 1
    if settings.rasa_instances > 1 and settings.tracker_store_url.startswith("sqlite"):
        print("More than one Rasa server needs a shared tracker store: set TRACKER_STORE_URL=postgresql://...", file=sys.stderr)
        return 1
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(
        model=settings.model_path,
        rasa_port=settings.rasa_port,
        actions_port=settings.actions_port,
        console_port=settings.console_port,
        instances=settings.rasa_instances,
        instance_port=settings.rasa_instance_port,
        log_dir=settings.var_dir / "logs",
    )

    def banner() -> str:
        instances = ", ".join(f":{settings.rasa_instance_port + i}" for i in range(settings.rasa_instances))
        return (
            "\nFamilies Connect (production shape) is ready.\n"
            f"  Balancer:      {cluster.rasa_url}  ->  Rasa servers on {instances}\n"
            f"  Web chat:      http://localhost:{settings.webchat_port}/\n"
            f"  Staff console: {cluster.console_url}/\n"
            f"  Conversations: {make_url(settings.tracker_store_url).render_as_string(hide_password=True)}\n"
            f"  Lock store:    {make_url(settings.lock_store_url).render_as_string(hide_password=True) if settings.lock_store_url else 'in memory'}\n"
            f"  Logs:          {settings.var_dir / 'logs'}/\n"
            "Press Ctrl-C to stop."
        )

    def wait() -> int:
        while True:
            # A Rasa server that dies is reported but not fatal: the balancer skips it.
            for index, process in cluster.rasa.items():
                if process.poll() is not None and not getattr(process, "_reported", False):
                    print(f"Rasa server {index} stopped (code {process.returncode}); the others carry on.", file=sys.stderr)
                    process._reported = True  # type: ignore[attr-defined]
            if all(p.poll() is not None for p in cluster.rasa.values()) or (cluster.actions and cluster.actions.poll() is not None):
                print("No Rasa server left, or the action server stopped; shutting down.", file=sys.stderr)
                return 1
            time.sleep(1)

    starting = f"Starting the action server and {settings.rasa_instances} Rasa servers (about a minute)..."
    return foreground(settings, cluster, starting=starting, banner=banner, wait=wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    balance = sub.add_parser("balance", help="run only the round-robin balancer")
    balance.add_argument("--port", type=int, required=True)
    balance.add_argument("--interface", default=None, help="default: RASA_INTERFACE (localhost)")
    balance.add_argument("--upstream", nargs="+", required=True)
    endpoints = sub.add_parser("endpoints", help="write the endpoints file for this environment (containers)")
    endpoints.add_argument("--out", type=Path, required=True)
    endpoints.add_argument("--actions-url", help="the action server, e.g. http://actions:5055 (default: localhost:ACTIONS_PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "balance":
        log_hygiene.install()
        serve_balancer(args.port, args.upstream, args.interface or Settings.from_env().rasa_interface)
        return 0
    if args.command == "endpoints":
        write_endpoints(endpoints_for(Settings.from_env(), args.actions_url), args.out)
        return 0
    return run(Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
