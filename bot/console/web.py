"""What every console page shares: templates, the thread pool for database work, the client's
address and https behind a proxy, cookies, and `staff_page` (login, CSRF and role checks).

Database work (and rendering, which can load related rows) runs in a bounded thread pool,
never on the event loop: one slow query holds one request, not every worker's screen.
Behind a proxy, the client's address and https come from X-Forwarded-For and
X-Forwarded-Proto only when the direct peer is in TRUSTED_PROXIES (bot.net).
"""
from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import net
from bot.console import auth, stats
from bot.db import engine_for
from bot.referrals.priority import reason_words
from bot.staff import audit
from bot.staff.accounts import is_admin
from bot.staff.models import ROLE_ADMIN

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "fc_session"
LOGIN_CSRF_COOKIE = "fc_login_csrf"
# Set on a browser after a good login: its failures are counted apart (auth.LoginThrottle).
KNOWN_BROWSER_COOKIE = "fc_known"


class Forbidden(Exception):
    """A request that is refused with the 403 page (no session for a form, bad CSRF token, not an admin)."""


class LoginNeeded(Exception):
    """A background fetch (the transcript refresh) without a live session: 401, and the page's
    script goes to /login instead of drawing the login form inside the panel."""


class NotFoundCase(Exception):
    """A case number that does not exist: the 404 page."""


def _london() -> ZoneInfo | None:
    try:
        return ZoneInfo("Europe/London")
    except Exception:  # no time zone data: show UTC
        return None


_TZ = _london()


def _when(value: datetime | None) -> str:
    """A stored (UTC) time as UK local time."""
    if value is None:
        return ""
    if _TZ is not None:
        value = value.replace(tzinfo=timezone.utc).astimezone(_TZ)
    return value.strftime("%a %d %b %Y %H:%M")


def _age(value: datetime | None) -> str:
    return "" if value is None else _span(datetime.utcnow() - value)


def _span(value: timedelta | int | None) -> str:
    """A length of time (or a number of minutes) in words: "12 min", "2 h 5 min", "24 h", "3 days"."""
    if value is None:
        return ""
    minutes = max(0, value if isinstance(value, int) else int(value.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def templates() -> Environment:
    """The console's Jinja2 templates, autoescaped, with its filters (when, age, label, yesno)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["age"] = _age
    env.filters["span"] = _span
    env.filters["label"] = lambda value: (value or "").replace("_", " ")
    env.filters["yesno"] = lambda value: "not asked" if value is None else ("yes" if value else "no")
    env.globals["topic_label"] = stats.topic_label
    env.globals["priority_reason"] = reason_words
    env.globals["actions"] = audit.ACTIONS
    return env


def tracker_engine(app: Sanic) -> Engine:
    """Rasa's tracker store (TRACKER_STORE_URL): transcripts and statistics are read there."""
    return engine_for(app.ctx.settings.tracker_store_url)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A page from a template, with the user, their role and the session's CSRF token."""
    user = getattr(request.ctx, "user", None)
    login = getattr(request.ctx, "login", None)
    body = request.app.ctx.templates.get_template(template).render(
        user=user, is_admin=bool(user and is_admin(user)), csrf_token=login.csrf_token if login else "",
        path=request.path, **context,
    )
    return response.html(body, status=status)


async def in_thread(request: Request, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run blocking work (database, rendering that loads rows) in the console's thread pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app.ctx.executor, functools.partial(fn, *args, **kwargs))


def _from_trusted_proxy(request: Request) -> bool:
    peer = net._parse(request.ip or "")
    return peer is not None and any(peer in network for network in request.app.ctx.trusted)


def client_address(request: Request) -> str:
    """The client's address: X-Forwarded-For is believed only from a trusted proxy."""
    return net.client_address(request.ip, request.headers.get("x-forwarded-for"), request.app.ctx.trusted)


def is_https(request: Request) -> bool:
    """Whether the browser reached us over TLS: directly, or through a trusted proxy that says so."""
    if request.conn_info is not None and request.conn_info.ssl:
        return True
    if _from_trusted_proxy(request):
        proto = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def _secure(request: Request) -> bool:
    forced = request.app.ctx.secure_cookies
    if forced is not None:
        return forced
    return request.app.ctx.settings.console_secure_cookies or is_https(request)


async def refuse(request: Request, action: str, reason: str, user_id: int | None = None) -> None:
    """Count a refused request in the audit log (aggregated: audit.record_refusal)."""
    try:
        await in_thread(
            request, audit.record_refusal, action, reason, source=client_address(request), sessions=request.app.ctx.sessions, user_id=user_id,
        )
    except SQLAlchemyError as exc:  # the refusal stands even if it cannot be written down
        logger.error("could not record a refused request: %s", type(exc).__name__)


def set_cookie(request: Request, resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie for the whole site (Secure over https)."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if _secure(request):
        cookie["secure"] = True


def see_other(url: str) -> HTTPResponse:
    """303: after a form, the browser GETs `url` (reloading it does not send the form again)."""
    return response.redirect(url, status=303)


async def _check(request: Request, login: Any, user: Any, role: str | None, background: bool) -> HTTPResponse | None:
    """A redirect to /login for a page without a session; raises for a refused request."""
    if login is None:
        if background:
            raise LoginNeeded()
        if request.method != "GET":
            await refuse(request, "refused", "form sent without a session")
            raise Forbidden()
        return response.redirect("/login")
    if request.method == "POST" and not auth.csrf_ok(login.csrf_token, request.form.get("csrf_token")):
        await refuse(request, "refused", "bad CSRF token", user.id)
        raise Forbidden()
    if role == ROLE_ADMIN and not is_admin(user):
        await refuse(request, "refused", f"admin page {request.path} opened by a worker", user.id)
        raise Forbidden()
    return None


def staff_page(role: str | None = None, *, background: bool = False) -> Callable:
    """A page for logged-in staff (admins only with role="admin"): opens the request's one
    database session as `request.ctx.db`; checks the CSRF token of every POST. Opening a page
    keeps the session alive (idle timeout); a `background` fetch, or the queue's own
    auto-refresh (?auto=1), does not, and a background fetch without a session gets 401."""

    def decorate(handler: Callable) -> Callable:
        @wraps(handler)
        async def run(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            app = request.app
            db = app.ctx.sessions()
            slide = not background and request.args.get("auto") != "1"
            token = request.cookies.get(SESSION_COOKIE)

            def look_up():
                with db.begin():
                    login = auth.session_for_token(
                        token, session=db, idle_minutes=app.ctx.settings.console_idle_minutes if slide else None,
                    )
                    user = login.user if login else None
                # Detached: a later failed transaction (which expires what the session holds)
                # cannot make the error page reload them from the database on the event loop.
                db.expunge_all()
                return login, user

            try:
                login, user = await in_thread(request, look_up)
                if login is not None:
                    request.ctx.user, request.ctx.login, request.ctx.db = user, login, db
                elsewhere = await _check(request, login, user, role, background)
                if elsewhere is not None:
                    return elsewhere
                return await handler(request, *args, **kwargs)
            finally:
                await in_thread(request, db.close)

        return run

    return decorate
