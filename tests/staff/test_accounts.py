"""Staff accounts (bot.staff.accounts): argon2id password hashes and the rules for a new account."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bot.staff import accounts
from bot.staff.models import StaffUser

PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(session_for):
    """make_user("sam", role="worker") -> the user's id; password PASSWORD."""

    def make(username: str = "sam", role: str = "worker") -> int:
        with session_for() as s, s.begin():
            return accounts.add_user(username, PASSWORD, role=role, display_name=username.title(), session=s).id

    return make


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(session_for, make_user):
    user_id = make_user("sam")
    with session_for() as s, s.begin():
        user = s.get(StaffUser, user_id)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert accounts.check_password(user, PASSWORD) and not accounts.check_password(user, PASSWORD + "x")
        # A hash made with weaker parameters is replaced on the next good login.
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        old = user.password_hash
        assert accounts.check_password(user, PASSWORD)
        assert user.password_hash != old and user.password_hash.startswith("$argon2id$")


def test_accounts_refuse_short_passwords_duplicates_and_bad_roles(session_for, make_user):
    make_user("sam")
    with session_for() as s, s.begin():
        with pytest.raises(accounts.AccountError, match="at least"):
            accounts.add_user("jo", "short", role="worker", session=s)
        with pytest.raises(accounts.AccountError, match="already"):
            accounts.add_user("SAM", PASSWORD, role="worker", session=s)
        with pytest.raises(accounts.AccountError, match="role"):
            accounts.add_user("jo", PASSWORD, role="boss", session=s)
