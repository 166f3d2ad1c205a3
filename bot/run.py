"""`make run`: the action server, Rasa with the REST channel and API, and a local web chat page.

Stays in the foreground; Ctrl-C stops everything.
"""
from __future__ import annotations

import functools
import http.server
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

from bot import retention
from bot.servers import Servers
from bot.settings import Settings

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent / "web"


def serve_webchat(port: int, rasa_url: str) -> http.server.ThreadingHTTPServer:
    """Serve bot/web on localhost:port in a background thread."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] == "/config.js":
                body = f"window.RASA_URL = {rasa_url!r};\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/javascript")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the terminal for the servers' own logs

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=str(WEB_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def foreground(settings: Settings, servers: Servers, *, starting: str, banner: Callable[[], str], wait: Callable[[], int],
               page: bool = True) -> int:
    """Start `servers` (a Servers, or bot.cluster.Cluster), the web chat page (unless `page` is
    False: make run-prod's nginx serves it) and the retention schedule, print `banner()`, and
    return what `wait()` returns when a server stops; Ctrl-C (or SIGTERM) stops everything.
    Shared by `make run` and `make run-prod`."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started with SIGINT ignored (a background job)
    print(starting, flush=True)
    webchat = None
    try:
        servers.start()
        if page:
            webchat = serve_webchat(settings.webchat_port, servers.rasa_url)
        # "Delete my details" within a minute; conversations and closed cases past their retention.
        retention.schedule(settings, every_seconds=30)
        print(banner(), flush=True)
        return wait()
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        if webchat is not None:
            webchat.shutdown()
        servers.stop()


def model_missing(settings: Settings) -> bool:
    """Say so (and how to fix it) when there is no trained model to serve."""
    if settings.model_path.exists():
        return False
    print(f"No trained model at {settings.model_path}: run `make train` first.", file=sys.stderr)
    return True


def servers_for(settings: Settings) -> Servers:
    """The servers `make run` starts: each on the port its setting names; Rasa's endpoints are
    written from the same settings at start (bot/endpoints.py)."""
    return Servers(
        model=settings.model_path,
        rasa_port=settings.rasa_port,
        actions_port=settings.actions_port,
        console_port=settings.console_port,
        directory_api_port=settings.directory_api_port,
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    if model_missing(settings):
        return 1
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # Rasa and the action server listen on localhost (RASA_INTERFACE, ACTIONS_INTERFACE); the
    # HTTP API always needs a JWT made with the `rasa_api` secret (bot/api_auth.py).
    servers = servers_for(settings)

    def banner() -> str:
        return (
            "\nFamilies Connect is ready.\n"
            f"  Web chat:      http://localhost:{settings.webchat_port}/\n"
            f"  Staff console: {servers.console_url}/  (create a login: .venv/bin/bot staff add-user NAME --role admin)\n"
            f"  Directory API: {servers.directory_api_url}/services  (Open Referral UK, HSDS 3.0; public, read only)\n"
            f"  REST channel:  POST {servers.rasa_url}/webhooks/rest/webhook  {{\"sender\": ..., \"message\": ...}}  (this machine only)\n"
            f"  HTTP API:      {servers.rasa_url}  (Authorization: Bearer JWT signed with {settings.var_dir / 'rasa_api.secret'} or RASA_AUTH_TOKEN: bot/api_auth.py)\n"
            f"  Listening on:  {servers.interface} (Rasa), {settings.actions_interface} (actions)\n"
            "Press Ctrl-C to stop."
        )

    def wait() -> int:
        for process in servers.processes:
            process.wait()
        print("A server stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1

    return foreground(settings, servers, starting="Starting the action server and Rasa (about 30 seconds)...", banner=banner, wait=wait)


if __name__ == "__main__":
    sys.exit(main())
