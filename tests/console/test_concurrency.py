"""One slow database request never stops the console serving the others (its database work
runs in a thread pool, not on the event loop), and two workers claiming at once: one wins."""
from __future__ import annotations

import threading
import time

import psycopg2
import pytest
import requests

from tests.support.console import csrf_from, log_in, post


def _waiting_on_a_lock(database_url: str) -> bool:
    """Whether some connection to the test database is waiting for a lock on an UPDATE."""
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                "AND query ILIKE 'UPDATE helpline_case%%'"
            )
            return cur.fetchone()[0] > 0
    finally:
        connection.close()


@pytest.mark.postgres
def test_a_request_stuck_on_a_lock_does_not_stop_other_requests(database_url, console, make_user, make_callback, session_for):
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_stat_activity shows the waiting request: PostgreSQL only")
    make_user("sam")
    make_user("jo")
    case_id = make_callback()
    sam, jo = log_in(console, "sam"), log_in(console, "jo")
    html = sam.get(console.url + f"/cases/{case_id}").text

    # Another transaction is changing the case: Sam's claim will wait on its row lock inside the
    # database (NO KEY UPDATE, as an UPDATE takes: audit rows pointing at the case still go in).
    holder = psycopg2.connect(database_url)
    holder.autocommit = False
    with holder.cursor() as cur:
        cur.execute("SELECT id FROM helpline_case WHERE id = %s FOR NO KEY UPDATE", (case_id,))
    results: dict[str, requests.Response] = {}
    claim = threading.Thread(target=lambda: results.setdefault(
        "claim", sam.post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": csrf_from(html)}, timeout=60)))
    claim.start()
    try:
        for _ in range(400):  # until the claim is inside the database, waiting (not a timing: a condition)
            if _waiting_on_a_lock(database_url):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the claim never reached the database")
        # While it waits, Jo's screens are served: the queue, a case and its transcript, statistics.
        for path in ("/", f"/cases/{case_id}", "/stats"):
            assert jo.get(console.url + path, timeout=30).status_code == 200, path
        assert "claim" not in results  # still waiting: the pages above were served around it
    finally:
        holder.rollback()
        holder.close()
    claim.join(60)
    assert results["claim"].status_code == 200 and results["claim"].url.endswith("?done=claimed")


def test_two_workers_claiming_through_the_console_at_once_one_wins(console, make_user, make_live, session_for, fake_rasa):
    from bot.referrals.models import Case

    names = [f"worker{i}" for i in range(6)]
    ids = {name: make_user(name) for name in names}
    case_id = make_live("tg:777")
    clients = {name: log_in(console, name) for name in names}
    tokens = {}
    for name, client in clients.items():
        tokens[name] = csrf_from(client.get(console.url + f"/cases/{case_id}").text)
    barrier = threading.Barrier(len(names))
    replies = {}

    def claim(name: str) -> None:
        barrier.wait()
        replies[name] = clients[name].post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": tokens[name]}, timeout=60)

    threads = [threading.Thread(target=claim, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [n for n, r in replies.items() if r.status_code == 200 and "done=claimed" in r.url]
    lost = [n for n, r in replies.items() if r.status_code == 409 and "already claimed by someone else" in r.text]
    assert len(won) == 1 and len(lost) == len(names) - 1, {n: r.status_code for n, r in replies.items()}
    with session_for() as s:
        assert s.get(Case, case_id).claimed_by_id == ids[won[0]]
    # The person is told once that a worker joined, not six times.
    assert len([p for p, _, _ in fake_rasa.posts if p.startswith("/conversations/tg:777/")]) == 1


@pytest.mark.postgres
def test_a_statement_stuck_past_the_timeout_is_cancelled_and_the_worker_told(database_url, make_console, make_user, make_callback, session_for, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    from bot import db
    from bot.referrals.models import Case
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "1")
    db.engine_for.cache_clear()  # the console's engine is made with the 1-second limit
    console = make_console()
    make_user("sam")
    case_id = make_callback()
    sam = log_in(console, "sam")
    html = sam.get(console.url + f"/cases/{case_id}").text
    holder = psycopg2.connect(database_url)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM helpline_case WHERE id = %s FOR NO KEY UPDATE", (case_id,))
        # The lock is held for as long as the test wants: the console gives up, it does not hang.
        reply = sam.post(console.url + f"/cases/{case_id}/claim", data={"csrf_token": csrf_from(html)}, timeout=60)
        assert reply.status_code == 503 and "did not answer in time" in reply.text
    finally:
        holder.rollback()
        holder.close()
    with session_for() as s:
        assert s.get(Case, case_id).status == "new"
    assert post(sam, console, f"/cases/{case_id}/claim").url.endswith("?done=claimed")  # and it works once free
