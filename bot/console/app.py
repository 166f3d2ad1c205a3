"""The staff console web app (Sanic, server-rendered Jinja2 pages, no JavaScript needed).

    GET  /login, POST /login, POST /logout
    GET  /                       the queue (filters: status, kind, who)
    POST /shift                  start or end one's shift (live chats are offered while someone is on)
    GET  /cases/<id>             a case, its notes and its conversation; POST .../claim|note|called-back|close|reply
    GET  /cases/<id>/transcript  the conversation alone (the case page refreshes it every few seconds)
    GET  /stats, /stats.csv      anonymous counts
    GET  /audit, /users          admins only

Every page needs a login; every POST needs the session's CSRF token. One database session
per request; a request that calls Rasa commits its change before the call and records the
call's outcome in a second short transaction, so Rasa being slow never holds a lock.

Database work (and rendering, which can load related rows) runs in a bounded thread pool,
never on the event loop: one slow query holds one request, not every worker's screen.
Behind a proxy, the client's address and https come from X-Forwarded-For and
X-Forwarded-Proto only when the direct peer is in TRUSTED_PROXIES (bot.net).
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import conversations, handoff, net
from bot.console import audit, auth, stats
from bot.console.models import ROLE_ADMIN
from bot.db import engine_for, make_engine, session_factory
from bot.referrals import cases
from bot.referrals.models import KIND_LIVE, KINDS, STATUSES, Case
from bot.settings import Settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "fc_session"
LOGIN_CSRF_COOKIE = "fc_login_csrf"
# Set on a browser after a good login: its failures are counted apart (auth.LoginThrottle).
KNOWN_BROWSER_COOKIE = "fc_known"
# Threads for database work: requests beyond this wait their turn, off the event loop.
DB_THREADS = 16
HSTS = "max-age=31536000; includeSubDomains"
MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 4000
# A refreshing transcript is audited once per worker and case in this many minutes, not every few seconds.
TRANSCRIPT_AUDIT_MINUTES = 10

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

# What the page says after a change (codes in the URL: never what anyone typed).
DONE = {
    "claimed": ("ok", "You have claimed this case."),
    "claimed_live": ("ok", "You have claimed this chat; the person has been told a worker has joined."),
    "claimed_unsent": ("warning", "You have claimed this chat, but the assistant could not be reached to tell the person: say hello in a reply once it is back."),
    "note": ("ok", "Note added."),
    "called_back": ("ok", "Marked as called back."),
    "closed": ("ok", "Case closed."),
    "closed_handed_back": ("ok", "Chat closed and handed back to the assistant; the person has been told."),
    "closed_not_handed_back": ("warning", "Chat closed, but the assistant could not be reached to hand it back: the conversation may stay paused until it is. Tell a developer or admin."),
    "reply": ("ok", "Reply sent."),
}

_app_numbers = itertools.count(1)


class Forbidden(Exception):
    pass


class LoginNeeded(Exception):
    """A background fetch (the transcript refresh) without a live session: 401, and the page's
    script goes to /login instead of drawing the login form inside the panel."""


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["age"] = _age
    env.filters["label"] = lambda value: (value or "").replace("_", " ")
    env.filters["yesno"] = lambda value: "not asked" if value is None else ("yes" if value else "no")
    env.globals["topic_label"] = stats.topic_label
    env.globals["actions"] = audit.ACTIONS
    return env


def _london():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/London")
    except Exception:  # no time zone data: show UTC
        return None


_TZ = _london()


def _when(value: datetime | None) -> str:
    """A stored (UTC) time as UK local time."""
    if value is None:
        return ""
    if _TZ is not None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc).astimezone(_TZ)
    return value.strftime("%a %d %b %Y %H:%M")


def _age(value: datetime | None) -> str:
    if value is None:
        return ""
    minutes = max(0, int((datetime.utcnow() - value).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


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
    app.ctx.templates = _templates()
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
        if _https(request):
            resp.headers["Strict-Transport-Security"] = HSTS

    @app.exception(Forbidden)
    async def forbidden(request: Request, exc: Exception) -> HTTPResponse:
        return _render(request, "error.html", status=403, title="Not allowed",
                       message="You are not allowed to do that. If you were filling in a form, go back, reload the page and try again.")

    @app.exception(SQLAlchemyError)
    async def database_trouble(request: Request, exc: Exception) -> HTTPResponse:
        # Only the error's kind: its message can quote a sender id or what was typed.
        logger.error("database error in %s: %s", request.path, type(exc).__name__)
        return _render(request, "error.html", status=503, title="Try again",
                       message="The database did not answer in time, so this was not done. Try again in a minute.")

    @app.exception(LoginNeeded)
    async def login_needed(request: Request, exc: Exception) -> HTTPResponse:
        return response.text("Your session has ended: log in again.", status=401, headers={"X-Login": "/login"})

    _routes(app)
    return app


# --- helpers --------------------------------------------------------------------------------

def _tracker_engine(app: Sanic):
    return engine_for(app.ctx.settings.tracker_store_url)


def _has_events_table(app: Sanic) -> bool:
    return sa_inspect(_tracker_engine(app)).has_table("events")


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    user = getattr(request.ctx, "user", None)
    login = getattr(request.ctx, "login", None)
    body = request.app.ctx.templates.get_template(template).render(
        user=user, is_admin=bool(user and user.role == ROLE_ADMIN), csrf_token=login.csrf_token if login else "",
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


def _address(request: Request) -> str:
    """The client's address: X-Forwarded-For is believed only from a trusted proxy."""
    return net.client_address(request.ip, request.headers.get("x-forwarded-for"), request.app.ctx.trusted)


