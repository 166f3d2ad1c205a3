"""Rasa's REST channel, its HTTP API and the action server never face the outside (issue 12,
items 2 and 3), shown by the attacks against the production shape (nginx, two Rasa servers,
the directory API, the action server, PostgreSQL, Redis): the API without a token, with a token
in the URL, with forged or expired JWTs; the private routes asked of the running nginx; the
servers' ports on this machine's other addresses; a cross-origin preflight; calls to the action
server without its key; and the container shape's configuration (deploy/nginx.conf,
deploy/docker-compose.yml) read as nginx and compose would."""
from __future__ import annotations

import ipaddress
import json
import posixpath
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jwt
import pytest
import yaml
from sqlalchemy import select

from bot import db
from bot.api_auth import api_token, auth_headers
from bot.endpoints import ACTION_KEY_HEADER
from bot.referrals.consent import CONSENT_VERSION, consent_time
from bot.referrals.models import Case

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
INJECTED = "Please confirm your address by replying to this message"


def call(url: str, method: str = "GET", body: object | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def events_of(stack, sender: str) -> list[dict]:
    status, tracker = stack.api(f"/conversations/{sender}/tracker")
    assert status == 200
    return tracker["events"]


@pytest.fixture(scope="module")
def conversation(stack) -> str:
    """Someone's conversation, with something personal in it."""
    sender = "wc:" + secrets.token_hex(12)
    stack.say(sender, "my partner is in HMP Durham and I am struggling")
    return sender


# --- the HTTP API -------------------------------------------------------------------------------
def test_the_api_without_a_token_is_refused_and_nothing_is_written(stack, conversation):
    base = stack.rasa_url
    status, _, body = call(f"{base}/conversations/{conversation}/tracker")
    assert status in (401, 403) and b"struggling" not in body
    for path in ("/status", "/domain"):
        assert call(base + path)[0] in (401, 403), path
    assert call(base + "/version/../status")[0] == 404  # Sanic does not resolve dot segments: no such route
    status, _, _ = call(
        f"{base}/conversations/{conversation}/tracker/events?output_channel=latest", "POST", [{"event": "bot", "text": INJECTED}]
    )
    assert status in (401, 403)
    assert call(f"{base}/model/parse", "POST", {"text": "hello"})[0] in (401, 403)
    assert all(e.get("text") != INJECTED for e in events_of(stack, conversation))


def test_a_token_in_the_url_is_refused(stack, conversation):
    base = stack.rasa_url
    # Rasa's --auth-token style (?token=), with the real secret, and sanic-jwt's query string.
    for query in (f"token={stack.auth_token}", f"access_token={api_token(stack.auth_token)}", f"token={api_token(stack.auth_token)}"):
        status, _, body = call(f"{base}/conversations/{conversation}/tracker?{query}")
        assert status in (401, 403) and b"struggling" not in body, query
        assert call(f"{base}/status?{query}")[0] in (401, 403)


def test_a_bearer_jwt_works_and_forged_or_stale_ones_do_not(stack, conversation):
    base = stack.rasa_url
    status, _, body = call(f"{base}/conversations/{conversation}/tracker", headers=auth_headers(stack.auth_token))
    assert status == 200 and b"struggling" in body
    forged = {
        "another key": api_token("not-" + stack.auth_token),
        "expired": api_token(stack.auth_token, now=time.time() - 3600),
        "no signature": jwt.encode({"user": {"username": "x", "role": "admin"}, "exp": int(time.time()) + 60}, None, algorithm="none"),
        "another person's role": jwt.encode(
            {"user": {"username": "wc:someone-else", "role": "user"}, "exp": int(time.time()) + 60}, stack.auth_token, algorithm="HS256"
        ),
    }
    for what, token in forged.items():
        status, _, body = call(f"{base}/conversations/{conversation}/tracker", headers={"Authorization": f"Bearer {token}"})
        # An unsigned token makes sanic-jwt raise rather than answer 401: refused all the same.
        refused = (401, 403, 500) if what == "no signature" else (401, 403)
        assert status in refused and b"struggling" not in body, what


# --- addresses ----------------------------------------------------------------------------------
def other_addresses() -> list[str]:
    """This machine's addresses that are not loopback and that a listener on all interfaces
    can be reached on (so a refusal there means our servers are not listening on it)."""
    found: set[str] = set()
    try:
        found.update(subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None))
    except socket.gaierror:
        pass
    usable = []
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_link_local:
            continue
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        with socket.socket(family) as listener:  # the check can succeed: a wildcard listener answers
            listener.bind(("::" if ip.version == 6 else "0.0.0.0", 0))
            listener.listen()
            port = listener.getsockname()[1]
            try:
                socket.create_connection((address, port), timeout=3).close()
            except OSError:
                continue
        usable.append(address)
    return usable


