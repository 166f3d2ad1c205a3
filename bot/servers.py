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
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import ROOT, Settings

logger = logging.getLogger(__name__)

BIN = Path(sys.executable).parent


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment our servers run with: no telemetry, quiet TensorFlow, our code importable."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
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


def wait_for(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll url until it answers 200; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = exc
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s ({last_error})")


@dataclass
class Servers:
    """The action server and one Rasa server, as started by `start`."""

    model: Path
    rasa_port: int = 5005
    actions_port: int = 5055
    auth_token: str | None = None
    interface: str = "0.0.0.0"
    endpoints: Path = ROOT / "endpoints.yml"
    credentials: Path = ROOT / "credentials.yml"
    log_dir: Path | None = None
    database_url: str | None = None  # default: DATABASE_URL, else SQLite in var/
    # Rasa's tracker store, as `endpoints` configures it (the console reads transcripts from it).
    tracker_store_url: str | None = None  # default: TRACKER_STORE_URL, else SQLite in var/
    console_port: int | None = None  # the staff console too, when set
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

    def prepare_database(self) -> None:
        """Bring the database to the newest schema and load the seed directory (idempotent)."""
        from bot import db
        from bot.directory.seed import load_seed

        settings = Settings.from_env()
        url = self.database_url or settings.database_url
        self.env.setdefault("DATABASE_URL", url)
        self.env.setdefault("TRACKER_STORE_URL", self.tracker_store_url or settings.tracker_store_url)
        self.env.setdefault("RASA_URL", self.rasa_url)
        if self.auth_token:
            self.env.setdefault("RASA_AUTH_TOKEN", self.auth_token)
        db.upgrade(url)
        with db.session_factory(url)() as session, session.begin():
            counts = load_seed(session)
        logger.info("service directory: %(created)d new, %(updated)d updated, %(unchanged)d unchanged seed entries", counts)

    def start(self, timeout: float = 240) -> "Servers":
        self.prepare_database()
        actions = self._spawn(
            "actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.actions_port)]
        )
        # The action server listens on /health; point Rasa at it whatever the port.
        rasa_args = [
            str(BIN / "rasa"), "run",
            "--model", str(self.model),
            "--port", str(self.rasa_port),
            "--interface", self.interface,
            "--endpoints", str(self.endpoints),
            "--credentials", str(self.credentials),
            "--enable-api",
            "--cors", "*",
        ]
        if self.auth_token:
            rasa_args += ["--auth-token", self.auth_token]
        rasa = self._spawn("rasa", rasa_args)
        console = None
        if self.console_port:
            console = self._spawn(
                "console", [str(BIN / "python"), "-m", "bot.console", "--port", str(self.console_port)]
            )
        try:
            wait_for(f"{self.actions_url}/health", timeout, actions)
            if console is not None:
                wait_for(f"{self.console_url}/login", timeout, console)
            wait_for(f"{self.rasa_url}/status" + (f"?token={self.auth_token}" if self.auth_token else ""), timeout, rasa)
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
        """Send one message over the REST (or web chat) channel and return the bot's replies."""
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
