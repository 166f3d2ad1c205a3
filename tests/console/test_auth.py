"""Logins, sessions, CSRF and roles: the functions in bot.console.auth and the app over HTTP.
(Accounts and passwords themselves: tests/staff/test_accounts.py.)"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import requests
from sqlalchemy import select

from bot.console import auth
from bot.staff import accounts
from bot.staff.models import StaffSession, StaffUser
from tests.support.console import PASSWORD, audit_rows, csrf_from, log_in


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_account_gets_five_free_failures_then_waits_30_s_doubling_to_15_minutes():
    clock = Clock()
    throttle = auth.LoginThrottle(clock=clock)
    for _ in range(auth.LOCKOUT_FAILURES):
        assert throttle.locked(7, "203.0.113.9") is None
        throttle.failed(7, "203.0.113.9")
    waits = []
    for _ in range(8):
        assert throttle.locked(7, "198.51.100.1") == "account backoff"  # from anywhere: it is the account's
        wait = 0
        while throttle.locked(7, "198.51.100.1") == "account backoff":
            clock.now += 15
            wait += 15
        waits.append(wait)
        throttle.failed(7, "198.51.100.1")
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert [auth.backoff_seconds(n) for n in (4, 5, 6, 10, 40)] == [0, 30, 60, 900, 900]
    assert throttle.locked(8, "198.51.100.1") is None  # another account is not touched
    # A good login (after the wait) forgets the account's failures.
    clock.now += 900
    throttle.succeeded(7)
    throttle.failed(7, "198.51.100.2")
    assert throttle.locked(7, "198.51.100.2") is None


def test_strangers_failures_never_lock_a_worker_out_of_a_browser_they_logged_in_on():
    clock = Clock()
    throttle = auth.LoginThrottle(clock=clock)
    for i in range(200):  # an attacker hammering the account from many addresses
        throttle.failed(7, f"203.0.113.{i % 50}")
    assert throttle.locked(7, "192.0.2.1") == "account backoff"  # a new browser waits...
    assert throttle.locked(7, "192.0.2.1", known=True) is None  # ...the worker's own does not
    assert throttle.locked(7, "203.0.113.1", known=True) is None  # not even behind the attacker's address
    # The known browser has its own count: a forgotten password still backs off there.
    for _ in range(auth.LOCKOUT_FAILURES):
        throttle.failed(7, "192.0.2.1", known=True)
    assert throttle.locked(7, "192.0.2.1", known=True) == "account backoff"


def test_one_address_is_stopped_after_20_failures_in_15_minutes_whatever_the_usernames():
    clock = Clock()
    throttle = auth.LoginThrottle(clock=clock)
    for _ in range(auth.LOCKOUT_FAILURES_PER_ADDRESS):
        assert throttle.locked(None, "203.0.113.9") is None
        throttle.failed(None, "203.0.113.9")  # unknown usernames
    assert throttle.locked(None, "203.0.113.9") == "address limit"
    assert throttle.locked(3, "203.0.113.9") == "address limit"
    assert throttle.locked(None, "203.0.113.10") is None  # never everyone
    assert throttle._accounts == {}  # made-up usernames take no memory per name
    clock.now += auth.LOCKOUT_SECONDS
    assert throttle.locked(None, "203.0.113.9") is None


def test_the_address_table_is_bounded():
    throttle = auth.LoginThrottle(clock=Clock())
    for i in range(auth.MAX_ADDRESSES + 500):
        throttle.failed(None, f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(throttle._addresses) == auth.MAX_ADDRESSES


def test_known_browser_cookies_are_signed_per_account_and_end_with_a_new_password(session_for, make_user):
    sam_id, jo_id = make_user("sam"), make_user("jo")
    with session_for() as s, s.begin():
        sam, jo = s.get(StaffUser, sam_id), s.get(StaffUser, jo_id)
        token = auth.known_browser_token(sam, "key-1")
        assert auth.is_known_browser(token, sam, "key-1")
        assert not auth.is_known_browser(token, jo, "key-1")  # another account
        assert not auth.is_known_browser(token, sam, "key-2")  # another install's key
        user_id, issued, signature = token.split(".")
        assert not auth.is_known_browser(f"{jo_id}.{issued}.{signature}", jo, "key-1")  # re-labelled
        assert not auth.is_known_browser(f"{user_id}.{int(issued) + 1}.{signature}", sam, "key-1")  # re-dated
        old = auth.known_browser_token(sam, "key-1", now=time.time() - (auth.KNOWN_BROWSER_DAYS + 1) * 86400)
        assert not auth.is_known_browser(old, sam, "key-1")  # too old
        assert not auth.is_known_browser("junk", sam, "key-1") and not auth.is_known_browser(None, sam, "key-1")
    with session_for() as s, s.begin():
        accounts.set_password("sam", "a brand new password", session=s, by="by test")
    with session_for() as s:
        assert not auth.is_known_browser(token, s.get(StaffUser, sam_id), "key-1")


def test_sessions_end_after_30_idle_minutes_and_slide_only_when_asked(session_for, make_user):
    user_id = make_user("sam")
    start = datetime(2026, 12, 1, 9, 0)
    with session_for() as s, s.begin():
        token, stored = auth.start_session(s.get(StaffUser, user_id), session=s, now=start)
        assert stored.expires_at == start + timedelta(minutes=auth.IDLE_MINUTES)
        # A page opened at 09:20 moves the end to 09:50; a background refresh does not.
        assert auth.session_for_token(token, session=s, now=start + timedelta(minutes=20)).expires_at == start + timedelta(minutes=30)
        assert auth.session_for_token(token, session=s, now=start + timedelta(minutes=20), idle_minutes=30).expires_at == start + timedelta(minutes=50)
        # Kept busy all day, it still ends 12 hours after the login.
        for minutes in range(40, 12 * 60, 20):
            assert auth.session_for_token(token, session=s, now=start + timedelta(minutes=minutes), idle_minutes=30) is not None
        assert stored.expires_at == start + timedelta(hours=auth.SESSION_HOURS)
        assert auth.session_for_token(token, session=s, now=start + timedelta(hours=12), idle_minutes=30) is None
    with session_for() as s, s.begin():
        token, _ = auth.start_session(s.get(StaffUser, user_id), session=s, now=start)
        assert auth.session_for_token(token, session=s, now=start + timedelta(minutes=31), idle_minutes=30) is None


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
    assert rows == [
        ("login_failed", user_id, None, "wrong password; from 127.0.0.1; 1 time"),
        ("login_failed", None, None, "unknown username; from 127.0.0.1; 1 time"),
    ]
    assert not any("nobody-here" in str(r) or "not-the-password" in str(r) for r in rows)


def _try_login(console, username: str, password: str, client: requests.Session | None = None, **headers: str) -> requests.Response:
    client = client or requests.Session()
    token = csrf_from(client.get(console.url + "/login", headers=headers).text)
    return client.post(console.url + "/login", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers, allow_redirects=False)


def failures_counted(session_for) -> dict[str, int]:
    """Failed logins in the audit log: {"reason; from address": count}, summed over minutes."""
    counted: dict[str, int] = {}
    for action, _, _, detail in audit_rows(session_for):
        if action == "login_failed":
            what, times = detail.rsplit("; ", 1)
            counted[what] = counted.get(what, 0) + int(times.split()[0])
    return counted


def test_behind_a_proxy_an_attacker_cannot_lock_a_worker_out_of_their_own_browser(make_console, make_user, session_for):
    """The attack: hammer a worker's account with wrong passwords so the worker cannot log in."""
    console = make_console(trusted_proxies="127.0.0.1")
    make_user("sam")
    worker = requests.Session()
    assert _try_login(console, "sam", PASSWORD, worker, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 303
    assert any(c.name == "fc_known" for c in worker.cookies)
    worker.cookies.set("fc_session", None)  # the worker's session ends (idle, logout)

    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(auth.LOCKOUT_FAILURES + 3):
        refused = _try_login(console, "sam", "wrong-password", **attacker)
        assert refused.status_code == 401 and "Those details did not work." in refused.text
    # Even with the right password, a new browser now waits (the attacker's guesses are slowed)...
    assert _try_login(console, "sam", PASSWORD, **attacker).status_code == 401
    assert _try_login(console, "sam", PASSWORD, **{"X-Forwarded-For": "192.0.2.44"}).status_code == 401
    # ...but the worker's own browser logs straight in, from its usual address or the attacker's.
    assert _try_login(console, "sam", PASSWORD, worker, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 303
    worker.cookies.set("fc_session", None)
    assert _try_login(console, "sam", PASSWORD, worker, **attacker).status_code == 303

    # The address is the client's, from the trusted proxy's X-Forwarded-For; repeats are counted.
    assert failures_counted(session_for) == {
        "wrong password; from 203.0.113.9": 5,
        "locked out (account backoff); from 203.0.113.9": 4,
        "locked out (account backoff); from 192.0.2.44": 1,
    }


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(make_console, make_user, session_for):
    """The attack: claim a new address on every try to dodge the per-address limit."""
    console = make_console(trusted_proxies="")  # nobody's X-Forwarded-For is believed
    make_user("sam")
    for i in range(auth.LOCKOUT_FAILURES_PER_ADDRESS):
        assert _try_login(console, f"guess{i}", "whatever-it-is", **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code == 401
    # The 21st try, from yet another made-up address and with a real password, is refused unchecked.
    assert _try_login(console, "sam", PASSWORD, **{"X-Forwarded-For": "192.0.2.200"}).status_code == 401
    assert failures_counted(session_for) == {"unknown username; from 127.0.0.1": 20, "locked out (address limit); from 127.0.0.1": 1}


def test_cookies_are_secure_and_hsts_sent_over_tls_from_a_trusted_proxy_only(make_console, make_user):
    make_user("sam")
    behind_tls = make_console(trusted_proxies="127.0.0.1")
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    page = requests.get(behind_tls.url + "/login", headers=tls)
    assert "Secure" in page.headers["Set-Cookie"] and page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    login_csrf = page.cookies.get("fc_login_csrf") or page.headers["Set-Cookie"].split("fc_login_csrf=")[1].split(";")[0]
    logged_in = requests.post(  # a Secure cookie is sent back by hand: this test talks plain http to the console
        behind_tls.url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        headers={**tls, "Cookie": f"fc_login_csrf={login_csrf}"}, allow_redirects=False,
    )
    assert logged_in.status_code == 303
    cookies = logged_in.raw.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} == {"fc_session", "fc_login_csrf", "fc_known"}
    assert all("Secure" in c for c in cookies), cookies
    # The same header from a peer that is not a trusted proxy proves nothing.
    untrusted = make_console(trusted_proxies="10.9.9.9")
    plain = requests.get(untrusted.url + "/login", headers=tls)
    assert "Secure" not in plain.headers["Set-Cookie"] and "Strict-Transport-Security" not in plain.headers
    # CONSOLE_SECURE_COOKIES (on in containers) marks them Secure whatever the request says.
    forced = make_console(console_secure_cookies=True)
    assert "Secure" in requests.get(forced.url + "/login").headers["Set-Cookie"]


def test_idle_sessions_end_and_only_pages_opened_keep_them_alive(console, make_user, make_live, add_events, session_for):
    make_user("sam")
    case_id = make_live("tg:555")
    add_events("tg:555", [("user", "hello", "greet")])
    client = log_in(console)

    def expiry() -> datetime:
        with session_for() as s:
            return s.execute(select(StaffSession)).scalar_one().expires_at

    def age_session(minutes: int) -> None:
        with session_for() as s, s.begin():
            stored = s.execute(select(StaffSession)).scalar_one()
            stored.created_at -= timedelta(minutes=minutes)
            stored.expires_at -= timedelta(minutes=minutes)

    assert expiry() <= datetime.utcnow() + timedelta(minutes=30)  # not 12 hours
    age_session(20)
    before = expiry()
    # The transcript refresh and the queue's auto-refresh do not count as the worker being there.
    assert client.get(console.url + f"/cases/{case_id}/transcript").status_code == 200
    assert client.get(console.url + "/?auto=1").status_code == 200
    assert expiry() == before
    assert client.get(console.url + "/").status_code == 200  # opening a page does
    assert expiry() >= datetime.utcnow() + timedelta(minutes=29)
    age_session(31)
    assert client.get(console.url + "/", allow_redirects=False).status_code == 302


def test_transcript_refresh_after_the_session_ends_goes_to_the_login_page(console, make_user, make_live, add_events, session_for):
    make_user("sam")
    case_id = make_live("tg:556")
    add_events("tg:556", [("user", "hello", "greet")])
    client = log_in(console)
    with session_for() as s, s.begin():
        s.execute(select(StaffSession)).scalar_one().expires_at = datetime.utcnow() - timedelta(seconds=1)
    part = client.get(console.url + f"/cases/{case_id}/transcript", allow_redirects=False)
    # 401 with no page in it (the script sends the browser to /login), not a login form for the panel.
    assert part.status_code == 401 and part.headers["X-Login"] == "/login"
    assert "<form" not in part.text and "password" not in part.text.lower()
    script = requests.get(console.url + "/static/console.js").text
    assert "reply.status === 401" in script and 'window.location.assign("/login")' in script


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
    for path in ("/", f"/cases/{case_id}", "/stats", "/stats.csv", "/audit", "/users"):
        reply = requests.get(console.url + path, allow_redirects=False)
        assert reply.status_code == 302 and reply.headers["Location"] == "/login", path
    assert requests.get(console.url + f"/cases/{case_id}/transcript", allow_redirects=False).status_code == 401
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
        accounts.deactivate("sam", session=s)
    assert client.get(console.url + "/", allow_redirects=False).status_code == 302
    fresh = requests.Session()
    token = csrf_from(fresh.get(console.url + "/login").text)
    assert fresh.post(console.url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token}).status_code == 401
