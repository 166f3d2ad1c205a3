"""Logging in to the console: session tokens, CSRF tokens, lockout, known browsers.
(Accounts and their passwords are bot.staff.accounts.)

A browser's session token lives only in its cookie; the database keeps its SHA-256, so a
copy of the database cannot be used to log in. Each session has its own CSRF token
(synchronizer token), compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.staff.accounts import check_password, check_password_of_nobody, find_user
from bot.staff.models import StaffSession, StaffUser

SESSION_HOURS = 12
# A session also ends after this long without a page opened (CONSOLE_IDLE_MINUTES).
IDLE_MINUTES = 30
# An account's first failures are free; then each try waits 30 s, doubling up to 15 minutes.
LOCKOUT_FAILURES = 5
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 15 * 60
# An account's failures are forgotten after an hour without one (or on a good login).
ACCOUNT_FAILURES_KEPT_SECONDS = 60 * 60
# One address trying many usernames is stopped too: 20 failures in 15 minutes.
LOCKOUT_FAILURES_PER_ADDRESS = 20
LOCKOUT_SECONDS = 15 * 60
# Addresses remembered at most (oldest forgotten first), so a flood cannot fill memory.
MAX_ADDRESSES = 10_000
# A browser that logged in to an account is "known" to it for this long (signed cookie).
KNOWN_BROWSER_DAYS = 90


# --- lockout ---------------------------------------------------------------------------

def backoff_seconds(failures: int) -> float:
    """How long an account waits after `failures` failed logins: nothing for the first
    few, then 30 s doubling with each further failure, at most 15 minutes."""
    if failures < LOCKOUT_FAILURES:
        return 0.0
    return float(min(BACKOFF_FIRST_SECONDS * 2 ** (failures - LOCKOUT_FAILURES), BACKOFF_MAX_SECONDS))


class LoginThrottle:
    """Failed logins, kept in this process's memory (the console runs as one process).

    Per account, with backoff (backoff_seconds). A browser the account has logged in on before
    (a signed cookie: known_browser_token) counts its failures apart, so a stranger's failures
    can slow down the stranger only, never lock a worker out on their own machine. Per client
    address: 20 failures in 15 minutes stop that address (known browsers excepted). There is
    no global lock that anyone could trigger for everyone. Unknown usernames are counted per
    address only, so memory grows with real accounts and (bounded) addresses, nothing else.
    """

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._accounts: dict[tuple[int, bool], tuple[int, float]] = {}  # (user id, known browser) -> (failures, last)
        self._addresses: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _account(self, key: tuple[int, bool], now: float) -> tuple[int, float]:
        failures, last = self._accounts.get(key, (0, now))
        if failures and now - last >= ACCOUNT_FAILURES_KEPT_SECONDS:
            self._accounts.pop(key, None)
            return 0, now
        return failures, last

    def _address(self, address: str, now: float) -> deque:
        times = self._addresses.get(address)
        if times is None:
            return deque()
        while times and now - times[0] >= LOCKOUT_SECONDS:
            times.popleft()
        if not times:
            self._addresses.pop(address, None)
        return times

    def locked(self, user_id: int | None, address: str, *, known: bool = False) -> str | None:
        """Why a login try is refused without checking the password ("account backoff",
        "address limit"), or None when it may go ahead."""
        now = self._clock()
        with self._lock:
            if user_id is not None:
                failures, last = self._account((user_id, known), now)
                if now - last < backoff_seconds(failures):
                    return "account backoff"
            if not known and len(self._address(address, now)) >= LOCKOUT_FAILURES_PER_ADDRESS:
                return "address limit"
        return None

    def failed(self, user_id: int | None, address: str, *, known: bool = False) -> None:
        now = self._clock()
        with self._lock:
            if user_id is not None:
                failures, _ = self._account((user_id, known), now)
                self._accounts[(user_id, known)] = (failures + 1, now)
            if not known:
                times = self._address(address, now)
                times.append(now)
                self._addresses[address] = times
                self._addresses.move_to_end(address)
                while len(self._addresses) > MAX_ADDRESSES:
                    self._addresses.popitem(last=False)

    def succeeded(self, user_id: int, *, known: bool = False) -> None:
        with self._lock:
            self._accounts.pop((user_id, known), None)


def known_browser_token(user: StaffUser, key: str, *, now: float | None = None) -> str:
    """The value of the cookie that marks a browser as one `user` has logged in on. Signed
    with the console's key over the account and its password hash, so a new password
    forgets every known browser."""
    issued = int(now if now is not None else time.time())
    return f"{user.id}.{issued}.{_known_signature(user, issued, key)}"


def _known_signature(user: StaffUser, issued: int, key: str) -> str:
    message = f"{user.id}.{issued}.{user.password_hash}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def is_known_browser(token: str | None, user: StaffUser | None, key: str, *, now: float | None = None) -> bool:
    if not token or user is None or len(token) > 200:
        return False
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or int(parts[0]) != user.id:
        return False
    issued = int(parts[1])
    age = (now if now is not None else time.time()) - issued
    if not 0 <= age <= KNOWN_BROWSER_DAYS * 86400:
        return False
    return hmac.compare_digest(parts[2].encode(), _known_signature(user, issued, key).encode())


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None  # the account tried (for the audit log), even when refused
    ok: bool
    # For the audit log only (never shown: the person logging in sees one generic message).
    reason: str


def authenticate(
    username: str, password: str, address: str, *, throttle: LoginThrottle, session: Session,
    known_token: str | None = None, key: str = "",
) -> LoginResult:
    """Whether this username and password log in; `ok` is False (and `reason` says why) when not.
    `known_token` is the browser's known-browser cookie, checked with `key`."""
    user = find_user(username, session=session) if username.strip() else None
    known = bool(key) and is_known_browser(known_token, user, key)
    user_id = user.id if user is not None else None
    lock = throttle.locked(user_id, address, known=known)
    if lock:
        return LoginResult(user, False, f"locked out ({lock})")
    if user is None:
        check_password_of_nobody(password)
        throttle.failed(None, address)
        return LoginResult(None, False, "unknown username")
    if not check_password(user, password):
        throttle.failed(user.id, address, known=known)
        return LoginResult(user, False, "wrong password")
    if not user.active:
        throttle.failed(user.id, address, known=known)
        return LoginResult(user, False, "account deactivated")
    throttle.succeeded(user.id, known=known)
    return LoginResult(user, True, "ok")


