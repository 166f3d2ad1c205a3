"""Console pages with 100,000 conversations in the tracker store, against the same pages with
1,000, in one run (issue 17): the statistics come from one summary row per conversation
(bot.insights.summary, kept current from new events only), never from every event on a view.

    python -m bench.console_100k [--conversations 100000] [--small 1000] [--requests 30] [--postgres URL]

For each size: a real tracker store (Rasa's events table; SQLite files, or scratch databases on
PostgreSQL with --postgres) filled in bulk with a helpline's mix of conversations over 12 weeks
(questions, fallbacks, asking for a person, call-back forms sent and left, safety replies, "was
that helpful?"), about 18 events each; cases for 2.5% of them (2,500 at 100,000), most closed.
Then `bot.insights.summary.update` is timed: the first read of everything, then an incremental
read of 1% more conversations (1,000 at 100,000). Then the console runs as its own process
(`python -m bot.console`), an admin logs in, and each page is fetched `--requests` times after
3 warm-ups: the queue, /stats, /stats.csv, /stats filtered, /review (when the console has it)
and a case page. Reported: median and p95 per page and size, and the ratio large/small.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import requests
from sqlalchemy import insert

from bot import conversations, db
from bot.conversations import events
from bot.insights import summary
from bot.referrals.models import PRIORITY_RANK, Case
from bot.servers import BIN, child_env, free_port, wait_for
from bot.staff import accounts

TOPICS = ["ask_visit_booking", "ask_visit_costs", "ask_visit_rules", "ask_send_money", "ask_keep_in_touch", "ask_tell_children",
          "ask_school", "ask_money", "ask_housing", "ask_release_prepare", "ask_arrest", "ask_court", "ask_find_prison"]
PLACES = ["Stockton-on-Tees", "Hartlepool", "Middlesbrough", "Leeds", "Manchester", "Liverpool", "Birmingham", "Bristol",
          "Cardiff", "Norfolk", "Kent", "Cornwall", "Newcastle upon Tyne", "Sheffield", "Nottingham"]
CHANNELS = [("webchat", 0.5), ("twilio", 0.35), ("telegram", 0.15)]
PASSWORD = "bench horse battery staple"
WEEKS = 12


class Events:
    """Rows for Rasa's events table, one conversation at a time, as Rasa 3.6 stores them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, sender: str, at: float, type_name: str, data: dict, intent: str | None = None, action: str | None = None) -> None:
        data = {"event": type_name, "timestamp": at, **data}
        self.rows.append({"sender_id": sender, "type_name": type_name, "timestamp": at, "intent_name": intent,
                          "action_name": action, "data": json.dumps(data)})


def _action(ev: Events, sender: str, at: float, name: str) -> None:
    ev.add(sender, at, "action", {"name": name, "policy": "FormRulePolicy", "confidence": 1.0, "action_text": None,
                                  "hide_rule_turn": False}, action=name)


def _turn(ev: Events, sender: str, at: float, channel: str, intent: str, replies: list[str], slots: dict | None = None,
          gap: float = 20.0) -> float:
    """A message from the person and the assistant's answer; returns the time after it."""
    text = f"(a message, {intent})"
    parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": text, "message_id": uuid.uuid4().hex,
             "metadata": {}, "intent_ranking": [{"name": intent, "confidence": 0.93}, {"name": "greet", "confidence": 0.04}]}
    ev.add(sender, at, "user", {"text": text, "parse_data": parse, "input_channel": channel, "message_id": parse["message_id"],
                                "metadata": {}}, intent=intent)
    ev.add(sender, at + 0.1, "user_featurization", {"use_text_for_featurization": False})
    for name, value in (slots or {}).items():
        ev.add(sender, at + 0.2, "slot", {"name": name, "value": value})
    for reply in replies:
        _action(ev, sender, at + 0.3, reply)
        if reply.startswith("utter_"):
            ev.add(sender, at + 0.4, "bot", {"text": f"({reply})", "data": {}, "metadata": {"utter_action": reply}})
    _action(ev, sender, at + 0.5, "action_listen")
    return at + gap


