"""Logins, sessions, CSRF and roles: the functions in bot.console.auth and the app over HTTP."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.console import auth
from bot.console.models import StaffSession, StaffUser
from console_support import PASSWORD, audit_rows, csrf_from, log_in


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(session_for, make_user):
    user_id = make_user("sam")
    with session_for() as s, s.begin():
        user = s.get(StaffUser, user_id)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert auth.check_password(user, PASSWORD) and not auth.check_password(user, PASSWORD + "x")
        # A hash made with weaker parameters is replaced on the next good login.
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        old = user.password_hash
        assert auth.check_password(user, PASSWORD)
        assert user.password_hash != old and user.password_hash.startswith("$argon2id$")


def test_accounts_refuse_short_passwords_duplicates_and_bad_roles(session_for, make_user):
    make_user("sam")
    with session_for() as s, s.begin():
        with pytest.raises(auth.AccountError, match="at least"):
            auth.add_user("jo", "short", role="worker", session=s)
        with pytest.raises(auth.AccountError, match="already"):
            auth.add_user("SAM", PASSWORD, role="worker", session=s)
        with pytest.raises(auth.AccountError, match="role"):
            auth.add_user("jo", PASSWORD, role="boss", session=s)


def test_session_tokens_are_stored_hashed_and_expire(session_for, make_user):
    user_id = make_user("sam")
    with session_for() as s, s.begin():
        token, stored = auth.start_session(s.get(StaffUser, user_id), session=s)
        assert stored.token_hash != token and len(stored.token_hash) == 64
        assert auth.session_for_token(token, session=s).id == stored.id
        assert auth.session_for_token(token + "x", session=s) is None
        later = datetime.utcnow() + timedelta(hours=auth.SESSION_HOURS, minutes=1)
        assert auth.session_for_token(token, session=s, now=later) is None  # and it is deleted
    with session_for() as s:
        assert s.execute(select(StaffSession)).first() is None


def test_csrf_comparison():
    assert auth.csrf_ok("abc", "abc")
    assert not auth.csrf_ok("abc", "abd") and not auth.csrf_ok("abc", None) and not auth.csrf_ok(None, None) and not auth.csrf_ok("", "")


def test_throttle_locks_a_username_from_an_address_for_15_minutes():
    now = [1000.0]
    throttle = auth.LoginThrottle(clock=lambda: now[0])
    for _ in range(auth.LOCKOUT_FAILURES):
        assert not throttle.locked("sam", "10.0.0.1")
        throttle.failed("Sam", "10.0.0.1")
    assert throttle.locked("sam", "10.0.0.1")
    assert not throttle.locked("sam", "10.0.0.2")  # a stranger elsewhere cannot lock Sam out
    now[0] += auth.LOCKOUT_SECONDS + 1
    assert not throttle.locked("sam", "10.0.0.1")


# --- over HTTP -------------------------------------------------------------------------------

def test_login_logout_and_the_audit_trail(console, make_user, session_for):
    user_id = make_user("sam", name="Sam Smith")
    client = log_in(console)
    cookie = next(c for c in client.cookies if c.name == "fc_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    home = client.get(console.url + "/")
    assert "Sam Smith" in home.text and home.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in home.headers["Content-Security-Policy"]
    assert home.headers["X-Frame-Options"] == "DENY" and home.headers["Referrer-Policy"] == "no-referrer"
    raw = requests.get(console.url + "/login")
    assert "SameSite=Strict" in raw.headers["Set-Cookie"] and "HttpOnly" in raw.headers["Set-Cookie"]

    out = client.post(console.url + "/logout", data={"csrf_token": csrf_from(home.text)})
    assert out.url.endswith("/login")
    assert client.get(console.url + "/", allow_redirects=False).status_code == 302
    with session_for() as s:
        assert s.execute(select(StaffSession)).first() is None  # logout deleted the session
    actions = [(a, u) for a, u, _, _ in audit_rows(session_for)]
    assert actions == [("login", user_id), ("logout", user_id)]


def test_wrong_password_gives_one_generic_message_and_is_audited_without_what_was_typed(console, make_user, session_for):
    user_id = make_user("sam")
    client = requests.Session()
    token = csrf_from(client.get(console.url + "/login").text)
    wrong = client.post(console.url + "/login", data={"username": "sam", "password": "not-the-password", "csrf_token": token})
    unknown = client.post(console.url + "/login", data={"username": "nobody-here", "password": "whatever-it-is", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    message = "Those details did not work."
    assert message in wrong.text and message in unknown.text
    rows = audit_rows(session_for)
    assert rows == [("login_failed", user_id, None, "wrong password"), ("login_failed", None, None, "unknown username")]
    assert not any("nobody-here" in str(r) or "not-the-password" in str(r) for r in rows)


def test_five_failures_lock_the_account_from_that_address(console, make_user, session_for):
    make_user("sam")
    client = requests.Session()
    token = csrf_from(client.get(console.url + "/login").text)
    for _ in range(auth.LOCKOUT_FAILURES):
        client.post(console.url + "/login", data={"username": "sam", "password": "wrong-password", "csrf_token": token})
    locked = client.post(console.url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 401 and "Those details did not work." in locked.text
    assert audit_rows(session_for)[-1][3] == "locked out"


def test_login_form_needs_its_csrf_cookie_and_token(console, make_user):
    make_user("sam")
    no_token = requests.post(console.url + "/login", data={"username": "sam", "password": PASSWORD})
    assert no_token.status_code == 403
    client = requests.Session()
    client.get(console.url + "/login")
    assert client.post(console.url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": "forged"}).status_code == 403


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(console, make_user, make_callback, session_for):
    make_user("sam")
    case_id = make_callback()
    client = log_in(console)
    assert client.post(console.url + f"/cases/{case_id}/claim").status_code == 403
    assert client.post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": "wrong"}).status_code == 403
    # Another session's token does not work either.
    other = log_in(console)
    other_token = csrf_from(other.get(console.url + "/").text)
    assert client.post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": other_token}).status_code == 403
    with session_for() as s:
        from bot.referrals.models import Case

        assert s.get(Case, case_id).status == "new"


def test_without_a_login_pages_redirect_and_posts_are_refused(console, make_callback):
    case_id = make_callback()
    for path in ("/", f"/cases/{case_id}", "/stats", "/stats.csv", "/audit", "/users", f"/cases/{case_id}/transcript"):
        reply = requests.get(console.url + path, allow_redirects=False)
        assert reply.status_code == 302 and reply.headers["Location"] == "/login", path
    for path in (f"/cases/{case_id}/claim", f"/cases/{case_id}/note", "/shift", "/logout"):
        assert requests.post(console.url + path, data={"csrf_token": "x"}, allow_redirects=False).status_code == 403, path


def test_workers_cannot_see_admin_pages_admins_can(console, make_user):
    make_user("sam", role="worker")
    make_user("ada", role="admin", name="Ada Admin")
    worker = log_in(console, "sam")
    assert worker.get(console.url + "/audit").status_code == 403
    assert worker.get(console.url + "/users").status_code == 403
    assert worker.get(console.url + "/stats").status_code == 200  # anonymous counts: workers plan with them too
    assert 'href="/audit"' not in worker.get(console.url + "/").text
    admin = log_in(console, "ada")
    assert admin.get(console.url + "/audit").status_code == 200
    users = admin.get(console.url + "/users")
    assert users.status_code == 200 and "Ada Admin" in users.text and "argon2" not in users.text


def test_expired_or_deactivated_sessions_stop_working(console, make_user, session_for):
    make_user("sam")
    client = log_in(console)
    with session_for() as s, s.begin():
        for stored in s.execute(select(StaffSession)).scalars():
            stored.expires_at = datetime.utcnow() - timedelta(seconds=1)
    assert client.get(console.url + "/", allow_redirects=False).status_code == 302
    client = log_in(console)
    with session_for() as s, s.begin():
        auth.deactivate("sam", session=s)
    assert client.get(console.url + "/", allow_redirects=False).status_code == 302
    fresh = requests.Session()
    token = csrf_from(fresh.get(console.url + "/login").text)
    assert fresh.post(console.url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token}).status_code == 401