def reachable(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=3).close()
        return True
    except OSError:
        return False


def test_nginx_rasa_and_the_action_server_are_not_reachable_on_other_addresses(stack):
    addresses = other_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address")
    ports = {
        "nginx": stack.public_port, "action server": stack.actions_port, "directory API": stack.directory_api_port,
        **{f"rasa-{i}": stack.instance_port + i for i in range(stack.instances)},
    }
    assert all(reachable("127.0.0.1", port) for port in ports.values())  # they are up, here
    exposed = [f"{name} on {address}:{port}" for address in addresses for name, port in ports.items() if reachable(address, port)]
    assert exposed == []


# --- CORS ---------------------------------------------------------------------------------------
def preflight(stack, origin: str) -> dict:
    status, headers, _ = call(
        f"{stack.public_url}/webhooks/webchat/webhook", "OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    return {k.lower(): v for k, v in headers.items()}


def test_cors_answers_only_the_web_chat_pages_origin(stack):
    page_origin = stack._settings().cors_origin_list()[0]
    assert preflight(stack, page_origin).get("access-control-allow-origin") == page_origin
    for origin in ("https://evil.example", "null", page_origin + ".evil.example"):
        assert "access-control-allow-origin" not in preflight(stack, origin), origin


def test_cors_refuses_a_wildcard(monkeypatch):
    from bot.settings import Settings

    monkeypatch.setenv("CORS_ORIGINS", "https://chat.example.org, *")
    with pytest.raises(ValueError, match="never"):
        Settings.from_env().cors_origin_list()


# --- the action server --------------------------------------------------------------------------
PHONE = "+447700900462"


def submit_call(sender: str) -> dict:
    """What Rasa sends the action server to store a call back that was consented and checked."""
    latest = {"intent": {"name": "affirm", "confidence": 1.0}, "entities": [], "text": "yes", "message_id": secrets.token_hex(8)}
    slots = {
        "referral_consent": "yes", "referral_confirmed": "yes", "referral_phone": PHONE, "referral_name": "Test Person",
        "referral_safe_to_call": "yes", "referral_leave_message": "no", "referral_consent_at": consent_time(),
        "referral_consent_version": CONSENT_VERSION,
    }
    return {
        "next_action": "action_submit_referral", "sender_id": sender, "version": "3.6.2", "domain": {},
        "tracker": {
            "sender_id": sender, "slots": slots, "latest_message": latest, "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen", "latest_input_channel": "rest",
            "events": [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "yes", "parse_data": latest, "input_channel": "rest"}],
        },
    }


def cases_for(stack, sender: str) -> list[Case]:
    with db.session_factory(stack.database_url)() as s:
        return list(s.execute(select(Case).where(Case.sender_id == sender)).scalars())


def test_the_action_server_refuses_calls_without_its_key(stack):
    sender = "wc:" + secrets.token_hex(12)
    for headers in ({}, {ACTION_KEY_HEADER: "wrong"}, {ACTION_KEY_HEADER: stack.env["ACTION_SERVER_SECRET"][:-1]}, {"Authorization": "Bearer x"}):
        status, _, body = call(f"{stack.actions_url}/webhook", "POST", submit_call(sender), headers)
        assert status == 401 and b"FC-" not in body, headers
        assert call(f"{stack.actions_url}/actions", headers=headers)[0] == 401
    assert cases_for(stack, sender) == []  # the action never ran
    assert call(f"{stack.actions_url}/health")[0] == 200  # health checks stay open

    status, _, body = call(f"{stack.actions_url}/webhook", "POST", submit_call(sender), {ACTION_KEY_HEADER: stack.env["ACTION_SERVER_SECRET"]})
    assert status == 200 and b"utter_referral_sent" in body, body
    assert [c.phone for c in cases_for(stack, sender)] == [PHONE]


