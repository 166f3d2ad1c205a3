"""`bot staff ...`: console accounts from the command line, against a real SQLite database."""
from __future__ import annotations

import io

from sqlalchemy import select

from bot import db
from bot.cli import main
from bot.staff import accounts
from bot.staff.models import StaffUser


def test_add_list_deactivate_and_set_password(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["--database-url", url, "staff", "add-user", "Sam", "--role", "admin", "--name", "Sam Smith", "--password-stdin"]) == 0
    assert "added admin sam (Sam Smith)" in capsys.readouterr().out

    typed = iter(["another good password", "another good password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["--database-url", url, "staff", "add-user", "jo"]) == 0

    mismatched = iter(["first password here", "second password here"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(mismatched))
    assert main(["--database-url", url, "staff", "add-user", "kim"]) == 1
    assert "not the same" in capsys.readouterr().err

    assert main(["--database-url", url, "staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "sam\tadmin\tactive\tSam Smith" in listing and "jo\tworker\tactive" in listing and "kim" not in listing
    assert "argon2" not in listing

    assert main(["--database-url", url, "staff", "deactivate", "jo"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
    assert main(["--database-url", url, "staff", "set-password", "sam", "--password-stdin"]) == 0
    assert main(["--database-url", url, "staff", "deactivate", "nobody"]) == 1
    with db.session_factory(url)() as s:
        users = {u.username: u for u in s.execute(select(StaffUser)).scalars()}
        assert not users["jo"].active
        assert users["sam"].password_hash.startswith("$argon2id$") and accounts.check_password(users["sam"], "a brand new password")
    db.engine_for.cache_clear()
