"""Fixtures for the staff console: the real app served on a free port (SQLite and PostgreSQL),
a fake of Rasa's HTTP API that records what the console sends, and helpers to log in and
to make cases and conversations."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
import time
from datetime import datetime
from typing import Any, Iterator

import pytest
import requests
from aiohttp import web

from bot.settings import Settings
from bot.servers import free_port

PASSWORD = "correct horse battery"



class LoopThread:
    """An asyncio loop in a daemon thread, to serve something while the test runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class FakeRasa:
    """Rasa's conversation endpoints, recording each POST as (path, query, body). `fail` answers 500.
    Like Rasa, it answers 401 unless the request carries a Bearer JWT signed with `secret`."""

    secret = "secret-token"  # the console's RASA_AUTH_TOKEN in these tests

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.fail = False
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = LoopThread()
        app = web.Application()
        app.router.add_post("/conversations/{sender}/tracker/events", self._record)
        app.router.add_post("/conversations/{sender}/execute", self._record)
        self._runner = web.AppRunner(app)

        async def start() -> None:
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self._thread.run(start())

    async def _record(self, request: web.Request) -> web.Response:
        if self.fail:
            return web.json_response({"error": "down"}, status=500)
        import jwt

        try:
            jwt.decode(request.headers.get("Authorization", "").removeprefix("Bearer "), self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return web.json_response({"error": "NotAuthenticated"}, status=401)
        self.posts.append((request.path, dict(request.query), await request.json()))
        return web.json_response({"ok": True})

    def stop(self) -> None:
        self._thread.run(self._runner.cleanup())
        self._thread.stop()


class Console:
    """The console app served on 127.0.0.1:port in a background thread."""

    def __init__(self, settings: Settings, secure_cookies: bool | None = None) -> None:
        from sanic import Sanic

        from bot.console.app import create_app

        # Several apps start in one process here: Sanic's test mode keeps its start-up
        # rewriting of the HTTP class repeatable (sanic 21.12 TouchUp).
        Sanic.test_mode = True

        self.settings = settings
        self.app = create_app(settings, secure_cookies=secure_cookies)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = LoopThread()

        async def start():
            server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False)
            await server.startup()
            return server

        self._server = self._thread.run(start())

    def stop(self) -> None:
        async def close() -> None:
            await self._server.close()  # a task: the listening socket closes

        self._thread.run(close())
        self._thread.stop()


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa()
    yield rasa
    rasa.stop()


@pytest.fixture
def tracker_url(database_url) -> str:
    """Rasa's tracker store: here the events table lives in the test database itself."""
    from bot import conversations, db

    conversations.create_table(db.engine_for(database_url))
    return database_url


@pytest.fixture
def settings(database_url, tracker_url, fake_rasa, tmp_path) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), database_url=database_url, tracker_store_url=tracker_url, rasa_url=fake_rasa.url,
        rasa_auth_token=fake_rasa.secret, var_dir=tmp_path,
    )


@pytest.fixture
def console(settings) -> Iterator[Console]:
    served = Console(settings)
    yield served
    served.stop()


@pytest.fixture
def make_console(settings) -> Iterator:
    """make_console(trusted_proxies="127.0.0.1", ...) -> a console served with changed settings."""
    served = []

    def make(secure_cookies: bool | None = None, **changes: Any) -> Console:
        console = Console(dataclasses.replace(settings, **changes), secure_cookies=secure_cookies)
        served.append(console)
        return console

    yield make
    for console in served:
        console.stop()


@pytest.fixture
def make_user(session_for):
    """make_user("sam", role="worker") -> the user's id; password PASSWORD."""
    from bot.staff import accounts

    def make(username: str = "sam", role: str = "worker", name: str = "") -> int:
        with session_for() as s, s.begin():
            return accounts.add_user(username, PASSWORD, role=role, display_name=name or username.title(), session=s).id

    return make


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(console: Console, username: str = "sam", password: str = PASSWORD) -> requests.Session:
    """A browser-like client logged in through the form (raises if it did not work)."""
    client = requests.Session()
    page = client.get(console.url + "/login")
    reply = client.post(console.url + "/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)})
    assert reply.status_code == 200 and reply.url.rstrip("/") == console.url, reply.text[:500]
    return client


def post(client: requests.Session, console: Console, path: str, data: dict | None = None, page: str | None = None) -> requests.Response:
    """POST a form the way the page would: with the CSRF token from the page it is on."""
    if page is None:
        page = path.rsplit("/", 1)[0] if path.startswith("/cases/") else "/"
    html = client.get(console.url + page).text
    return client.post(console.url + path, data={**(data or {}), "csrf_token": csrf_from(html)})


@pytest.fixture
def make_callback(session_for):
    from bot.referrals import cases

    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> int:
        n = next(counter)
        values = dict(
            sender_id=f"sender-callback-{n}", channel="webchat", request_key=f"key-{n}-{time.time()}", consent_version="v1",
            consent_at=datetime(2026, 11, 30, 10, 0), phone="+447700900123", safe_to_call=True, safe_to_leave_message=False,
            name="Alex Example", best_time="after 6pm", area="Stockton-on-Tees", council_code="STT",
            summary="Worried about visiting", topic="ask_visiting", audience="family",
        )
        values.update(fields)
        with session_for() as s, s.begin():
            case, _ = cases.create_callback(cases.CallbackRequest(**values), session=s)
            return case.id

    return make


@pytest.fixture
def make_live(session_for):
    from bot.referrals import cases

    def make(sender_id: str = "live-sender-1", **fields: Any) -> int:
        with session_for() as s, s.begin():
            case, _ = cases.open_live(sender_id=sender_id, channel="telegram", request_key=f"live-{sender_id}", session=s, **fields)
            return case.id

    return make


@pytest.fixture
def add_events(tracker_url):
    """add_events(sender_id, [("user", "text", intent), ("bot", "text", None), ...]) into the tracker store."""
    from bot import conversations, db

    def add(sender_id: str, lines: list[tuple], start: float | None = None) -> None:
        start = start or time.time() - 60
        with db.engine_for(tracker_url).begin() as connection:
            for i, (kind, text, *rest) in enumerate(lines):
                extra = rest[0] if rest else None
                data: dict[str, Any] = {"event": kind, "timestamp": start + i}
                intent = None
                if kind == "user":
                    intent = extra
                    data.update(text=text, parse_data={"intent": {"name": extra}})
                elif kind == "bot":
                    data.update(text=text)
                elif kind == "slot":
                    data.update(name=text, value=extra)
                connection.execute(conversations.events.insert().values(
                    sender_id=sender_id, type_name=kind, timestamp=start + i, intent_name=intent, data=json.dumps(data),
                ))

    return add


ACCOUNT_ACTIONS = ("account_added", "account_deactivated", "password_set")


def audit_rows(session_for, accounts: bool = False) -> list[tuple[str, int | None, int | None, str]]:
    """(action, staff_user_id, case_id, detail) of every audit entry, oldest first (the
    account changes that made the test's users left out unless `accounts`)."""
    from sqlalchemy import select

    from bot.staff.models import AuditEntry

    with session_for() as s:
        return [
            (e.action, e.staff_user_id, e.case_id, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if accounts or e.action not in ACCOUNT_ACTIONS
        ]
