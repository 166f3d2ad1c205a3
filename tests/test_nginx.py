"""nginx in front of the Rasa servers (bot/nginx.py, deploy/nginx.conf.template): the committed
containers' file is the template's rendering, bad values never reach a file, and Debian's real
nginx, run as `make run-prod` runs it, in front of small local HTTP servers: round robin, a
server that refuses connections skipped, a POST that reached a server never sent to another
(a GET may be), only the public routes proxied, the page and the directory API served."""
from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from bot import nginx
from bot.servers import free_port, wait_for


def test_the_committed_compose_file_is_the_templates_rendering():
    assert nginx.COMPOSE_CONF.read_text() == nginx.render(nginx.COMPOSE), "run: python -m bot.nginx --compose"


def test_the_local_rendering_fills_every_field():
    config = nginx.NginxConfig(
        listen="127.0.0.1:8080", rasa_servers=("127.0.0.1:5006", "127.0.0.1:5007"), directory_api="127.0.0.1:8082",
        web_root="/srv/fc/bot/web", state_dir="/srv/fc/var/nginx/",
    )
    text = nginx.render(config)
    assert not re.search(r"\{\{\w+\}\}", text)
    assert "listen 127.0.0.1:8080;" in text and "pid /srv/fc/var/nginx/nginx.pid;" in text
    assert "server 127.0.0.1:5007 max_fails=1 fail_timeout=10s;" in text and "proxy_next_upstream_tries 2;" in text
    assert "root /srv/fc/bot/web;" in text and "proxy_temp_path /srv/fc/var/nginx/proxy;" in text


@pytest.mark.parametrize(
    "change",
    [
        {"listen": "8080; include /etc/shadow"},
        {"rasa_servers": ()},
        {"rasa_servers": ("rasa-1:5005 backup",)},
        {"directory_api": "api:8082}"},
        {"web_root": "relative/web"},
        {"web_root": "/srv/my web"},
        {"state_dir": "/srv/$host"},
    ],
)
def test_a_value_nginx_cannot_take_is_refused(change):
    base = dict(listen="8080", rasa_servers=("r:1",), directory_api="d:2", web_root="/w", state_dir="/s")
    with pytest.raises(ValueError):
        nginx.render(nginx.NginxConfig(**{**base, **change}))


def test_a_field_nobody_fills_is_an_error():
    config = nginx.NginxConfig(listen="8080", rasa_servers=("r:1",), directory_api="d:2", web_root="/w", state_dir="/s")
    with pytest.raises(KeyError, match="tls_cert"):
        nginx.render(config, "listen {{listen}}; ssl_certificate {{tls_cert}};")


