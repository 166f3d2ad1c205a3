"""Users and audit: GET and POST /login, POST /logout, and the admins' pages GET /audit and /users."""
from __future__ import annotations

from datetime import datetime

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console import auth
from bot.console.web import (
    KNOWN_BROWSER_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Forbidden, client_address, in_thread, refuse, render,
    see_other, set_cookie, staff_page,
)
from bot.referrals import cases
from bot.staff import accounts, audit
from bot.staff.models import ROLE_ADMIN


async def login_form(request: Request) -> HTTPResponse:
    """The login form, with its own CSRF token in a cookie (there is no session yet)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_csrf_token()
    resp = render(request, "login.html", login_csrf=token, failed=False)
    set_cookie(request, resp, LOGIN_CSRF_COOKIE, token, 3600)
    return resp


async def login(request: Request) -> HTTPResponse:
    """Log in: a session cookie and a known-browser cookie, or one generic message (refusals audited)."""
    if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), request.form.get("csrf_token")):
        await refuse(request, "refused", "bad CSRF token on the login form")
        raise Forbidden()
    username = (request.form.get("username") or "").strip()[:80]
    password = (request.form.get("password") or "")[:1000]
    known_token = request.cookies.get(KNOWN_BROWSER_COOKIE)
    address = client_address(request)
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
        await refuse(request, "login_failed", result.reason, result.user.id if result.user else None)
        return render(request, "login.html", status=401, login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE), failed=True)
    resp = see_other("/")
    set_cookie(request, resp, SESSION_COOKIE, token, auth.SESSION_HOURS * 3600)
    set_cookie(request, resp, LOGIN_CSRF_COOKIE, "", 0)
    set_cookie(request, resp, KNOWN_BROWSER_COOKIE, known, auth.KNOWN_BROWSER_DAYS * 86400)
    return resp


@staff_page()
async def logout(request: Request) -> HTTPResponse:
    """End the session (audited) and go to the login form."""
    db = request.ctx.db
    token = request.cookies.get(SESSION_COOKIE)

    def end() -> None:
        with db.begin():
            auth.end_session(token, session=db)
            audit.record("logout", session=db, user_id=request.ctx.user.id)

    await in_thread(request, end)
    resp = see_other("/login")
    set_cookie(request, resp, SESSION_COOKIE, "", 0)
    return resp


@staff_page(role=ROLE_ADMIN)
async def audit_page(request: Request) -> HTTPResponse:
    """The audit log, newest first, and any "delete my details" requests not yet carried out."""
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
            return render(request, "audit.html", entries=entries, page=shown, pages=pages,
                          erasures_pending=pending, erasures_oldest=oldest,
                          verify_minutes=request.app.ctx.settings.erasure_verify_minutes + 1)

    return await in_thread(request, page)


@staff_page(role=ROLE_ADMIN)
async def users_page(request: Request) -> HTTPResponse:
    """Every account, with who is on shift (audited)."""
    db, user = request.ctx.db, request.ctx.user

    def page() -> HTTPResponse:
        with db.begin():
            users = accounts.list_users(session=db)
            audit.record("view_users", session=db, user_id=user.id)
            return render(request, "users.html", users=users, now=datetime.utcnow())

    return await in_thread(request, page)


def register(app: Sanic) -> None:
    """Add the login, logout, audit and users routes to the console."""
    app.add_route(login_form, "/login", methods=["GET"], name="login_form")
    app.add_route(login, "/login", methods=["POST"], name="login")
    app.add_route(logout, "/logout", methods=["POST"], name="logout")
    app.add_route(audit_page, "/audit", methods=["GET"], name="audit_page")
    app.add_route(users_page, "/users", methods=["GET"], name="users_page")