def conversation(ev: Events, rng: random.Random, sender: str, at: float) -> str:
    """One conversation's events; returns its kind ("question", "fallback", "greeting", "person", "callback", "safety")."""
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    _action(ev, sender, at, "action_session_start")
    ev.add(sender, at, "session_started", {})
    _action(ev, sender, at, "action_listen")
    topic = rng.choice(TOPICS)
    slots = {}
    if rng.random() < 0.45:
        slots["area"] = rng.choice(PLACES)
    if rng.random() < 0.6:
        slots["audience"] = rng.choice(["family", "family", "family", "young_person", "professional"])
    roll = rng.random()
    if roll < 0.1:
        _turn(ev, sender, at + 1, channel, "greet", ["utter_greet"])
        return "greeting"
    if roll < 0.13:
        _turn(ev, sender, at + 1, channel, "risk_self", ["utter_risk_self", "utter_safety_helpline"])
        return "safety"
    t = _turn(ev, sender, at + 1, channel, topic, [f"utter_{topic}"], slots)
    if roll < 0.6:
        for extra in range(rng.choice([0, 1, 1, 2])):
            t = _turn(ev, sender, t, channel, rng.choice(TOPICS), [f"utter_{rng.choice(TOPICS)}"])
        if rng.random() < 0.35:
            t = _turn(ev, sender, t, channel, "thank", ["utter_ask_feedback"])
            if rng.random() < 0.6:
                _turn(ev, sender, t, channel, rng.choices(["feedback_helpful", "feedback_not_helpful"], [0.8, 0.2])[0], ["utter_thanks_feedback"])
        return "question"
    if roll < 0.75:
        t = _turn(ev, sender, t, channel, "nlu_fallback", ["action_default_fallback", "utter_default"])
        if rng.random() < 0.5:
            _turn(ev, sender, t, channel, rng.choice(TOPICS), [f"utter_{topic}"])
        return "fallback"
    if roll < 0.87:
        _turn(ev, sender, t, channel, "ask_human", ["action_handoff", "utter_handoff_waiting"])
        ev.add(sender, t + 1, "pause", {})
        return "person"
    return _callback(ev, rng, sender, t, channel)


def _callback(ev: Events, rng: random.Random, sender: str, t: float, channel: str) -> str:
    t = _turn(ev, sender, t, channel, "request_callback", ["referral_form"])
    ev.add(sender, t - 1, "active_loop", {"name": "referral_form"})
    for slot in ("referral_consent", "referral_phone", "referral_best_time"):
        t = _turn(ev, sender, t, channel, "inform", [f"utter_ask_{slot}"], {"requested_slot": slot})
    if rng.random() < 0.25:  # left unfinished
        t = _turn(ev, sender, t, channel, "deny", ["action_stop_referral"])
        ev.add(sender, t, "active_loop", {"name": None})
        return "abandoned"
    _action(ev, sender, t, "action_submit_referral")
    ev.add(sender, t + 0.1, "bot", {"text": "(sent)", "data": {}, "metadata": {"utter_action": "utter_referral_sent"}})
    ev.add(sender, t + 0.2, "active_loop", {"name": None})
    _action(ev, sender, t + 0.3, "action_listen")
    return "callback"


def fill_tracker(url: str, count: int, rng: random.Random, first: int = 0, now: float | None = None) -> dict[str, list[str]]:
    """Add `count` conversations to the tracker store at `url`; returns sender ids by kind."""
    now = now or time.time()
    engine = db.engine_for(url)
    conversations.create_table(engine)
    kinds: dict[str, list[str]] = {}
    ev = Events()
    # Oldest first: a helpline has a few chats at once, so a conversation's events are close together.
    starts = sorted(now - rng.uniform(3600, WEEKS * 7 * 86400) for _ in range(count))
    for i, start in zip(range(first, first + count), starts):
        sender = f"bench-{i:07d}"
        kind = conversation(ev, rng, sender, start)
        kinds.setdefault(kind, []).append(sender)
        if len(ev.rows) > 50_000 or i == first + count - 1:
            with engine.begin() as connection:
                connection.execute(insert(events), ev.rows)
            ev.rows = []
    return kinds


