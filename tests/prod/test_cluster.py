"""The production shape without Rasa: the endpoints written from the settings (bot/endpoints.py), and the balancer
(round robin, a refusing server skipped, a request never sent twice) against small aiohttp
servers."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import yaml
from aiohttp import ClientSession, web

from bot.balancer import Balancer
from bot.endpoints import TRACKER_STORE_TYPE, endpoints_for, lock_store_endpoint, tracker_store_endpoint, write_endpoints
from bot.settings import Settings
from bot.servers import free_port


def test_postgres_tracker_store_and_redis_lock_store_from_urls():
    assert tracker_store_endpoint("postgresql://fc:s%40cret@db.internal:6543/tracker") == {
        "type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "db.internal", "port": 6543, "db": "tracker",
        "username": "fc", "password": "s@cret",
    }
    assert tracker_store_endpoint("postgresql://postgres@127.0.0.1/t") == {
        "type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": "t", "username": "postgres",
    }
    assert tracker_store_endpoint("sqlite:///var/rasa_tracker.db") == {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": "var/rasa_tracker.db"}
    assert lock_store_endpoint("redis://:pw@cache:6380/3") == {"type": "redis", "url": "cache", "port": 6380, "db": 3, "password": "pw"}
    assert lock_store_endpoint("redis://127.0.0.1") == {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 0}
    assert lock_store_endpoint(None) is None
    with pytest.raises(ValueError):
        tracker_store_endpoint("mysql://x/y")
    with pytest.raises(ValueError):
        lock_store_endpoint("memcached://x")


def test_endpoints_file_for_a_run(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    key = "k" * 43
    settings = replace(
        Settings.from_env(), tracker_store_url="postgresql://postgres@127.0.0.1:5432/t", actions_port=5999, action_server_secret=key
    )
    assert "lock_store" not in endpoints_for(settings)  # in memory: one Rasa server only
    settings = replace(settings, lock_store_url="redis://127.0.0.1:6379/0")
    path = write_endpoints(endpoints_for(settings), tmp_path / "endpoints.yml")
    written = yaml.safe_load(path.read_text())
    # Rasa sends the action server's key with every call (bot/action_server.py refuses others).
    assert written["action_endpoint"] == {"url": "http://localhost:5999/webhook", "headers": {"X-Action-Server-Key": key}}
    assert written["tracker_store"]["dialect"] == "postgresql" and written["lock_store"]["type"] == "redis"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "${" not in path.read_text()


# --- the balancer --------------------------------------------------------------------------------

async def upstream(name: str, calls: list[str], die: bool = False) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.StreamResponse:
        calls.append(name)
        if die:  # received, then the connection drops before any answer
            request.transport.close()
            await asyncio.sleep(0.1)
        return web.json_response({"server": name, "body": (await request.read()).decode(), "path": request.path_qs})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def through(balancer: Balancer, requests: int) -> list[tuple[int, dict]]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", balancer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    out = []
    try:
        async with ClientSession() as session:
            for i in range(requests):
                async with session.post(f"http://127.0.0.1:{port}/webhooks/webchat/webhook?x={i}", data=f"m{i}") as reply:
                    out.append((reply.status, await reply.json()))
    finally:
        await balancer.close()
        await runner.cleanup()
    return out


def test_round_robin_skipping_a_server_that_refuses_connections():
    async def scenario():
        calls: list[str] = []
        a, a_url = await upstream("a", calls)
        b, b_url = await upstream("b", calls)
        dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        balancer = Balancer([a_url, dead, b_url], skip_seconds=60)
        replies = await through(balancer, 6)
        await a.cleanup()
        await b.cleanup()
        return calls, replies, balancer

    calls, replies, balancer = asyncio.run(scenario())
    assert [status for status, _ in replies] == [200] * 6
    assert [r["body"] for _, r in replies] == [f"m{i}" for i in range(6)]  # each delivered once, body and query intact
    assert [r["path"] for _, r in replies][0] == "/webhooks/webchat/webhook?x=0"
    assert len(calls) == 6 and calls.count("a") == 3 and calls.count("b") == 3
    assert [u.refused for u in balancer.upstreams] == [0, 1, 0]  # tried once, then skipped


def test_a_server_that_dies_mid_request_gets_a_502_and_is_not_sent_it_again():
    async def scenario():
        calls: list[str] = []
        dying, dying_url = await upstream("dying", calls, die=True)
        ok, ok_url = await upstream("ok", calls)
        replies = await through(Balancer([dying_url, ok_url]), 1)
        await dying.cleanup()
        await ok.cleanup()
        return calls, replies

    calls, replies = asyncio.run(scenario())
    assert calls == ["dying"] and replies[0][0] == 502
