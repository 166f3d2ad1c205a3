"""Staff accounts and logins: argon2id password hashes, session tokens, CSRF tokens, lockout.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.console.models import ROLE_ADMIN, ROLES, StaffSession, StaffUser

SESSION_HOURS = 12
MIN_PASSWORD_CHARS = 10
LOCKOUT_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
# One address trying many usernames is stopped too, a little later.
LOCKOUT_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()  # argon2id with argon2-cffi's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong username takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: StaffUser, password: str) -> bool:
    """Whether `password` is the user's; re-hashes it if the parameters have changed since."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")


# --- accounts (the `bot staff` command) ---------------------------------------------------

def add_user(username: str, password: str, *, role: str, display_name: str = "", session: Session) -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 80 or not all(c.isalnum() or c in "._-" for c in username):
        raise AccountError("A username is up to 80 letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    _check_new_password(password)
    if find_user(username, session=session) is not None:
        raise AccountError(f"There is already a user {username!r}.")
    user = StaffUser(username=username, display_name=display_name.strip() or username, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def find_user(username: str, *, session: Session) -> StaffUser | None:
    return session.execute(select(StaffUser).where(StaffUser.username == username.strip().lower())).scalar_one_or_none()


def _existing(username: str, session: Session) -> StaffUser:
    user = find_user(username, session=session)
    if user is None:
        raise AccountError(f"There is no user {username!r}.")
    return user


def list_users(*, session: Session) -> list[StaffUser]:
    return list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())


def deactivate(username: str, *, session: Session) -> StaffUser:
    """Stop an account logging in, and end its sessions and shift."""
    user = _existing(username, session=session)
    user.active = False
    user.on_shift_until = None
    session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))
    return user


def set_password(username: str, password: str, *, session: Session) -> StaffUser:
    """A new password; every session of the account is ended."""
    user = _existing(username, session=session)
    _check_new_password(password)
    user.password_hash = hash_password(password)
    session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))
    return user


def is_admin(user: StaffUser) -> bool:
    return user.role == ROLE_ADMIN


# --- lockout ---------------------------------------------------------------------------

class LoginThrottle:
    """Failed logins per (username, address) and per address, kept in this process's memory.

    Five failures for one username from one address within 15 minutes lock that pair for 15
    minutes; an address is locked after twenty failures whatever the usernames. Keying on
    the address too means a stranger cannot lock a worker out of their own account.
    """

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < LOCKOUT_SECONDS]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def locked(self, username: str, address: str) -> bool:
        now = self._clock()
        with self._lock:
            return (
                len(self._recent((username.strip().lower(), address), now)) >= LOCKOUT_FAILURES
                or len(self._recent(("", address), now)) >= LOCKOUT_FAILURES_PER_ADDRESS
            )

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in ((username.strip().lower(), address), ("", address)):
                self._failures[key] = self._recent(key, now) + [now]

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.strip().lower(), address), None)


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None  # the account tried (for the audit log), even when refused
    ok: bool
    # For the audit log only (never shown: the person logging in sees one generic message).
    reason: str


def authenticate(username: str, password: str, address: str, *, throttle: LoginThrottle, session: Session) -> LoginResult:
    """Whether this username and password log in; `ok` is False (and `reason` says why) when not."""
    user = find_user(username, session=session) if username.strip() else None
    if throttle.locked(username, address):
        return LoginResult(user, False, "locked out")
    if user is None:
        try:
            _hasher.verify(_dummy_hash(), password or "-")
        except VerificationError:
            pass
        throttle.failed(username, address)
        return LoginResult(None, False, "unknown username")
    if not check_password(user, password):
        throttle.failed(username, address)
        return LoginResult(user, False, "wrong password")
    if not user.active:
        throttle.failed(username, address)
        return LoginResult(user, False, "account deactivated")
    throttle.succeeded(username, address)
    return LoginResult(user, True, "ok")


# --- sessions --------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: StaffUser, *, session: Session, now: datetime | None = None) -> tuple[str, StaffSession]:
    """A new login for `user`: (cookie token, stored session). Expired sessions are tidied away."""
    now = now or datetime.utcnow()
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    stored = StaffSession(
        token_hash=_digest(token), csrf_token=secrets.token_urlsafe(32), staff_user_id=user.id,
        created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    session.add(stored)
    session.flush()
    return token, stored


def session_for_token(token: str | None, *, session: Session, now: datetime | None = None) -> StaffSession | None:
    """The live session of an active user for a cookie token, or None."""
    if not token or len(token) > 200:
        return None
    stored = session.execute(select(StaffSession).where(StaffSession.token_hash == _digest(token))).scalar_one_or_none()
    if stored is None:
        return None
    if stored.expires_at <= (now or datetime.utcnow()) or not stored.user.active:
        session.delete(stored)
        return None
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
