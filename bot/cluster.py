"""The production shape on one machine (`make run-prod`): several Rasa servers sharing a
PostgreSQL tracker store and a Redis lock store, one action server, the directory API, the staff
console, and Debian's nginx in front (deploy/nginx.conf.template, as in the containers). Stays
in the foreground; Ctrl-C stops everything.

    python -m bot.cluster                 # nginx on WEBCHAT_PORT, RASA_INSTANCES (default 2) Rasa servers
    python -m bot.cluster endpoints --out var/endpoints.yml [--actions-url http://actions:5055]

nginx listens where the public comes in, WEBCHAT_PORT (8080, as compose publishes it): the web
chat page, the public webhooks and the directory API on one origin, as in production. Rasa's
HTTP API and REST channel are on each Rasa server's own port, on this machine only; the console
is given all of them (RASA_URL) and uses whichever answers.

Rasa reads its endpoints from a YAML file whose `${VAR}`s must all be set, so the file for a
run is generated from bot.settings (`bot.endpoints.endpoints_for`, as `make run` does) into
var/endpoints.prod.yml at start.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import nginx
from bot.endpoints import endpoints_for, write_endpoints
from bot.run import foreground, model_missing
from bot.servers import BIN, Servers, wait_for
from bot.settings import Settings


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


@dataclass
class Cluster(Servers):
    """One action server, `instances` Rasa servers on ports from `instance_port` (127.0.0.1
    only), the directory API on `directory_api_port`, the console (when `console_port` is set),
    and nginx in front of them on `public_port`. (`rasa_port` is not used: nginx takes none of
    Rasa's own traffic, and each Rasa server has its port.)"""

    interface: str | None = None  # nginx's (default RASA_INTERFACE: localhost)
    instances: int = 2
    instance_port: int = 5006
    public_port: int = 8080
    directory_api_port: int = 8082  # always: nginx serves it at /openreferral/
    lock_store_url: str | None = None
    endpoints_path: Path | None = None  # where the generated endpoints go (default var/)
    nginx_dir: Path | None = None  # nginx's configuration, pid file and buffers (default var/nginx.<port>/)
    rasa: dict[int, subprocess.Popen] = field(default_factory=dict)
    actions: subprocess.Popen | None = None
    directory_api: subprocess.Popen | None = None
    nginx: subprocess.Popen | None = None

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.instance_port + index}"

    @property
    def rasa_url(self) -> str:
        """Rasa's HTTP API and REST channel (this machine only; nginx routes neither): the first
        Rasa server still running."""
        running = [i for i, process in sorted(self.rasa.items()) if process.poll() is None]
        return self.instance_url(running[0] if running else 0)

    @property
    def public_url(self) -> str:
        """nginx: the web chat page, the public webhooks, /openreferral/."""
        return f"http://{self._public_host()}:{self.public_port}"

    def _public_host(self, listen: bool = False) -> str:
        """nginx's interface as a URL's host (a wildcard is reached on loopback), or as nginx's
        `listen` takes it."""
        host = self.interface or "127.0.0.1"
        if not listen:
            host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"[{host}]" if ":" in host else host

    def _settings(self) -> Settings:
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
        # Only nginx (and this machine) reaches a Rasa server, so the X-Forwarded-For nginx
        # sends is believed: the per-address limits count the real client, not nginx.
        given = self.env.get("TRUSTED_PROXIES", Settings.from_env().trusted_proxies)
        proxies = ",".join(p for p in ("127.0.0.1", given) if p)
        args = self.rasa_args(self.instance_port + index, self.endpoints, "127.0.0.1")
        self.rasa[index] = self._spawn(f"rasa-{index}", ["env", f"TRUSTED_PROXIES={proxies}", *args])
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

    def start_nginx(self, name: str, port: int, instances: list[int], directory: Path, timeout: float = 30) -> subprocess.Popen:
        """nginx on `port` in front of the given Rasa servers (bench/load.py starts a second over
        one server), from the deployment's template; its files in `directory`."""
        config = nginx.NginxConfig(
            listen=f"{self._public_host(listen=True)}:{port}",
            rasa_servers=tuple(f"127.0.0.1:{self.instance_port + i}" for i in instances),
            directory_api=f"127.0.0.1:{self.directory_api_port}",
            web_root=str(nginx.WEB_ROOT),
            state_dir=str(directory.resolve()),
        )
        conf = nginx.write(config, directory / "nginx.conf")
        process = self._spawn(name, nginx.command(config, conf))
        wait_for(f"http://{self._public_host()}:{port}/healthz", timeout, process)
        return process

    def start(self, timeout: float = 300) -> "Cluster":
        settings = self._settings()
        for url in (self.database_url or settings.database_url, settings.tracker_store_url):
            ensure_postgres_database(url)
        self.env.setdefault("TRACKER_STORE_URL", settings.tracker_store_url)
        if settings.lock_store_url:
            self.env.setdefault("LOCK_STORE_URL", settings.lock_store_url)  # the channels' rate limit
        # The console calls whichever Rasa server answers (bot.handoff.RasaClient).
        self.env.setdefault("RASA_URL", ",".join(self.instance_url(i) for i in range(self.instances)))
        self.prepare_database()
        # The links the directory API gives are its public ones, behind nginx.
        self.env.setdefault("DIRECTORY_API_URL", f"{self.public_url}/openreferral")
        settings = replace(settings, action_server_secret=self.env["ACTION_SERVER_SECRET"])
        path = self.endpoints_path or settings.var_dir / "endpoints.prod.yml"
        self.endpoints = write_endpoints(endpoints_for(settings, self.actions_url), path)
        try:
            self.start_actions(timeout)
            for index in range(self.instances):
                self.start_instance(index, wait=False)
            self.directory_api = self.start_directory_api(timeout=timeout)
            if self.console_port:
                console = self._spawn("console", [str(BIN / "python"), "-m", "bot.log_hygiene", "bot.console", "--port", str(self.console_port)])
                wait_for(f"{self.console_url}/login", timeout, console)
            for index in range(self.instances):
                self.wait_instance(index, timeout)
            directory = self.nginx_dir or settings.var_dir / f"nginx.{self.public_port}"
            self.nginx = self.start_nginx("nginx", self.public_port, list(range(self.instances)), directory)
        except Exception:
            self.stop()
            raise
        return self