# --- sessions --------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(created_at: datetime, now: datetime, idle_minutes: int) -> datetime:
    """When a session used at `now` ends: idle_minutes later, and never past 12 hours from its start."""
    limit = created_at + timedelta(hours=SESSION_HOURS)
    return min(limit, now + timedelta(minutes=idle_minutes)) if idle_minutes > 0 else limit


def start_session(
    user: StaffUser, *, session: Session, now: datetime | None = None, idle_minutes: int = IDLE_MINUTES,
) -> tuple[str, StaffSession]:
    """A new login for `user`: (cookie token, stored session). Expired sessions are tidied away."""
    now = now or datetime.utcnow()
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    stored = StaffSession(
        token_hash=_digest(token), csrf_token=secrets.token_urlsafe(32), staff_user_id=user.id,
        created_at=now, expires_at=_expiry(now, now, idle_minutes),
    )
    session.add(stored)
    session.flush()
    return token, stored


def session_for_token(
    token: str | None, *, session: Session, now: datetime | None = None, idle_minutes: int | None = None,
) -> StaffSession | None:
    """The live session of an active user for a cookie token, or None. With `idle_minutes`
    (a page the worker opened, not a background refresh) its expiry slides forward, up to
    the 12-hour limit."""
    if not token or len(token) > 200:
        return None
    stored = session.execute(select(StaffSession).where(StaffSession.token_hash == _digest(token))).scalar_one_or_none()
    if stored is None:
        return None
    now = now or datetime.utcnow()
    if stored.expires_at <= now or not stored.user.active:
        session.delete(stored)
        return None
    if idle_minutes is not None:
        later = _expiry(stored.created_at, now, idle_minutes)
        if later - stored.expires_at > timedelta(minutes=1):  # not a write on every click
            stored.expires_at = later
    return stored


def end_session(token: str | None, *, session: Session) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the form's CSRF token with the session's."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
