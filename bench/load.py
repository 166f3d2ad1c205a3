"""Load test of the production shape: many concurrent conversations through nginx, with 1 Rasa
server and then with N, in the same run; then checks what was stored.

    python -m bench.load [--seconds 60] [--senders 32] [--instances 2]

Starts an action server and N Rasa servers on scratch PostgreSQL databases (ours and the
tracker store's) and Redis database 12 (emptied afterwards), and two nginx (the deployment's
configuration, bot/nginx.py): one over server 0 only, one over all N. Each phase runs
`--senders` concurrent senders for `--seconds` over the web chat channel through nginx (the
public path, limits included); each sender holds one conversation after another, a new sender
id each:

- topic questions (half): four questions from the helpline's topics;
- directory queries (a quarter): "who supports grandparent carers in Stockton" and the like;
- call backs (a quarter): the whole conversation with consent (tests/e2e/test_referral.py's
  turns), each with its own UK mobile (07512 3xxxxx).

An error is an HTTP error, a timeout, or a reply that is our "something went wrong" message.
Afterwards: every completed call back is in the cases table exactly once (by sender), and
every conversation's tracker in PostgreSQL is in order (tools.tracker_check.tracker_problems: user
messages stored once each and in the order sent, each turn ending before the next,
timestamps never going back). Exit status 1 if any check fails or any error happened.
The per-sender rate limit is raised to 600 a minute here: these senders type far faster
than people do (it is still counted in Redis on every message).
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis
from sqlalchemy import create_engine, func, select

from bot import db, texts
from bot.channels.turn import CANNOT_ANSWER
from bot.cluster import Cluster
from bot.referrals.models import Case
from bot.servers import free_port
from bot.settings import ROOT
from tools.tracker_check import tracker_problems

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/12"
SORRY = texts.variants(CANNOT_ANSWER)[0]["text"].split("{")[0]

TOPIC_QUESTIONS = [
    "how do i book a visit",
    "what ID do I need to visit",
    "my husband was arrested last night what happens now",
    "how do i send him money",
    "is there help with the cost of visiting",
    "what is a tag",
    "how do i tell my kids their dad is in prison",
    "can I email someone in prison",
    "what happens when he gets released",
    "thank you",
]
DIRECTORY_QUESTIONS = [
    "who supports grandparent carers in Stockton",
    "any support near TS18",
    "who can help families in Durham",
    "is there a visitors centre at HMP Durham",
    "support for children with a parent in prison in Leeds",
]


def referral_turns(phone: str) -> list[str]:
    """The call-back conversation with consent, as tests/e2e/test_referral.py has it."""
    return [
        "how do i book a visit", "pls call me back", "yes thats ok", "Sam", phone, "yes", "no",
        '/inform{"best_time": "evening"}', "Stockton", "no thanks", "yes",
    ]


@dataclass
class Conversation:
    kind: str
    sender: str
    turns: list[str]
    sent: list[str] = field(default_factory=list)
    uncertain: bool = False  # a request failed: the message may or may not have been stored
    reference_given: bool = False


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)
    wall: float = 0.0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies) or [0.0]
        pick = lambda q: ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000  # noqa: E731
        return {
            "messages": len(self.latencies),
            "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": pick(0.95),
            "p99_ms": pick(0.99),
            "msgs_per_s": len(self.latencies) / self.wall if self.wall else 0.0,
            "errors": self.errors,
            "callbacks": sum(c.reference_given for c in self.conversations),
        }


_phones = itertools.count(random.randrange(0, 50_000))


def next_conversation(sender: str, rng: random.Random) -> Conversation:
    roll = rng.random()
    if roll < 0.5:
        return Conversation("topic", sender, rng.sample(TOPIC_QUESTIONS, 4))
    if roll < 0.75:
        return Conversation("directory", sender, rng.sample(DIRECTORY_QUESTIONS, 2))
    return Conversation("referral", sender, referral_turns(f"07512 3{next(_phones) % 100_000:05d}"))


async def run_phase(url: str, phase: Phase, senders: int, seconds: float, seed: int) -> None:
    import aiohttp

    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    session_url = url.rsplit("/", 1)[0] + "/session"

    async def sender_loop(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            try:  # the web chat only takes conversation ids it issued, as the page gets one
                async with session.post(session_url) as reply:
                    sender = (await reply.json(content_type=None))["sender"] if reply.status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                phase.error(f"session: {type(error).__name__}")
                return
            if sender is None:
                phase.error(f"session: HTTP {reply.status}")
                return
            conversation = next_conversation(sender, rng)
            phase.conversations.append(conversation)
            for turn in conversation.turns:
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": conversation.sender, "message": turn}) as reply:
                        body = await reply.json(content_type=None) if reply.status == 200 else None
                        status = reply.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    phase.latencies.append(time.perf_counter() - started)
                    phase.error(type(error).__name__)
                    conversation.uncertain = True
                    break
                phase.latencies.append(time.perf_counter() - started)
                if status != 200:
                    phase.error(f"HTTP {status}")
                    conversation.uncertain = True
                    break
                conversation.sent.append(turn)
                texts = [m.get("text", "") for m in body or []]
                if not texts or any(t.startswith(SORRY) for t in texts):
                    phase.error("no answer" if not texts else "sorry message")
                if conversation.kind == "referral" and turn == "yes" and any("FC-" in t for t in texts):
                    conversation.reference_given = True

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender_loop(session) for _ in range(senders)))
        phase.wall = time.perf_counter() - started


def check_stored(phase: Phase, database_url: str, tracker_url: str) -> list[str]:
    """Problems with what the phase left in the cases table and the tracker store."""
    problems: list[str] = []
    with db.session_factory(database_url)() as session:
        counts = dict(
            session.execute(
                select(Case.sender_id, func.count())
                .where(Case.sender_id.in_([c.sender for c in phase.conversations])).group_by(Case.sender_id)
            ).all()
        )
    for conversation in phase.conversations:
        stored = counts.get(conversation.sender, 0)
        if conversation.reference_given and stored != 1:
            problems.append(f"{conversation.sender}: call back confirmed, {stored} cases stored")
        elif not conversation.reference_given and stored > (1 if conversation.uncertain else 0):
            problems.append(f"{conversation.sender}: {stored} cases for a call back never confirmed")
    engine = create_engine(tracker_url, future=True)
    try:
        with engine.connect() as connection:
            for conversation in phase.conversations:
                if not conversation.sent and not conversation.uncertain:
                    continue
                found = tracker_problems(connection, conversation.sender, None if conversation.uncertain else conversation.sent)
                if conversation.uncertain:  # a failed request may leave its turn open; nothing else is allowed
                    found = [p for p in found if "never ended" not in p]
                problems += [f"{conversation.sender}: {p}" for p in found]
    finally:
        engine.dispose()
    return problems


def scratch_database() -> str:
    name = f"fc_load_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{POSTGRES}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{POSTGRES}/{name}"


def drop_database(url: str) -> None:
    admin = psycopg2.connect(f"{POSTGRES}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase")
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders")
    parser.add_argument("--instances", type=int, default=2, help="Rasa servers in the second phase")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    database_url, tracker_url = scratch_database(), scratch_database()
    phases: list[Phase] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fc-load-") as tmp:
        work = Path(tmp)
        cluster = Cluster(
            model=args.model, public_port=free_port(), actions_port=free_port(), instance_port=free_port(args.instances),
            instances=args.instances, directory_api_port=free_port(), database_url=database_url, tracker_store_url=tracker_url,
            lock_store_url=REDIS_URL, log_dir=work / "logs", endpoints_path=work / "endpoints.yml", nginx_dir=work / "nginx",
            # Every sender comes from 127.0.0.1 here: the per-address limits would refuse the load itself.
            env={"MESSAGE_RATE_LIMIT": "600", "ADDRESS_RATE_LIMIT": "100000", "SESSION_RATE_LIMIT": "100000",
                 "GLOBAL_RATE_LIMIT": "100000"},
        )
        try:
            print(f"Starting the action server and {args.instances} Rasa servers...", flush=True)
            cluster.start()
            one_port = free_port()
            cluster.start_nginx("nginx-one", one_port, [0], work / "nginx-one")
            targets = [("1 server", f"http://127.0.0.1:{one_port}"), (f"{args.instances} servers", cluster.public_url)]
            for label, base in targets:  # warm up every server's models
                asyncio.run(run_phase(f"{base}/webhooks/webchat/webhook", Phase("warmup"), 4, 3, args.seed))
            for index, (label, base) in enumerate(targets):
                phase = Phase(f"p{index}")
                print(f"{label}: {args.senders} senders for {args.seconds:.0f}s...", flush=True)
                asyncio.run(run_phase(f"{base}/webhooks/webchat/webhook", phase, args.senders, args.seconds, args.seed + index))
                phases.append(phase)
                problems += check_stored(phase, database_url, tracker_url)
        finally:
            cluster.stop()
            db.engine_for.cache_clear()
            for url in (database_url, tracker_url):
                drop_database(url)
            redis.Redis.from_url(REDIS_URL).flushdb()

    labels = ["1 server", f"{args.instances} servers"]
    print(f"\n{args.senders} concurrent senders, {args.seconds:.0f} s per phase, web chat through nginx")
    print(f"{'':<11} {'messages':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'msg/s':>7} {'errors':>6} {'call backs':>10}")
    results = [p.summary() for p in phases]
    for label, r in zip(labels, results):
        print(f"{label:<11} {r['messages']:>8} {r['p50_ms']:>8.0f} {r['p95_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['msgs_per_s']:>7.1f} {r['errors']:>6} {r['callbacks']:>10}")
    for label, phase in zip(labels, phases):
        if phase.error_kinds:
            print(f"  errors with {label}: {phase.error_kinds}")
    if len(results) == 2:
        a, b = results
        print(
            f"\nRatios, {args.instances} servers / 1 (lower latency, higher throughput are better): "
            f"p50 x{b['p50_ms'] / a['p50_ms']:.2f}, p95 x{b['p95_ms'] / a['p95_ms']:.2f}, "
            f"p99 x{b['p99_ms'] / a['p99_ms']:.2f}, throughput x{b['msgs_per_s'] / a['msgs_per_s']:.2f}"
        )
    conversations = sum(len(p.conversations) for p in phases)
    print(f"\nStored: {conversations} conversations checked in the tracker store, call backs in the cases table: "
          + ("all in order, each call back once" if not problems else f"{len(problems)} problems"))
    for problem in problems[:20]:
        print("  " + problem)
    return 1 if problems or any(p.errors for p in phases) else 0


if __name__ == "__main__":
    raise SystemExit(main())