def run(settings: Settings) -> int:
    """`make run-prod`: the cluster (nginx serving the web chat page) and the retention schedule."""
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
        actions_port=settings.actions_port,
        console_port=settings.console_port,
        instances=settings.rasa_instances,
        instance_port=settings.rasa_instance_port,
        public_port=settings.webchat_port,
        directory_api_port=settings.directory_api_port,
        log_dir=settings.var_dir / "logs",
    )

    def banner() -> str:
        instances = ", ".join(f":{settings.rasa_instance_port + i}" for i in range(settings.rasa_instances))
        return (
            "\nFamilies Connect (production shape) is ready.\n"
            f"  Web chat:      {cluster.public_url}/  (nginx: the page, the public webhooks, the directory API at /openreferral/)\n"
            f"  Rasa servers:  {instances} on 127.0.0.1 (HTTP API and REST channel: this machine only)\n"
            f"  Staff console: {cluster.console_url}/\n"
            f"  Conversations: {make_url(settings.tracker_store_url).render_as_string(hide_password=True)}\n"
            f"  Lock store:    {make_url(settings.lock_store_url).render_as_string(hide_password=True) if settings.lock_store_url else 'in memory'}\n"
            f"  Logs:          {settings.var_dir / 'logs'}/\n"
            "Press Ctrl-C to stop."
        )

    def wait() -> int:
        while True:
            # A Rasa server that dies is reported but not fatal: nginx leaves it out.
            for index, process in cluster.rasa.items():
                if process.poll() is not None and not getattr(process, "_reported", False):
                    print(f"Rasa server {index} stopped (code {process.returncode}); the others carry on.", file=sys.stderr)
                    process._reported = True  # type: ignore[attr-defined]
            if all(p.poll() is not None for p in cluster.rasa.values()):
                print("No Rasa server left; shutting down.", file=sys.stderr)
                return 1
            stopped = [name for name, p in (("action server", cluster.actions), ("nginx", cluster.nginx),
                                            ("directory API", cluster.directory_api)) if p is not None and p.poll() is not None]
            if stopped:
                print(f"The {stopped[0]} stopped; shutting down.", file=sys.stderr)
                return 1
            time.sleep(1)

    starting = f"Starting the action server, {settings.rasa_instances} Rasa servers and nginx (about a minute)..."
    # nginx serves the web chat page here: no page server of foreground's own.
    return foreground(settings, cluster, starting=starting, banner=banner, wait=wait, page=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    endpoints = sub.add_parser("endpoints", help="write the endpoints file for this environment (containers)")
    endpoints.add_argument("--out", type=Path, required=True)
    endpoints.add_argument("--actions-url", help="the action server, e.g. http://actions:5055 (default: localhost:ACTIONS_PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "endpoints":
        write_endpoints(endpoints_for(Settings.from_env(), args.actions_url), args.out)
        return 0
    return run(Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