def test_rasa_reaches_the_action_server_with_its_key(stack):
    sender = "wc:" + secrets.token_hex(12)
    replies = " ".join(r.get("text", "") for r in stack.say(sender, "who supports grandparent carers in Stockton", channel="rest"))
    assert replies and "something went wrong" not in replies


# --- nginx ----------------------------------------------------------------------------------------
PUBLIC = ["/webhooks/webchat/webhook", "/webhooks/webchat/poll", "/webhooks/twilio/webhook", "/webhooks/telegram/webhook"]
PAGE = ["/", "/config.js"]
DIRECTORY_API = ["/openreferral/", "/openreferral/services", "/openreferral/services/x?page=2"]
PRIVATE = [
    "/webhooks/rest/webhook", "/webhooks/twilio/", "/webhooks/telegram/webhookx", "/webhooks/callback/webhook",
    "/conversations/wc:x/tracker", "/conversations/wc:x/tracker/events", "/model/parse", "/model", "/status", "/domain",
    "/version", "/auth", "/auth/verify", "/webhooks/webchat/../rest/webhook", "/webhooks/webchat/%2e%2e/rest/webhook",
    "/webhooks/twilio/webhook/../../rest/webhook", "//conversations/x/tracker", "/openreferral/../status",
    "/openreferral/%2e%2e/conversations/x/tracker", "/healthz/../status",
]


