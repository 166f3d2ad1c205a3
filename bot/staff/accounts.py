"""Staff accounts: argon2id password hashes, roles, and the changes `bot staff` makes (audited).

Logging in (sessions, CSRF tokens, lockout) is the staff console's own business.
"""
from __future__ import annotations

import getpass
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.staff import audit
from bot.staff.models import ROLE_ADMIN, ROLES, StaffSession, StaffUser

MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()  # argon2id with argon2-cffi's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong username takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (with its own salt)."""
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


def check_password_of_nobody(password: str) -> bool:
    """False, after as long as checking a real account's password takes (an unknown username
    must not answer faster than a wrong password)."""
    try:
        _hasher.verify(_dummy_hash(), password or "-")
    except VerificationError:
        pass
    return False


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")


def _command_line() -> str:
    """Who made an account change: the `bot staff` command and the operating-system user running it."""
    try:
        return f"from the command line (as {getpass.getuser()})"
    except Exception:  # no user name for this uid (some containers)
        return "from the command line"


def add_user(
    username: str, password: str, *, role: str, display_name: str = "", session: Session, by: str | None = None,
) -> StaffUser:
    """Make an account; recorded in the audit log (`by` says from where: default the command line)."""
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
    audit.record("account_added", session=session, user_id=None, detail=f"{user.username} as {role} {by or _command_line()}")
    return user


def find_user(username: str, *, session: Session) -> StaffUser | None:
    """The account with this username (any case, spaces trimmed), or None."""
    return session.execute(select(StaffUser).where(StaffUser.username == username.strip().lower())).scalar_one_or_none()


def _existing(username: str, session: Session) -> StaffUser:
    user = find_user(username, session=session)
    if user is None:
        raise AccountError(f"There is no user {username!r}.")
    return user


def list_users(*, session: Session) -> list[StaffUser]:
    """Every account, by username."""
    return list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())


def deactivate(username: str, *, session: Session, by: str | None = None) -> StaffUser:
    """Stop an account logging in, and end its sessions and shift (audited)."""
    user = _existing(username, session=session)
    user.active = False
    user.on_shift_until = None
    session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))
    audit.record("account_deactivated", session=session, user_id=None, detail=f"{user.username} {by or _command_line()}")
    return user


def set_password(username: str, password: str, *, session: Session, by: str | None = None) -> StaffUser:
    """A new password; every session of the account is ended, and its known browsers forgotten (audited)."""
    user = _existing(username, session=session)
    _check_new_password(password)
    user.password_hash = hash_password(password)
    session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))
    audit.record("password_set", session=session, user_id=None, detail=f"{user.username} {by or _command_line()}")
    return user


def is_admin(user: StaffUser) -> bool:
    """Whether the account may open the admin pages (audit log, users)."""
    return user.role == ROLE_ADMIN