def make_cases(url: str, kinds: dict[str, list[str]], share: float, rng: random.Random) -> int:
    """Cases for `share` of the conversations (live chats and call backs, most closed), with
    priorities, response and call-back times and outcomes."""
    asked = [(s, "live") for s in kinds.get("person", [])] + [(s, "callback") for s in kinds.get("callback", [])]
    total = sum(len(v) for v in kinds.values())
    chosen = rng.sample(asked, min(len(asked), max(20, int(total * share))))
    now = datetime.utcnow()
    rows = []
    for n, (sender, kind) in enumerate(chosen):
        created = now - timedelta(minutes=rng.uniform(30, WEEKS * 7 * 24 * 60))
        level = rng.choices(["urgent", "high", "normal"], [0.1, 0.2, 0.7])[0]
        target = {"urgent": 15, "high": 60, "normal": 1440}[level]
        answered = rng.random() < 0.95
        first = created + timedelta(minutes=rng.lognormvariate(0, 1) * target / 2) if answered else None
        closed = rng.random() < 0.9 and answered
        rows.append({
            "reference": f"FC-B{n:06d}", "kind": kind, "status": "closed" if closed else ("claimed" if answered else "new"),
            "sender_id": sender, "channel": "webchat", "request_key": f"bench-{n}", "created_at": created, "updated_at": created,
            "priority": level, "priority_rank": PRIORITY_RANK[level], "first_response_at": first,
            "called_back_at": first + timedelta(minutes=rng.uniform(5, 600)) if (kind == "callback" and first) else None,
            "closed_at": (first + timedelta(hours=2)) if closed else None,
            "outcome_code": rng.choice(["helped", "signposted", "call_back_arranged", "no_reply"]) if closed else None,
            "council_code": rng.choice(["STT", "HPL", "MDB", "LDS", "MAN", ""]), "topic": rng.choice(TOPICS),
            "audience": "family", "consent_version": "v1" if kind == "callback" else None,
            "consent_at": created if kind == "callback" else None, "phone": f"+4477009{n % 100000:05d}" if kind == "callback" else None,
            "name": "Bench Person" if kind == "callback" else None, "safe_to_call": True if kind == "callback" else None,
        })
    with db.session_factory(url)() as session, session.begin():
        for start in range(0, len(rows), 2000):
            session.execute(insert(Case), rows[start : start + 2000])
    return len(rows)


