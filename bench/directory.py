"""Service-directory query latency with 100,000 synthetic services across every current council,
on SQLite and on PostgreSQL, in one run.

    python -m bench.directory [--services 100000] [--queries 500] [--postgres URL]

The mix: 90% of services cover one council, 6% a county or region, 3% a nation and
1% England and Wales or the UK. Each has 1-3 needs and 1-2 eligibility groups. Each
query is what action_search_services asks: a random current council, a need (or none,
one time in four) and an audience. Target: p95 under 20 ms on both databases.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from bot import db
from bot.directory import areas, search
from bot.directory.models import Eligibility, Organization, Service, ServiceArea, SourceDocument, service_taxonomy
from bot.directory.records import ensure_taxonomy
from bot.directory.taxonomy import AUDIENCE_ELIGIBILITY, ELIGIBILITY, NEEDS
from bot.geo import gazetteer

TARGET_P95_MS = 20.0


def synthetic_rows(count: int, rng: random.Random) -> dict[str, list[dict]]:
    councils = gazetteer().current_councils()
    wide = sorted({f"region:{r}" for r in areas.ENGLISH_REGIONS} | {areas.council_key(c) for c in councils if c.kind == "CTY"})
    nations = [f"nation:{n}" for n in areas.NATIONS]
    needs, eligibility = list(NEEDS), list(ELIGIBILITY)
    rows: dict[str, list[dict]] = {"organization": [], "service": [], "service_area": [], "service_taxonomy": [], "eligibility": []}
    for i in range(count):
        if i % 10 == 0:
            rows["organization"].append({"id": f"org-{i // 10}", "name": f"Organisation {i // 10}", "description": ""})
        sid = f"svc-{i}"
        roll = rng.random()
        if roll < 0.90:
            key = areas.council_key(rng.choice(councils))
        elif roll < 0.96:
            key = rng.choice(wide)
        elif roll < 0.99:
            key = rng.choice(nations)
        else:
            key = rng.choice([areas.UK, areas.ENGLAND_AND_WALES])
        groups = rng.sample(eligibility, rng.randint(1, 2))
        rows["service"].append({
            "id": sid, "organization_id": f"org-{i // 10}", "name": f"Service {i}", "description": "Synthetic service.",
            "status": "active", "source_id": "bench",
            "suits_family": bool(set(groups) & AUDIENCE_ELIGIBILITY["family"]),
            "suits_young_person": bool(set(groups) & AUDIENCE_ELIGIBILITY["young_person"]),
            "suits_professional": bool(set(groups) & AUDIENCE_ELIGIBILITY["professional"]),
            "professionals_only": groups == ["professionals"],
        })
        rows["service_area"].append({"service_id": sid, "area_key": key})
        for need in rng.sample(needs, rng.randint(1, 3)):
            rows["service_taxonomy"].append({"service_id": sid, "taxonomy_term_id": need})
        for group in groups:
            rows["eligibility"].append({"service_id": sid, "eligibility": group})
    return rows


def fill(url: str, rows: dict[str, list[dict]]) -> float:
    db.upgrade(url)
    start = time.perf_counter()
    with db.session_factory(url)() as session, session.begin():
        ensure_taxonomy(session)
        session.execute(insert(SourceDocument), [{"id": "bench", "title": "synthetic benchmark data"}])
        for table, model in (("organization", Organization), ("service", Service), ("service_area", ServiceArea), ("eligibility", Eligibility)):
            for i in range(0, len(rows[table]), 5000):
                session.execute(insert(model), rows[table][i : i + 5000])
        for i in range(0, len(rows["service_taxonomy"]), 5000):
            session.execute(insert(service_taxonomy), rows["service_taxonomy"][i : i + 5000])
    with db.engine_for(url).begin() as connection:  # planner statistics, committed
        connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def measure(url: str, queries: int, rng: random.Random) -> dict[str, float]:
    councils = gazetteer().current_councils()
    needs = list(NEEDS)
    audiences = list(AUDIENCE_ELIGIBILITY)
    timings = []
    factory = db.session_factory(url)
    for i in range(queries + 20):
        council, need, audience = rng.choice(councils), (rng.choice(needs) if rng.random() < 0.75 else None), rng.choice(audiences)
        offset = 3 if rng.random() < 0.2 else 0
        start = time.perf_counter()
        with factory() as session:  # one session per request, as the action uses
            page = search.search_services(session, council=council, need=need, audience=audience, offset=offset)
        elapsed = time.perf_counter() - start
        if i >= 20:  # the first few warm the caches
            timings.append(elapsed * 1000)
        assert len(page.results) <= search.PAGE_SIZE
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "max": timings[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="server to create a scratch database on ('' to skip)")
    args = parser.parse_args(argv)
    rng = random.Random(42)
    rows = synthetic_rows(args.services, rng)
    results = {}
    with tempfile.TemporaryDirectory(prefix="fc-bench-dir-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        load = fill(url, rows)
        results["SQLite"] = {**measure(url, args.queries, random.Random(7)), "load_s": load}
        db.engine_for(url).dispose()
    if args.postgres:
        import psycopg2

        name = f"fc_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(args.postgres)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        try:
            load = fill(url, rows)
            results["PostgreSQL"] = {**measure(url, args.queries, random.Random(7)), "load_s": load}
        finally:
            db.engine_for(url).dispose()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

    print(f"\n{args.services:,} services, {args.queries} queries each (random council, need and audience)\n")
    print(f"{'database':<11} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'load s':>8}")
    for name, r in results.items():
        print(f"{name:<11} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['max']:>8.1f} {r['load_s']:>8.1f}")
    met = all(r["p95"] < TARGET_P95_MS for r in results.values())
    worst = max(r["p95"] for r in results.values())
    print(f"\nTarget p95 under {TARGET_P95_MS:.0f} ms: {'met' if met else 'NOT met'} (worst p95 {worst:.1f} ms, {worst / TARGET_P95_MS:.2f} of the target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
