"""Starting and stopping the action server and Rasa as child processes (used by `make run` and tests)."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.api_auth import auth_headers
from bot.endpoints import endpoints_for, from_template, write_endpoints
from bot.settings import ROOT, Settings

logger = logging.getLogger(__name__)

BIN = Path(sys.executable).parent


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment our servers run with: no telemetry, quiet TensorFlow, our code importable."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            # Sanic's access log (each request's URL and the client's address) off everywhere.
            "SANIC_ACCESS_LOG": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    env.update(extra or {})
    return env


def free_port(count: int = 1) -> int:
    """A free port on localhost (the first of `count` consecutive free ones), for servers in
    tests and benchmarks."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue


def wait_for(url: str, timeout: float, process: subprocess.Popen | None = None, api_secret: str | None = None) -> None:
    """Poll url until it answers 200 (with a fresh API token each time when `api_secret` is
    given); fail early if the process dies."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            headers = auth_headers(api_secret) if api_secret else {}
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = exc
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s ({last_error})")


@dataclass
class Servers:
    """The action server and one Rasa server, as started by `start`.

    Both listen on localhost unless `interface` (default RASA_INTERFACE) / ACTIONS_INTERFACE
    say otherwise. Rasa's HTTP API needs a JWT made with `auth_token` (default: the `rasa_api`
    secret, RASA_AUTH_TOKEN or generated into var/); the action server needs the
    `action_server` secret, which Rasa sends from the endpoints file written at start into
    `endpoints_path` (default var/endpoints.<rasa port>.yml): built from the settings
    (bot.endpoints.endpoints_for: ACTIONS_PORT, TRACKER_STORE_URL, LOCK_STORE_URL, FC_VAR_DIR),
    or from a template of the caller's (`endpoints`, tests) and then beside it."""

    model: Path
    rasa_port: int = 5005
    actions_port: int = 5055
    auth_token: str | None = None
    interface: str | None = None
    endpoints: Path | None = None  # a template of the caller's; None: from the settings
    endpoints_path: Path | None = None
    actions_imports: tuple[str, ...] = ()  # modules the action server imports first (tests: fault injection)
    credentials: Path = ROOT / "credentials.yml"
    log_dir: Path | None = None
    database_url: str | None = None  # default: DATABASE_URL, else SQLite in var/
    # Rasa's tracker store, as `endpoints` configures it (the console reads transcripts from it).
    tracker_store_url: str | None = None  # default: TRACKER_STORE_URL, else SQLite in var/
    console_port: int | None = None  # the staff console too, when set
    directory_api_port: int | None = None  # the directory's Open Referral UK API too, when set
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    _logs: list = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://localhost:{self.console_port}"

    @property
    def directory_api_url(self) -> str:
        return f"http://localhost:{self.directory_api_port}"

    @property
    def actions_url(self) -> str:
        return f"http://localhost:{self.actions_port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
            self._logs.append(out)
        else:
            out = None
        process = subprocess.Popen(
            args, cwd=ROOT, env=child_env(self.env), stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start_directory_api(self, wait: bool = True, timeout: float = 60) -> subprocess.Popen | None:
        """The directory API (bot.directory_api) on `directory_api_port`, when set; on
        DIRECTORY_API_INTERFACE (localhost unless set). Call after prepare_database."""
        if not self.directory_api_port:
            return None
        api = self._spawn("directory-api", [str(BIN / "python"), "-m", "bot.directory_api", "--port", str(self.directory_api_port)])
        if wait:
            wait_for(f"{self.directory_api_url}/", timeout, api)
        return api

    def prepare_database(self) -> None:
        """Bring the database to the newest schema and load the seed directory (idempotent)."""
        from bot import db
        from bot.directory.seed import load_seed

        settings = Settings.from_env()
        url = self.database_url or settings.database_url
        self.env.setdefault("DATABASE_URL", url)
        self.env.setdefault("TRACKER_STORE_URL", self.tracker_store_url or settings.tracker_store_url)
        self.env.setdefault("RASA_URL", self.rasa_url)
        self.prepare_secrets(settings)
        db.upgrade(url)
        with db.session_factory(url)() as session, session.begin():
            counts = load_seed(session)
        logger.info("service directory: %(created)d new, %(updated)d updated, %(unchanged)d unchanged seed entries", counts)

    def prepare_secrets(self, settings: Settings) -> None:
        """Settle the shared secrets once, here, and hand them to every child in its
        environment (never on a command line), so all processes of this run agree."""
        if self.interface is None:
            self.interface = settings.rasa_interface
        self.auth_token = self.env.setdefault("RASA_AUTH_TOKEN", self.auth_token or settings.secret("rasa_api"))
        self.env.setdefault("ACTION_SERVER_SECRET", settings.secret("action_server"))
        self.env.setdefault("RASA_INTERFACE", self.interface)
        settings.cors_origin_list()  # refuse "*" before starting anything

    def api_headers(self) -> dict[str, str]:
        """Headers for one call to Rasa's HTTP API (a fresh short-lived JWT)."""
        return auth_headers(str(self.auth_token))

    def api(self, path: str, body: object | None = None, timeout: float = 30) -> tuple[int, object]:
        """Call Rasa's HTTP API with a Bearer JWT (POST when there is a body): (status, JSON)."""
        request = urllib.request.Request(
            self.rasa_url + path, data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **self.api_headers()},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def actions_args(self) -> list[str]:
        args = [str(BIN / "python"), "-m", "bot.action_server", "--port", str(self.actions_port)]
        for module in self.actions_imports:
            args += ["--also-import", module]
        return args

    def rasa_args(self, port: int, endpoints: Path, interface: str) -> list[str]:
        """One Rasa server: bot.rasa_server adds the API's JWT auth, CORS and hygiene."""
        return [
            str(BIN / "python"), "-m", "bot.rasa_server",
            "--model", str(self.model),
            "--port", str(port),
            "--interface", interface,
            "--endpoints", str(endpoints),
            "--credentials", str(self.credentials),
        ]

    def _default_endpoints_path(self, settings: Settings) -> Path:
        """var/endpoints.<port>.yml when built from the settings; beside a caller's template."""
        if self.endpoints is None:
            return settings.var_dir / f"endpoints.{self.rasa_port}.yml"
        return self.endpoints.with_name(f"{self.endpoints.stem}.{self.rasa_port}.run.yml")

    def start(self, timeout: float = 240) -> "Servers":
        self.prepare_database()
        # The settings as this run settled them (prepare_database): the tracker store and secret
        # the action server and the console were given are the ones Rasa is given.
        settings = replace(
            Settings.from_env(),
            tracker_store_url=self.env["TRACKER_STORE_URL"],
            action_server_secret=self.env["ACTION_SERVER_SECRET"],
            actions_port=self.actions_port,
        )
        if self.endpoints is None:
            sections = endpoints_for(settings, self.actions_url)
        else:
            sections = from_template(self.endpoints, self.actions_url, self.env["ACTION_SERVER_SECRET"])
        endpoints = write_endpoints(sections, self.endpoints_path or self._default_endpoints_path(settings))
        actions = self._spawn("actions", self.actions_args())
        rasa = self._spawn("rasa", self.rasa_args(self.rasa_port, endpoints, str(self.interface)))
        console = None
        if self.console_port:
            console = self._spawn(
                "console", [str(BIN / "python"), "-m", "bot.log_hygiene", "bot.console", "--port", str(self.console_port)]
            )
        api = self.start_directory_api(wait=False)
        try:
            wait_for(f"{self.actions_url}/health", timeout, actions)
            if console is not None:
                wait_for(f"{self.console_url}/login", timeout, console)
            if api is not None:
                wait_for(f"{self.directory_api_url}/", timeout, api)
            wait_for(f"{self.rasa_url}/status", timeout, rasa, api_secret=self.auth_token)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 15) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def say(self, sender: str, message: str, timeout: float = 30, channel: str = "rest") -> list[dict]:
        """Send one message over the REST (or web chat) channel and return the bot's replies
        (REST is reachable only here on localhost: deploy/nginx.conf does not route it)."""
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/{channel}/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def __enter__(self) -> "Servers":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
