"""The audit log records what happens outside the console's pages too (account changes from the
command line, refused requests), and a flood cannot fill it. (The log's own functions:
tests/staff/test_audit.py.)"""
from __future__ import annotations

import io

import requests
from sqlalchemy import func, select

from bot.cli import main
from bot.staff import audit
from bot.staff.models import AuditEntry
from tests.support.console import PASSWORD, audit_rows, csrf_from, log_in


def test_account_changes_from_the_command_line_are_audited(database_url, session_for, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["--database-url", database_url, "staff", "add-user", "Sam", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
    assert main(["--database-url", database_url, "staff", "set-password", "sam", "--password-stdin"]) == 0
    assert main(["--database-url", database_url, "staff", "deactivate", "sam"]) == 0
    assert main(["--database-url", database_url, "staff", "deactivate", "nobody"]) == 1  # nothing changed, nothing recorded
    rows = audit_rows(session_for, accounts=True)
    assert rows == [
        ("account_added", None, None, "sam as admin from the command line (as deploy)"),
        ("password_set", None, None, "sam from the command line (as deploy)"),
        ("account_deactivated", None, None, "sam from the command line (as deploy)"),
    ]
    assert not any("password" in detail and "new" in detail for *_, detail in rows)  # never the password itself


def test_refused_requests_are_recorded(console, make_user, make_callback, session_for):
    sam = make_user("sam", role="worker")
    case_id = make_callback()
    client = log_in(console)
    assert client.post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": "forged"}).status_code == 403
    assert client.get(console.url + "/audit").status_code == 403
    assert client.get(console.url + "/users").status_code == 403
    assert requests.post(console.url + f"/cases/{case_id}/note", data={"csrf_token": "x", "text": "hi"}).status_code == 403
    assert requests.post(console.url + "/login", data={"username": "sam", "password": PASSWORD}).status_code == 403
    refused = [(user, detail) for action, user, _, detail in audit_rows(session_for) if action == "refused"]
    assert refused == [
        (sam, "bad CSRF token; from 127.0.0.1; 1 time"),
        (sam, "admin page /audit opened by a worker; from 127.0.0.1; 1 time"),
        (sam, "admin page /users opened by a worker; from 127.0.0.1; 1 time"),
        (None, "form sent without a session; from 127.0.0.1; 1 time"),
        (None, "bad CSRF token on the login form; from 127.0.0.1; 1 time"),
    ]


def test_a_login_flood_from_many_addresses_cannot_fill_the_log(make_console, make_user, session_for):
    """The attack: 90 failed logins from 30 addresses (through a trusted proxy) to flood the log."""
    console = make_console(trusted_proxies="127.0.0.1")
    make_user("sam")
    client = requests.Session()
    token = csrf_from(client.get(console.url + "/login").text)
    for i in range(90):
        reply = client.post(console.url + "/login", headers={"X-Forwarded-For": f"198.51.{i % 30}.7"},
                            data={"username": f"user{i}", "password": "whatever-it-is", "csrf_token": token})
        assert reply.status_code == 401
    with session_for() as s:
        rows = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        entries = list(s.execute(select(AuditEntry).where(AuditEntry.action.in_(("login_failed", "refused_more")))).scalars())
    assert rows == len(entries) + 1  # and the account made for the test
    minutes = {e.at for e in entries}
    assert len(entries) <= len(minutes) * (audit.MAX_REFUSAL_ROWS_PER_MINUTE + 1)  # at most 21 a minute, however many tries
    counted = 0
    for e in entries:
        counted += int(e.detail.split()[1]) if e.action == "refused_more" else int(e.detail.rsplit("; ", 1)[1].split()[0])
    assert counted == 90  # every try is counted, none listed one by one


def test_the_audit_page_says_when_delete_my_details_requests_are_not_yet_completed(console, make_user, session_for):
    from bot.referrals import cases

    make_user("ada", role="admin")
    admin = log_in(console, "ada")
    assert "not yet completed" not in admin.get(console.url + "/audit").text
    with session_for() as s, s.begin():
        cases.request_erasure("wc:someone", session=s)
        cases.request_erasure("sms:+447700900123", session=s)
    page = admin.get(console.url + "/audit").text
    assert '2 "delete my details" requests not yet completed' in page
    assert "wc:someone" not in page and "7700900123" not in page  # counts only