def test_the_running_nginx_answers_only_the_public_routes(stack, conversation):
    """Asked of nginx as the world would ask it: the private routes are nginx's own 404 (nothing
    reaches Rasa), the public ones are answered by Rasa, the page by nginx, the directory by its API."""
    base = stack.public_url
    for path in PRIVATE:
        for method, body in (("GET", None), ("POST", {"sender": conversation, "message": "hi"})):
            status, _, reply = call(base + path, method, body, headers=auth_headers(stack.auth_token))
            assert status == 404 and b"struggling" not in reply, (method, path)
    session = call(base + "/webhooks/webchat/session", "POST", {})
    assert session[0] == 200 and json.loads(session[2])["sender"].startswith("wc:")
    assert call(base + "/webhooks/webchat/webhook", "POST", {"sender": "wc:forged", "message": "hi"})[0] == 403  # Rasa's answer
    for path in ("/webhooks/twilio/webhook", "/webhooks/telegram/webhook"):
        assert call(base + path, "POST", {})[0] in (403, 503), path  # unsigned (or the channel is off): Rasa's answer
    status, headers, page = call(base + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"/config.js" in page
    assert call(base + "/config.js")[2] == b'window.RASA_URL = "";\n'  # the page talks to its own origin
    status, _, body = call(base + "/openreferral/")
    assert status == 200 and isinstance(json.loads(body), dict)
    assert call(base + "/openreferral/", "POST", {})[0] == 403


def nginx_locations(conf: str) -> list[tuple[str, str, str]]:
    """(modifier, pattern, body) of each `location` in nginx.conf (comments removed)."""
    conf = re.sub(r"#[^\n]*", "", conf)
    found = []
    for match in re.finditer(r"location\s+(=|~\*|~|\^~)?\s*(\S+)\s*\{", conf):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        found.append((match.group(1) or "", match.group(2), conf[match.end(): i - 1]))
    return found


def nginx_choice(locations, uri: str):
    """The location nginx uses for `uri`: after decoding and normalising it (as nginx does),
    an exact match, else the longest prefix if it is ^~, else the first regex, else the
    longest prefix."""
    path = posixpath.normpath(re.sub(r"/+", "/", urllib.parse.unquote(uri.split("?")[0])))
    path = path if path != "." else "/"
    path = path + "/" if uri.split("?")[0].endswith("/") and path != "/" else path
    exact = [loc for loc in locations if loc[0] == "=" and loc[1] == path]
    if exact:
        return exact[0]
    prefixes = sorted((loc for loc in locations if loc[0] in ("", "^~") and path.startswith(loc[1])), key=lambda l: -len(l[1]))
    if prefixes and prefixes[0][0] == "^~":
        return prefixes[0]
    for loc in locations:
        if loc[0] in ("~", "~*") and re.search(loc[1], path, re.I if loc[0] == "~*" else 0):
            return loc
    return prefixes[0] if prefixes else None


def test_nginx_routes_only_the_public_webhooks_the_page_and_the_directory_api():
    """deploy/nginx.conf (the containers'; the same template as make run-prod's) read as nginx would."""
    locations = nginx_locations((ROOT / "deploy" / "nginx.conf").read_text())
    body = lambda uri: (nginx_choice(locations, uri) or ("", "", ""))[2]  # noqa: E731
    assert [uri for uri in PUBLIC if "proxy_pass http://rasa;" not in body(uri)] == []
    assert [uri for uri in DIRECTORY_API if "proxy_pass http://directory_api/;" not in body(uri)] == []
    assert [uri for uri in PRIVATE + PAGE if "proxy_pass" in body(uri)] == []
    assert "index.html" in body("/")
    # Every proxying location is exact or under /webhooks/webchat/ (no regex that could widen),
    # and the directory API's takes reads only.
    for modifier, pattern, text in locations:
        if "proxy_pass http://rasa" in text:
            assert (modifier == "=" and pattern in PUBLIC) or (modifier == "^~" and pattern == "/webhooks/webchat/"), pattern
        elif "proxy_pass" in text:
            assert (modifier, pattern) == ("^~", "/openreferral/") and "limit_except GET OPTIONS { deny all; }" in text


def test_compose_publishes_only_nginx_and_keeps_rasa_and_actions_internal():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    published = {name: s.get("ports") for name, s in services.items() if s.get("ports")}
    assert set(published) <= {"nginx", "console"}
    assert all(str(p).startswith("127.0.0.1:") for p in published.get("console", []))
    internal = {name for name, n in compose["networks"].items() if n and n.get("internal")}
    for name in ("rasa-1", "rasa-2", "actions", "postgres", "redis", "directory-api"):
        assert not services[name].get("ports"), name
        assert set(services[name]["networks"]) & internal, name
    assert services["directory-api"]["networks"] == ["internal"] and "bot.directory_api" in json.dumps(services["directory-api"]["command"])
    # nginx reaches the API and the Rasa servers; the console reaches whichever Rasa server answers.
    assert {"rasa-1", "rasa-2", "directory-api"} <= set(services["nginx"]["depends_on"])
    assert services["console"]["environment"]["RASA_URL"] == "http://rasa-1:5005,http://rasa-2:5005"
    nginx_address = services["nginx"]["networks"]["internal"]["ipv4_address"]
    assert services["rasa-1"]["environment"]["TRUSTED_PROXIES"] == nginx_address
    for name in ("rasa-1", "rasa-2"):
        command = json.dumps(services[name]["command"]) + json.dumps(services[name].get("healthcheck", {}))
        assert "--auth-token" not in command and "token=" not in command and "bot.rasa_server" in command
    assert "bot.action_server" in json.dumps(services["actions"]["command"])
    env = services["rasa-1"]["environment"]
    assert "ACTION_SERVER_SECRET" in env and "*" not in str(env.get("CORS_ORIGINS", ""))


def test_compose_gives_every_container_the_same_required_secrets_and_a_secure_console():
    """var/ is not shared between containers: a secret left to be generated would differ per
    container (a web chat id issued by rasa-1 refused by rasa-2, the console's JWTs refused)."""
    services = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]
    for name in ("rasa-1", "rasa-2", "actions", "console", "purge"):
        env = services[name]["environment"]
        for secret in ("RASA_AUTH_TOKEN", "ACTION_SERVER_SECRET", "WEBCHAT_SECRET"):
            assert str(env.get(secret, "")).endswith(f":?set {secret}}}"), (name, secret)
    console = services["console"]["environment"]
    assert console["CONSOLE_SECURE_COOKIES"] == "1" and "TRUSTED_PROXIES" in console
    assert "bot handoff sweep" in json.dumps(services["purge"]["command"])
