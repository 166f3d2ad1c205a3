"""Logs carry no secrets or people (issue 12, item 4): a whole conversation against the real
servers (nginx, a Rasa server, the action server, the directory API and the staff console),
on the web chat through nginx as a family would: questions, a
call back with a name and a phone number, an action that fails with an error quoting the
person, a live chat with a worker's reply and a hand back; then every byte every server wrote
(stdout, stderr, log files) is searched for the person's phone number, name, conversation id,
what they and the worker wrote, and every secret and token in play."""
from __future__ import annotations

import re
import secrets

import pytest
import requests
from sqlalchemy import select

from bot import db
from bot.staff import accounts
from bot.referrals.models import Case
from bot.servers import free_port
from tests.support.prod import ProdStack

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"
NAME = "Bronwen Tregarthen"
PHONE = "07912 345 678"
PAUSED_TEXT = "is anyone there, it is about my brother Piran in Dartmoor"
WORKER_TEXT = "Hello, this is Sam from the helpline, I am reading about Piran now"
FAILED = "Sorry, something went wrong on our side"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def console_post(client: requests.Session, base: str, page: str, path: str, data: dict) -> requests.Response:
    html = client.get(base + page).text
    reply = client.post(base + path, data={**data, "csrf_token": csrf_from(html)})
    assert reply.status_code == 200, reply.status_code
    return reply


def variants(phone: str) -> list[str]:
    digits = re.sub(r"\D", "", phone)
    return [phone, digits, "+44" + digits[1:], "44" + digits[1:], digits[1:]]


def test_a_whole_conversation_leaves_no_person_or_secret_in_any_log(model_path, tmp_path):
    logs = tmp_path / "logs"
    database_url = f"sqlite:///{tmp_path / 'families_connect.db'}"
    cluster = ProdStack(
        model=model_path, public_port=free_port(), actions_port=free_port(), instance_port=free_port(), instances=1,
        directory_api_port=free_port(), console_port=free_port(), database_url=database_url,
        tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}", lock_store_url="", log_dir=logs,
        endpoints_path=tmp_path / "endpoints.yml", nginx_dir=tmp_path / "nginx",
        actions_imports=("tests.support.failing_action",),
        env={"RASA_AUTH_TOKEN": secrets.token_urlsafe(32), "ACTION_SERVER_SECRET": secrets.token_urlsafe(32)},
    )
    try:
        cluster.start()
        sender, callback_sender = cluster.webchat_id(), cluster.webchat_id()
        with db.session_factory(database_url)() as s, s.begin():
            accounts.add_user("sam", PASSWORD, role="worker", display_name="Sam", session=s)

        # Questions, then a call back with a name and a phone number.
        assert cluster.webchat(callback_sender, "how do i book a visit")
        transcript = []
        for message in ("pls call me back", "yes thats ok", NAME, PHONE, "yes", "no", '/inform{"best_time": "evening"}', "Stockton", "no thanks", "yes"):
            transcript.append((message, [text[:60] for text in cluster.webchat(callback_sender, message)]))
        # It was stored, so the name and number went through every server.
        assert "FC-" in " ".join(transcript[-1][1]), "\n".join(map(str, transcript))
        with db.session_factory(database_url)() as s:
            case = s.execute(select(Case).where(Case.sender_id == callback_sender)).scalar_one()
            assert case.name == NAME and case.phone == "+447912345678"

        # An action that fails with an error quoting the person: the person gets the apology.
        failed = " ".join(cluster.webchat(sender, "who supports grandparent carers in Stockton"))
        assert FAILED in failed

        # A live chat: the worker starts a shift, the person asks, writes while paused, the
        # worker joins, replies and hands back.
        worker = requests.Session()
        page = worker.get(cluster.console_url + "/login")
        worker.post(cluster.console_url + "/login", data={"username": "sam", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
        console_post(worker, cluster.console_url, "/", "/shift", {"action": "start"})
        cluster.webchat(sender, "/ask_live_chat")
        assert cluster.webchat(sender, PAUSED_TEXT) == []
        with db.session_factory(database_url)() as s:
            live = s.execute(select(Case).where(Case.sender_id == sender, Case.kind == "live")).scalar_one()
        case_page = f"/cases/{live.id}"
        console_post(worker, cluster.console_url, case_page, case_page + "/claim", {})
        console_post(worker, cluster.console_url, case_page, case_page + "/reply", {"text": WORKER_TEXT})
        console_post(worker, cluster.console_url, case_page, case_page + "/close", {"outcome": "talked it through", "outcome_code": "helped"})
        status, tracker = cluster.api(f"/conversations/{sender}/tracker")
        assert status == 200 and any(e.get("text") == WORKER_TEXT for e in tracker["events"])
        # The attacks' noise too: refused API calls with a token in the URL, a wrong action key.
        requests.get(f"{cluster.rasa_url}/status?token={cluster.auth_token}", timeout=10)
        requests.get(f"{cluster.public_url}/conversations/{sender}/tracker?token={cluster.auth_token}", timeout=10)
        requests.post(f"{cluster.actions_url}/webhook", json={"sender_id": sender}, headers={"X-Action-Server-Key": "wrong-" + sender}, timeout=10)
    finally:
        cluster.stop()
        db.engine_for.cache_clear()

    written = {path: path.read_text(errors="replace") for path in sorted(logs.rglob("*")) if path.is_file()}
    assert {"actions.log", "rasa-0.log", "console.log", "nginx.log", "directory-api.log"} <= {p.name for p in written}
    assert any("Rasa server is up and running" in text for text in written.values())  # the logs are the real ones
    forbidden = {
        "the person's name": [NAME, NAME.split()[1]],
        "the phone number": variants(PHONE),
        "the conversation ids": [sender, sender[3:], callback_sender, callback_sender[3:]],
        "what the person wrote": [PAUSED_TEXT, "grandparent carers", "Piran"],
        "what the worker wrote": [WORKER_TEXT],
        "the API secret": [cluster.auth_token],
        "the action server's secret": [cluster.env["ACTION_SERVER_SECRET"]],
        "a JWT": ["eyJ"],
        "the console password": [PASSWORD],
    }
    found = [
        f"{what} in {path.name}"
        for path, text in written.items()
        for what, needles in forbidden.items()
        if any(needle in text for needle in needles)
    ]
    assert found == []