# --- the real nginx ------------------------------------------------------------------------------
class Upstream:
    """A local HTTP server recording (method, path, body); `die` ones read the request and drop
    the connection without answering (a server killed while answering)."""

    def __init__(self, name: str, die: bool = False) -> None:
        self.name, self.calls = name, []
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                upstream.calls.append((self.command, self.path, body))
                if die:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = json.dumps({"server": upstream.name, "path": self.path, "body": body}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = do_OPTIONS = do_DELETE = handle_one

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def front(tmp_path) -> Iterator:
    """Start nginx over the given Rasa upstreams (and a directory API); yields a starter."""
    if not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed: make nginx")
    started: list[subprocess.Popen] = []

    def start(rasa: list[str], api: Upstream) -> str:
        port = free_port()
        config = nginx.NginxConfig(
            listen=f"127.0.0.1:{port}", rasa_servers=tuple(rasa), directory_api=api.address,
            web_root=str(nginx.WEB_ROOT), state_dir=str(tmp_path / "nginx"),
        )
        conf = nginx.write(config, tmp_path / "nginx.conf")
        log = open(tmp_path / "nginx.log", "ab")
        process = subprocess.Popen(nginx.command(config, conf), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        wait_for(f"http://127.0.0.1:{port}/healthz", 20, process)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


def call(url: str, method: str = "GET", body: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, data=None if body is None else body.encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def upstreams() -> Iterator[dict[str, Upstream]]:
    made = {name: Upstream(name, die=name.startswith("dying")) for name in ("a", "b", "dying", "api")}
    yield made
    for upstream in made.values():
        upstream.close()


def test_round_robin_skips_a_server_that_refuses_and_delivers_each_message_once(front, upstreams):
    a, b, api = upstreams["a"], upstreams["b"], upstreams["api"]
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    base = front([a.address, dead, b.address], api)
    replies = [call(f"{base}/webhooks/webchat/webhook?x={i}", "POST", f"m{i}") for i in range(6)]
    assert [status for status, _, _ in replies] == [200] * 6
    assert sorted(json.loads(body)["body"] for _, _, body in replies) == [f"m{i}" for i in range(6)]
    assert json.loads(replies[0][2])["path"] == "/webhooks/webchat/webhook?x=0"  # path and query intact
    assert len(a.calls) + len(b.calls) == 6 and a.calls and b.calls  # each delivered once, both used


def test_a_post_that_reached_a_dying_server_gets_a_502_and_is_not_sent_again(front, upstreams):
    dying, ok, api = upstreams["dying"], upstreams["a"], upstreams["api"]
    base = front([dying.address, ok.address], api)
    status, _, _ = call(f"{base}/webhooks/twilio/webhook", "POST", "Body=yes")
    assert status == 502 and len(dying.calls) == 1 and ok.calls == []
    # The dying server is now left out (max_fails=1): the next message goes to the other at once.
    assert call(f"{base}/webhooks/twilio/webhook", "POST", "Body=again")[0] == 200
    assert [c[2] for c in ok.calls] == ["Body=again"] and len(dying.calls) == 1


def test_a_read_that_met_a_dying_server_is_passed_to_the_next(front, upstreams):
    dying, api = upstreams["dying"], upstreams["api"]
    base = front([dying.address, upstreams["a"].address], api)
    # GET is idempotent: nginx may send it on (the web chat's health check is the only GET).
    status, _, body = call(f"{base}/webhooks/webchat/")
    assert status == 200 and json.loads(body)["server"] == "a"


PRIVATE = [
    ("POST", "/webhooks/rest/webhook"), ("GET", "/status"), ("GET", "/conversations/wc:x/tracker"),
    ("POST", "/conversations/wc:x/tracker/events"), ("POST", "/model/parse"), ("GET", "/model"), ("POST", "/auth"),
    ("GET", "/version"), ("POST", "/webhooks/twilio/"), ("POST", "/webhooks/telegram/webhookx"),
    ("POST", "/webhooks/webchat/../rest/webhook"), ("POST", "/webhooks/webchat/%2e%2e/rest/webhook"),
    ("GET", "//conversations/x/tracker"), ("GET", "/index.html"),
]


def test_only_the_public_webhooks_reach_rasa(front, upstreams):
    a, api = upstreams["a"], upstreams["api"]
    base = front([a.address], api)
    answers = {path: call(base + path, method, "{}" if method == "POST" else None)[0] for method, path in PRIVATE}
    assert answers == {path: 404 for _, path in PRIVATE}
    assert a.calls == [] and api.calls == []
    for path in ("/webhooks/webchat/session", "/webhooks/webchat/webhook", "/webhooks/webchat/poll",
                 "/webhooks/twilio/webhook", "/webhooks/telegram/webhook"):
        assert call(base + path, "POST", "{}")[0] == 200, path
    assert [c[1] for c in a.calls][-1] == "/webhooks/telegram/webhook"


def test_the_page_its_config_and_health_are_served_by_nginx(front, upstreams):
    base = front([upstreams["a"].address], upstreams["api"])
    status, headers, body = call(base + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and headers["Cache-Control"] == "no-store"
    assert body == (nginx.WEB_ROOT / "index.html").read_bytes()
    status, headers, body = call(base + "/config.js")
    assert status == 200 and headers["Content-Type"] == "application/javascript"
    assert body == b'window.RASA_URL = "";\n'  # the page talks to its own origin
    assert call(base + "/healthz")[:3:2] == (200, b"ok\n")
    assert "Server" not in headers or "nginx/" not in headers["Server"]  # no version given away


def test_the_directory_api_is_under_openreferral_for_reads_only(front, upstreams):
    api = upstreams["api"]
    base = front([upstreams["a"].address], api)
    status, _, body = call(f"{base}/openreferral/services?text=carers&page=2")
    assert status == 200 and json.loads(body)["path"] == "/services?text=carers&page=2"  # the prefix taken off
    assert call(f"{base}/openreferral/")[0] == 200 and api.calls[-1][1] == "/"
    assert call(f"{base}/openreferral/services", "HEAD")[0] == 200
    assert call(f"{base}/openreferral/services", "OPTIONS")[0] == 200
    seen = len(api.calls)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert call(f"{base}/openreferral/services", method, "{}")[0] == 403, method
    assert len(api.calls) == seen  # refused by nginx, never forwarded
    status, headers, _ = call(f"{base}/openreferral")
    assert status == 200 and api.calls[-1][1] == "/"  # redirected to the slash, then answered
    assert call(f"{base}/openreferral/../status")[0] == 404