def build(directory: Path, count: int, rng: random.Random, app_url: str | None = None, tracker_url: str | None = None) -> dict:
    """Fill a tracker store and our database; time the summaries' first read and an incremental
    read of 1% more conversations (1,000 at 100,000). Returns the URLs and those times."""
    added = max(10, count // 100)
    app_url = app_url or f"sqlite:///{directory / 'app.db'}"
    tracker_url = tracker_url or f"sqlite:///{directory / 'tracker.db'}"
    db.upgrade(app_url)
    start = time.perf_counter()
    kinds = fill_tracker(tracker_url, count, rng)
    load = time.perf_counter() - start
    cases = make_cases(app_url, kinds, 0.025, rng)
    with db.session_factory(app_url)() as session, session.begin():
        accounts.add_user("bench", PASSWORD, role="admin", display_name="Bench", session=session)
    tracker = db.engine_for(tracker_url)
    with tracker.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    with db.session_factory(app_url)() as session:
        start = time.perf_counter()
        summary.update(tracker_engine=tracker, session=session)
        first_read = time.perf_counter() - start
    fill_tracker(tracker_url, added, rng, first=count, now=time.time())
    with db.session_factory(app_url)() as session:
        start = time.perf_counter()
        summary.update(tracker_engine=tracker, session=session)
        incremental = time.perf_counter() - start
    for url in (app_url, tracker_url):  # what autovacuum would have done over 12 weeks (PostgreSQL)
        with db.engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE")
    with tracker.connect() as connection:
        n_events = connection.exec_driver_sql("SELECT count(*) FROM events").scalar()
    return {"app_url": app_url, "tracker_url": tracker_url, "cases": cases, "events": n_events, "load_s": load,
            "first_read_s": first_read, "incremental_s": incremental, "conversations": count + added, "added": added}


def log_in(base: str) -> requests.Session:
    client = requests.Session()
    page = client.get(base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    reply = client.post(base + "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert reply.status_code == 200 and reply.url.rstrip("/") == base, "could not log in"
    return client


def time_pages(built: dict, directory: Path, requests_each: int) -> dict[str, dict[str, float]]:
    """Serve the console as its own process and time each page: {page: {p50, p95}} in ms."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = child_env({"FC_VAR_DIR": str(directory), "DATABASE_URL": built["app_url"], "TRACKER_STORE_URL": built["tracker_url"]})
    server = subprocess.Popen([str(BIN / "python"), "-m", "bot.console", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(base + "/login", 60, server)
        client = log_in(base)
        with db.session_factory(built["app_url"])() as session:
            case_id = session.query(Case.id).filter(Case.kind == "live").order_by(Case.id.desc()).limit(1).scalar()
        pages = {"queue": "/", "stats": "/stats", "stats.csv": "/stats.csv", "stats (filtered)": "/stats?channel=twilio&region=North+East",
                 "review": "/review", "case": f"/cases/{case_id}"}
        results = {}
        for name, path in pages.items():
            if client.get(base + path).status_code == 404 and name == "review":
                continue  # this console has no review page yet
            timings = []
            for i in range(requests_each + 3):
                start = time.perf_counter()
                reply = client.get(base + path)
                elapsed = (time.perf_counter() - start) * 1000
                assert reply.status_code == 200, (path, reply.status_code)
                if i >= 3:
                    timings.append(elapsed)
            timings.sort()
            results[name] = {"p50": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))]}
        return results
    finally:
        server.terminate()
        server.wait(10)


def _postgres_databases(admin_url: str, count: int) -> tuple[str, str, Callable[[], None]]:
    """Two scratch databases on the server at `admin_url` (ours and the tracker store) and a
    function that drops them."""
    import psycopg2

    names = [f"fc_bench_{kind}_{count}_{uuid.uuid4().hex[:6]}" for kind in ("app", "tracker")]
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    for name in names:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    urls = [admin_url.rsplit("/", 1)[0] + f"/{name}" for name in names]

    def drop() -> None:
        for url, name in zip(urls, names):
            db.engine_for(url).dispose()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return urls[0], urls[1], drop


def run_size(count: int, requests_each: int, seed: int, postgres: str = "") -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="fc-bench-console-") as tmp:
        drop = None
        app_url = tracker_url = None
        if postgres:
            app_url, tracker_url, drop = _postgres_databases(postgres, count)
        try:
            built = build(Path(tmp), count, random.Random(seed), app_url, tracker_url)
            pages = time_pages(built, Path(tmp), requests_each)
        finally:
            if drop is not None:
                drop()
        for url in (built["app_url"], built["tracker_url"]):
            db.engine_for(url).dispose()
        return built, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", default="", help="a PostgreSQL server to make scratch databases on, e.g. "
                        "postgresql://postgres@127.0.0.1:5432/postgres (default: SQLite files)")
    args = parser.parse_args(argv)
    sizes = {}
    for count in (args.small, args.conversations):
        sizes[count] = run_size(count, args.requests, seed=17, postgres=args.postgres)
    small, large = sizes[args.small], sizes[args.conversations]
    print(f"\n{'PostgreSQL' if args.postgres else 'SQLite'}: our database and the tracker store")
    print(f"\n{'':<26} {args.small:>10,} {args.conversations:>10,}")
    for key, label in (("conversations", "conversations"), ("added", "  of them added after"), ("events", "tracker events"),
                       ("cases", "cases")):
        print(f"{label:<26} {small[0][key]:>10,} {large[0][key]:>10,}")
    for key, label in (("load_s", "bulk load (s)"), ("first_read_s", "summary: first read (s)"),
                       ("incremental_s", "summary: the added (s)")):
        print(f"{label:<26} {small[0][key]:>10.2f} {large[0][key]:>10.2f}")
    print(f"\n{'page (ms)':<20} {'p50':>8} {'p95':>8} {'p50':>8} {'p95':>8} {'ratio p50':>10} {'ratio p95':>10}")
    for name, s in small[1].items():
        big = large[1].get(name)
        if big is None:
            continue
        print(f"{name:<20} {s['p50']:>8.1f} {s['p95']:>8.1f} {big['p50']:>8.1f} {big['p95']:>8.1f} "
              f"{big['p50'] / s['p50']:>9.2f}x {big['p95'] / s['p95']:>9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