def _https(request: Request) -> bool:
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
    return request.app.ctx.settings.console_secure_cookies or _https(request)


async def _refuse(request: Request, action: str, reason: str, user_id: int | None = None) -> None:
    """Count a refused request in the audit log (aggregated: audit.record_refusal)."""
    try:
        await in_thread(
            request, audit.record_refusal, action, reason, source=_address(request), sessions=request.app.ctx.sessions, user_id=user_id,
        )
    except SQLAlchemyError as exc:  # the refusal stands even if it cannot be written down
        logger.error("could not record a refused request: %s", type(exc).__name__)


def _set_cookie(request: Request, resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if _secure(request):
        cookie["secure"] = True


def _see_other(url: str) -> HTTPResponse:
    return response.redirect(url, status=303)


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
                if login is None:
                    if background:
                        raise LoginNeeded()
                    if request.method != "GET":
                        await _refuse(request, "refused", "form sent without a session")
                        raise Forbidden()
                    return response.redirect("/login")
                request.ctx.user, request.ctx.login, request.ctx.db = user, login, db
                if request.method == "POST" and not auth.csrf_ok(login.csrf_token, request.form.get("csrf_token")):
                    await _refuse(request, "refused", "bad CSRF token", user.id)
                    raise Forbidden()
                if role == ROLE_ADMIN and user.role != ROLE_ADMIN:
                    await _refuse(request, "refused", f"admin page {request.path} opened by a worker", user.id)
                    raise Forbidden()
                return await handler(request, *args, **kwargs)
            finally:
                await in_thread(request, db.close)

        return run

    return decorate


def _case_or_404(db: Session, case_id: int) -> Case:
    try:
        return cases.get_case(case_id, session=db)
    except cases.CaseError:
        raise NotFoundCase() from None


class NotFoundCase(Exception):
    pass


def _transcript(app: Sanic, sender_id: str) -> tuple[list[conversations.Line] | None, str]:
    """(lines, problem): lines is None when there is nothing to show, and problem says why."""
    try:
        if not _has_events_table(app):
            return None, "No conversation is stored for this case."
        lines = conversations.transcript(sender_id, engine=_tracker_engine(app))
    except SQLAlchemyError as exc:
        # Only the error's kind: its message can quote the sender id, which is a phone number on SMS.
        logger.error("could not read the tracker store: %s", type(exc).__name__)
        return None, "The conversation could not be read just now: try again shortly."
    if not lines:
        return None, "No conversation is stored for this case."
    return lines, ""


def _case_page(
    request: Request, case: Case, *, status: int = 200, error: str = "", notice: tuple[str, str] | None = None, draft: str = "",
) -> HTTPResponse:
    lines, problem = _transcript(request.app, case.sender_id)
    paused = False
    if case.kind == KIND_LIVE and lines is not None:
        try:
            paused = conversations.is_paused(case.sender_id, engine=_tracker_engine(request.app))
        except SQLAlchemyError:
            paused = False
    return _render(
        request, "case.html", status=status, case=case, notes=list(case.notes), lines=lines, transcript_problem=problem,
        error=error, notice=notice, paused=paused, live=case.kind == KIND_LIVE,
        mine=case.claimed_by_id == request.ctx.user.id, draft=draft,
    )


def _usage_rows(app: Sanic, db: Session) -> list[conversations.UsageRow]:
    if _has_events_table(app):
        tracker = _tracker_engine(app)
    else:  # Rasa has not stored a conversation yet: count the cases and kept counts only
        tracker = make_engine("sqlite://")
        conversations.create_table(tracker)
    return conversations.usage(tracker_engine=tracker, session=db)


# --- routes ---------------------------------------------------------------------------------

def _routes(app: Sanic) -> None:
    @app.exception(NotFoundCase)
    async def no_case(request: Request, exc: Exception) -> HTTPResponse:
        return _render(request, "error.html", status=404, title="No such case", message="There is no case with that number.")

    # --- login -------------------------------------------------------------------------
    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_csrf_token()
        resp = _render(request, "login.html", login_csrf=token, failed=False)
        _set_cookie(request, resp, LOGIN_CSRF_COOKIE, token, 3600)
        return resp

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), request.form.get("csrf_token")):
            await _refuse(request, "refused", "bad CSRF token on the login form")
            raise Forbidden()
        username = (request.form.get("username") or "").strip()[:80]
        password = (request.form.get("password") or "")[:1000]
        known_token = request.cookies.get(KNOWN_BROWSER_COOKIE)
        address = _address(request)
        ctx = request.app.ctx

        def attempt() -> tuple[auth.LoginResult, str, str]:
            with ctx.sessions() as db, db.begin():
                result = auth.authenticate(
                    username, password, address, throttle=ctx.throttle, session=db, known_token=known_token, key=ctx.known_key,
                )
                if not result.ok:
                    return result, "", ""
                token, _ = auth.start_session(result.user, session=db, idle_minutes=ctx.settings.console_idle_minutes)
                audit.record("login", session=db, user_id=result.user.id)
                return result, token, auth.known_browser_token(result.user, ctx.known_key)

        result, token, known = await in_thread(request, attempt)
        if not result.ok:
            # Counted per reason, account and address (never what was typed into the form).
            await _refuse(request, "login_failed", result.reason, result.user.id if result.user else None)
            return _render(request, "login.html", status=401, login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE), failed=True)
        resp = _see_other("/")
        _set_cookie(request, resp, SESSION_COOKIE, token, auth.SESSION_HOURS * 3600)
        _set_cookie(request, resp, LOGIN_CSRF_COOKIE, "", 0)
        _set_cookie(request, resp, KNOWN_BROWSER_COOKIE, known, auth.KNOWN_BROWSER_DAYS * 86400)
        return resp

    @app.post("/logout")
    @staff_page()
    async def logout(request: Request) -> HTTPResponse:
        db = request.ctx.db
        token = request.cookies.get(SESSION_COOKIE)

        def end() -> None:
            with db.begin():
                auth.end_session(token, session=db)
                audit.record("logout", session=db, user_id=request.ctx.user.id)

        await in_thread(request, end)
        resp = _see_other("/login")
        _set_cookie(request, resp, SESSION_COOKIE, "", 0)
        return resp

    # --- queue -------------------------------------------------------------------------
    @app.get("/")
    @staff_page()
    async def queue(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        status = request.args.get("status") if request.args.get("status") in STATUSES else ""
        kind = request.args.get("kind") if request.args.get("kind") in KINDS else ""
        who = request.args.get("who") if request.args.get("who") in ("mine", "unassigned", "all") else "all"

        def page() -> HTTPResponse:
            with db.begin():
                found = cases.queue(
                    session=db, status=status or None, kind=kind or None, mine=user.id if who == "mine" else None,
                    unassigned=who == "unassigned",
                )
                counts = cases.counts_by_status(session=db)
                live_waiting = len(cases.queue(session=db, status="new", kind=KIND_LIVE))
                now = datetime.utcnow()
                return _render(
                    request, "queue.html", cases=found, counts=counts, status_filter=status, kind=kind, who=who,
                    statuses=STATUSES, kinds=KINDS, live_waiting=live_waiting,
                    on_shift=bool(user.on_shift_until and user.on_shift_until > now), anyone_on_shift=handoff.staff_on_shift(session=db),
                    shift_hours=request.app.ctx.settings.shift_hours,
                )

        return await in_thread(request, page)

    @app.post("/shift")
    @staff_page()
    async def shift(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        start = request.form.get("action") == "start"

        def change() -> None:
            with db.begin():
                if start:
                    until = handoff.start_shift(user.id, request.app.ctx.settings.shift_hours, session=db)
                    audit.record("shift_start", session=db, user_id=user.id, detail=f"until {until:%Y-%m-%d %H:%M} UTC")
                else:
                    handoff.end_shift(user.id, session=db)
                    audit.record("shift_end", session=db, user_id=user.id)

        await in_thread(request, change)
        return _see_other("/")

    # --- cases -------------------------------------------------------------------------
    @app.get("/cases/<case_id:int>")
    @staff_page()
    async def case_page(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def page() -> HTTPResponse:
            with db.begin():
                case = _case_or_404(db, case_id)
                audit.record("view_case", session=db, user_id=user.id, case_id=case.id)
                return _case_page(request, case, notice=DONE.get(request.args.get("done", "")))

        return await in_thread(request, page)

    @app.get("/cases/<case_id:int>/transcript")
    @staff_page(background=True)
    async def transcript_part(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def part() -> HTTPResponse:
            with db.begin():
                case = _case_or_404(db, case_id)
                if not any(
                    audit.recorded_since(action, user_id=user.id, case_id=case.id, minutes=TRANSCRIPT_AUDIT_MINUTES, session=db)
                    for action in ("view_case", "view_transcript")
                ):
                    audit.record("view_transcript", session=db, user_id=user.id, case_id=case.id)
                lines, problem = _transcript(request.app, case.sender_id)
                return _render(request, "_transcript.html", lines=lines, transcript_problem=problem)

        return await in_thread(request, part)

    def _error_page(request: Request, case_id: int, status: int, error: str, draft: str = "") -> HTTPResponse:
        """(In a thread) the case page again, with what went wrong."""
        db = request.ctx.db
        with db.begin():
            return _case_page(request, _case_or_404(db, case_id), status=status, error=error, draft=draft)

    def _change(name: str, change: Callable[[Session, Case, Request], str]) -> Callable:
        """A POST that changes a case without calling Rasa: change() returns the audit detail."""

        async def handler(request: Request, case_id: int) -> HTTPResponse:
            db, user = request.ctx.db, request.ctx.user

            def work() -> HTTPResponse | None:
                try:
                    with db.begin():
                        case = _case_or_404(db, case_id)
                        before = case.status
                        detail = change(db, case, request)
                        audit.record(name, session=db, user_id=user.id, case_id=case.id,
                                     detail=detail or f"status {before}→{case.status}")
                except cases.CaseError as exc:
                    return _error_page(request, case_id, 409, str(exc))
                return None

            problem = await in_thread(request, work)
            return problem or _see_other(f"/cases/{case_id}?done={name}")

        handler.__name__ = f"case_{name}"
        return handler

    def note(db: Session, case: Case, request: Request) -> str:
        cases.add_note(case.id, request.ctx.user.id, (request.form.get("text") or "")[:MAX_NOTE_CHARS], session=db)
        return "note added"

    def called_back(db: Session, case: Case, request: Request) -> str:
        cases.mark_called_back(case.id, request.ctx.user.id, request.form.get("outcome") or "", session=db)
        return ""

    app.add_route(staff_page()(_change("note", note)), "/cases/<case_id:int>/note", methods=["POST"], name="case_note")
    app.add_route(staff_page()(_change("called_back", called_back)), "/cases/<case_id:int>/called-back", methods=["POST"], name="case_called_back")

    @app.post("/cases/<case_id:int>/claim")
    @staff_page()
    async def claim(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def work():
            try:
                with db.begin():
                    # The conditional UPDATE comes first: of two workers claiming at once, one wins.
                    case = cases.claim(case_id, user.id, session=db)
                    if case.newly_claimed:
                        audit.record("claim", session=db, user_id=user.id, case_id=case.id, detail="status new→claimed")
                    return case.kind == KIND_LIVE and case.newly_claimed, case.sender_id, None
            except cases.CaseError as exc:
                if not _exists(db, case_id):
                    raise NotFoundCase() from None
                return False, "", _error_page(request, case_id, 409, str(exc))

        tell, sender_id, problem = await in_thread(request, work)
        if problem is not None:
            return problem
        if not tell:  # the person is told only once, when a worker first joins
            return _see_other(f"/cases/{case_id}?done=claimed")
        try:
            await request.app.ctx.rasa.utter(sender_id, handoff.JOINED_RESPONSE)
        except handoff.RasaUnavailable as exc:
            logger.warning("case %s: could not tell the person a worker joined: %s", case_id, exc)

            def note_failure() -> None:
                with db.begin():
                    audit.record("claim", session=db, user_id=user.id, case_id=case_id, detail="worker-joined message not sent: assistant unreachable")

            await in_thread(request, note_failure)
            return _see_other(f"/cases/{case_id}?done=claimed_unsent")
        return _see_other(f"/cases/{case_id}?done=claimed_live")

    @app.post("/cases/<case_id:int>/close")
    @staff_page()
    async def close(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        outcome = (request.form.get("outcome") or "")[:2000]
        force = request.form.get("force") == "yes"

        def check():
            with db.begin():
                case = _case_or_404(db, case_id)
                if case.status in ("closed", "cancelled"):
                    return None, None, _case_page(request, case, status=409, error=f"{case.reference} is already {case.status}.")
                return case.kind == KIND_LIVE, case.sender_id, None

        live, sender_id, problem = await in_thread(request, check)
        if problem is not None:
            return problem
        handed_back = None
        if live:
            try:
                await request.app.ctx.rasa.hand_back(sender_id)
                handed_back = True
            except handoff.RasaUnavailable as exc:
                logger.warning("case %s: could not hand the conversation back: %s", case_id, exc)
                handed_back = False
                if not force:
                    # The person would be left in a paused conversation: keep the case open.
                    def kept_open() -> HTTPResponse:
                        with db.begin():
                            audit.record("close", session=db, user_id=user.id, case_id=case_id, detail="not closed: hand back failed, assistant unreachable")
                        return _error_page(
                            request, case_id, 502,
                            "The assistant could not be reached, so the chat was not handed back and the case is still open. "
                            "Try again in a minute, or tick \u201cclose anyway\u201d.",
                        )

                    return await in_thread(request, kept_open)

        def work() -> HTTPResponse | None:
            try:
                with db.begin():
                    case = _case_or_404(db, case_id)
                    before = case.status
                    cases.close(case.id, user.id, outcome, session=db)
                    detail = f"status {before}→closed"
                    if handed_back is not None:
                        detail += "; handed back" if handed_back else "; closed anyway: hand back failed"
                    audit.record("close", session=db, user_id=user.id, case_id=case.id, detail=detail)
            except cases.CaseError as exc:
                return _error_page(request, case_id, 409, str(exc))
            return None

        problem = await in_thread(request, work)
        if problem is not None:
            return problem
        done = "closed" if handed_back is None else ("closed_handed_back" if handed_back else "closed_not_handed_back")
        return _see_other(f"/cases/{case_id}?done={done}")

    @app.post("/cases/<case_id:int>/reply")
    @staff_page()
    async def reply(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        text = (request.form.get("text") or "").strip()

        def check():
            with db.begin():
                case = _case_or_404(db, case_id)
                problem = ""
                if case.kind != KIND_LIVE:
                    problem = "Replies are only for live chats: call this person back instead."
                elif case.status != "claimed" or case.claimed_by_id != user.id:
                    problem = "Claim this chat before replying."
                elif not text:
                    problem = "Write a reply first."
                elif len(text) > MAX_REPLY_CHARS:
                    problem = f"A reply can be at most {MAX_REPLY_CHARS} characters."
                if problem:
                    return None, _case_page(request, case, status=409, error=problem)
                return case.sender_id, None

        sender_id, problem = await in_thread(request, check)
        if problem is not None:
            return problem
        try:
            await request.app.ctx.rasa.say(sender_id, text, user.display_name or user.username)
        except handoff.RasaUnavailable as exc:
            logger.warning("case %s: reply not delivered: %s", case_id, exc)

            def not_sent() -> HTTPResponse:
                with db.begin():
                    audit.record("reply", session=db, user_id=user.id, case_id=case_id, detail="reply not sent: assistant unreachable")
                return _error_page(request, case_id, 502, "The assistant could not be reached, so your reply was not sent. Try again in a minute.", draft=text)

            return await in_thread(request, not_sent)

        def sent() -> None:
            with db.begin():
                audit.record("reply", session=db, user_id=user.id, case_id=case_id, detail="reply sent")

        await in_thread(request, sent)
        return _see_other(f"/cases/{case_id}?done=reply")

    # --- statistics --------------------------------------------------------------------
    @app.get("/stats")
    @staff_page()
    async def stats_page(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        filters = stats.Filters.from_args(request.args)

        def page() -> HTTPResponse:
            with db.begin():
                report = stats.build(_usage_rows(request.app, db), filters)
                audit.record("view_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
            return _render(request, "stats.html", report=report, csv_url="/stats.csv" + ("?" + urlencode(filters.query()) if filters.query() else ""))

        return await in_thread(request, page)

    @app.get("/stats.csv")
    @staff_page()
    async def stats_csv(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        filters = stats.Filters.from_args(request.args)

        def build() -> str:
            with db.begin():
                body = stats.to_csv(_usage_rows(request.app, db), filters)
                audit.record("export_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
            return body

        body = await in_thread(request, build)
        return response.text(
            body, content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="families-connect-usage-{datetime.utcnow():%Y-%m-%d}.csv"'},
        )

    # --- admin -------------------------------------------------------------------------
    @app.get("/audit")
    @staff_page(role=ROLE_ADMIN)
    async def audit_page(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        try:
            number = int(request.args.get("page", "1"))
        except ValueError:
            number = 1

        def page() -> HTTPResponse:
            with db.begin():
                entries, pages = audit.page(number, session=db)
                shown = min(max(1, number), pages)
                pending, oldest = cases.pending_erasures(session=db)
                audit.record("view_audit", session=db, user_id=user.id, detail=f"page {shown}")
                return _render(request, "audit.html", entries=entries, page=shown, pages=pages,
                               erasures_pending=pending, erasures_oldest=oldest,
                               verify_minutes=request.app.ctx.settings.erasure_verify_minutes + 1)

        return await in_thread(request, page)

    @app.get("/users")
    @staff_page(role=ROLE_ADMIN)
    async def users_page(request: Request) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def page() -> HTTPResponse:
            with db.begin():
                users = auth.list_users(session=db)
                audit.record("view_users", session=db, user_id=user.id)
                return _render(request, "users.html", users=users, now=datetime.utcnow())

        return await in_thread(request, page)


def _exists(db: Session, case_id: int) -> bool:
    with db.begin():
        return db.get(Case, case_id) is not None


def _filter_detail(filters: stats.Filters) -> str:
    chosen = sorted(filters.query())
    return "filters: " + ", ".join(chosen) if chosen else "no filters"
