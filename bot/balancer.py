"""A small round-robin balancer in front of the Rasa servers of `make run-prod` (bot/cluster.py).

    python -m bot.balancer --port 5005 --upstream http://127.0.0.1:5006 http://127.0.0.1:5007

aiohttp, rather than nginx: nothing to install here, and its retry rule is ours and tested. It
sends each request to the next Rasa server in turn. A server that refuses the connection is
skipped for a few seconds and the request goes to the next one (it was never received, so it is
never handled twice). A server that dies after receiving a request gives a 502: the message may
have been handled, so it is not sent again (nginx's default for POST, too). Requests for one
conversation may reach different servers: Rasa's Redis lock store makes them take turns. In
containers, deploy/nginx.conf does the same job.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot import log_hygiene
from bot.settings import Settings

logger = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length"}
)


@dataclass
class Upstream:
    """One Rasa server, and what the balancer has seen of it."""

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
        self._session: aiohttp.ClientSession | None = None

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

    async def handle(self, request: web.Request) -> web.Response:
        """Forward one request to the first upstream of `order()` that takes it."""
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
        """Close the client session (the app's cleanup)."""
        if self._session is not None:
            await self._session.close()


def serve_balancer(port: int, upstreams: list[str], interface: str = "127.0.0.1") -> None:
    """Run the balancer in the foreground until SIGTERM or Ctrl-C."""
    balancer = Balancer(upstreams)
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", balancer.handle)
    app.on_cleanup.append(lambda _app: balancer.close())
    web.run_app(app, host=interface, port=port, access_log=None, print=None, handle_signals=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interface", default=None, help="default: RASA_INTERFACE (localhost)")
    parser.add_argument("--upstream", nargs="+", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log_hygiene.install()
    serve_balancer(args.port, args.upstream, args.interface or Settings.from_env().rasa_interface)
    return 0


if __name__ == "__main__":
    sys.exit(main())
