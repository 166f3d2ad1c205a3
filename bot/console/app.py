"""The staff console web app (Sanic, server-rendered Jinja2 pages, no JavaScript needed).

    GET  /login, POST /login, POST /logout          routes_users
    GET  /audit, /users                  admins only, routes_users
    GET  /                               the queue (filters: status, kind, who), routes_cases
    GET  /queue/updates.json             urgent cases waiting (the open queue polls it to announce new ones), routes_cases
    GET  /cases/<id>                     a case, its notes and its conversation; POST .../note|called-back, routes_cases
    GET  /cases/<id>/transcript          the conversation alone (the case page refreshes it every few seconds), routes_cases
    POST /shift, /cases/<id>/claim|close|reply      live chat (these talk to Rasa), routes_live
    GET  /stats, /stats.csv              anonymous counts, routes_stats
    GET  /replies, /replies/search.json  saved replies (admins add, change, retire: POST), routes_replies
    POST /cases/<id>/concern-passed      a concern for someone inside passed to the prison, routes_concern
    GET  /directory, /directory/entries/<id>   the service directory (edit, verify: POST; admins close, replace, add), routes_directory
    GET  /review, /review/<ref>          conversations to review, one with its transcript (audited); POST .../tag|untag|label, routes_review

Every page needs a login; every POST needs the session's CSRF token (bot.console.web.staff_page).
One database session per request, its work run in a bounded thread pool (bot.console.web).
"""
from __future__ import annotations

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot import handoff, net
from bot.console import auth, routes_cases, routes_concern, routes_directory, routes_live, routes_replies, routes_review, routes_stats, routes_users
from bot.console.web import HERE, Forbidden, LoginNeeded, NotFoundCase, is_https, render, templates
from bot.db import session_factory
from bot.settings import Settings

logger = logging.getLogger(__name__)

# Threads for database work: requests beyond this wait their turn, off the event loop.
DB_THREADS = 16
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_app_numbers = itertools.count(1)


def create_app(settings: Settings, *, secure_cookies: bool | None = None) -> Sanic:
    """The console as a Sanic app. `secure_cookies`: None marks cookies Secure when the request
    came over https or CONSOLE_SECURE_COOKIES is on; True or False forces it."""
    app = Sanic(f"families_connect_console_{next(_app_numbers)}", configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.ctx.settings = settings
    # SQLite: BEGIN IMMEDIATE, as the pool's threads read-then-write at the same time.
    app.ctx.sessions = session_factory(settings.database_url, immediate=True)
    app.ctx.rasa = handoff.RasaClient.from_settings(settings)
    app.ctx.throttle = auth.LoginThrottle()
    app.ctx.templates = templates()
    app.ctx.secure_cookies = secure_cookies
    app.ctx.trusted = net.trusted_networks(settings.trusted_proxies)
    app.ctx.known_key = settings.secret("console")
    app.ctx.executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="console-db")
    app.static("/static", str(HERE / "static"), name="static")

    @app.after_server_stop
    async def stop_threads(app: Sanic, _loop) -> None:
        app.ctx.executor.shutdown(wait=False)

    @app.on_response
    async def security_headers(request: Request, resp: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        if not request.path.startswith("/static/"):
            resp.headers["Cache-Control"] = "no-store"
        if is_https(request):
            resp.headers["Strict-Transport-Security"] = HSTS

    _error_pages(app)
    for routes in (routes_users, routes_cases, routes_live, routes_stats, routes_replies, routes_directory, routes_concern, routes_review):
        routes.register(app)
    return app


def _error_pages(app: Sanic) -> None:
    """What a refused request, a missing case, a database in trouble or an ended session get."""

    @app.exception(Forbidden)
    async def forbidden(request: Request, exc: Exception) -> HTTPResponse:
        return render(request, "error.html", status=403, title="Not allowed",
                      message="You are not allowed to do that. If you were filling in a form, go back, reload the page and try again.")

    @app.exception(SQLAlchemyError)
    async def database_trouble(request: Request, exc: Exception) -> HTTPResponse:
        # Only the error's kind: its message can quote a sender id or what was typed.
        logger.error("database error in %s: %s", request.path, type(exc).__name__)
        return render(request, "error.html", status=503, title="Try again",
                      message="The database did not answer in time, so this was not done. Try again in a minute.")

    @app.exception(LoginNeeded)
    async def login_needed(request: Request, exc: Exception) -> HTTPResponse:
        return response.text("Your session has ended: log in again.", status=401, headers={"X-Login": "/login"})

    @app.exception(NotFoundCase)
    async def no_case(request: Request, exc: Exception) -> HTTPResponse:
        return render(request, "error.html", status=404, title="No such case", message="There is no case with that number.")
