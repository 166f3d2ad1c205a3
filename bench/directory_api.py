"""The directory API (bot.directory_api) over HTTP at 100,000 services, on SQLite and PostgreSQL,
against the same API at 1,000 services, in one run.

    python -m bench.directory_api [--services 100000] [--small 1000] [--requests 300] [--postgres URL]

The services are bench.directory's synthetic ones (90% cover one council, the rest a county,
region, nation or more; 1-3 needs, 1-2 eligibility groups), each with one location at a random
UK postcode district (coordinates jittered within about 1 km of its centre). The API runs as its
own process (`python -m bot.directory_api`), as in production, and is asked one request at a time
over HTTP:
  /services?page=N                                   N random over every page (50 a page)
  /service_at_locations?postcode=P&proximity=5000    P a random postcode district
Target (issue 18): p95 under 50 ms for both at 100,000 services on both databases.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import insert

from bench.directory import fill, synthetic_rows
from bot import db
from bot.directory.models import Location, ServiceAtLocation, stable_uuid
from bot.geo import gazetteer
from bot.servers import BIN, child_env, free_port, wait_for

TARGET_P95_MS = 50.0
PROXIMITY_M = 5000


def with_locations(rows: dict[str, list[dict]], rng: random.Random) -> dict[str, list[dict]]:
    """Add UUIDs, one location per service at a random postcode district, and the links."""
    districts = [d for d in gazetteer().districts.values() if d.lat is not None and d.active_postcodes]
    locations, links = [], []
    for service in rows["service"]:
        service["uuid"] = stable_uuid("service", service["id"])
        service["offered"] = True  # as bot.directory.changes sets it for an active, unchecked entry
        district = rng.choice(districts)
        lid = f"loc-{service['id']}"
        locations.append({
            "id": lid, "uuid": stable_uuid("location", lid), "name": f"Hall for {service['name']}", "address": "1 High Street",
            "postcode": f"{district.district} 1AA", "council_code": district.council_code,
            "latitude": district.lat + rng.uniform(-0.01, 0.01), "longitude": district.long + rng.uniform(-0.015, 0.015),
        })
        links.append({"id": f"{service['id']}@{lid}", "uuid": stable_uuid("service_at_location", f"{service['id']}@{lid}"),
                      "service_id": service["id"], "location_id": lid})
    for org in rows["organization"]:
        org["uuid"] = stable_uuid("organization", org["id"])
    return {**rows, "location": locations, "service_at_location": links}


def fill_all(url: str, rows: dict[str, list[dict]]) -> float:
    start = time.perf_counter()
    fill(url, rows)
    with db.session_factory(url)() as session, session.begin():
        for model, table in ((Location, "location"), (ServiceAtLocation, "service_at_location")):
            for i in range(0, len(rows[table]), 5000):
                session.execute(insert(model), rows[table][i: i + 5000])
    # Planner statistics, and on PostgreSQL the visibility map a live database's autovacuum keeps
    # (without it an index-only scan reads the table as well): VACUUM runs outside a transaction.
    with db.engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")
    return time.perf_counter() - start


def _get(url: str) -> tuple[float, dict]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = json.loads(answer.read())
    return (time.perf_counter() - start) * 1000, body


def measure(url: str, count: int, requests: int, rng: random.Random) -> dict[str, dict[str, float]]:
    """p50 and p95 (ms) for each kind of request against the API serving `url`."""
    port = free_port()
    api = subprocess.Popen([str(BIN / "python"), "-m", "bot.directory_api", "--port", str(port), "--database-url", url],
                           env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    districts = [d.district for d in gazetteer().districts.values() if d.lat is not None and d.active_postcodes]
    pages = max(1, -(-count // 50))
    results: dict[str, dict[str, float]] = {}
    try:
        wait_for(base + "/", 60, api)
        kinds = {
            "/services": lambda: f"{base}/services?page={rng.randint(1, pages)}",
            "/service_at_locations near": lambda: f"{base}/service_at_locations?postcode={rng.choice(districts)}&proximity={PROXIMITY_M}",
        }
        for name, make in kinds.items():
            timings, found = [], 0
            for i in range(requests + 20):
                elapsed, body = _get(make())
                if i >= 20:  # warm-up
                    timings.append(elapsed)
                    found += body["total_items"]
            timings.sort()
            results[name] = {"p50": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))], "mean_found": found / requests}
    finally:
        api.terminate()
        api.wait(10)
    return results


def _scratch_postgres(admin_url: str) -> tuple[str, object]:
    import psycopg2

    name = f"fc_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def run_one(database: str, size: int, args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, float]]:
    rows = with_locations(synthetic_rows(size, random.Random(42)), random.Random(43))
    if database == "SQLite":
        url, cleanup = f"sqlite:///{tmp / f'bench-{size}.db'}", None
    else:
        url, cleanup = _scratch_postgres(args.postgres)
    try:
        load = fill_all(url, rows)
        results = measure(url, size, args.requests, random.Random(7))
        results["load"] = {"s": load}
        return results
    finally:
        db.engine_for(url).dispose()
        if cleanup is not None:
            admin, name = cleanup
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000, help="the size the ratios are taken against")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="server for scratch databases ('' to skip)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="measure SQLite too (default yes)")
    args = parser.parse_args(argv)
    databases = (["SQLite"] if args.sqlite else []) + (["PostgreSQL"] if args.postgres else [])
    table = []
    with tempfile.TemporaryDirectory(prefix="fc-bench-api-") as tmp:
        for database in databases:
            big, small = run_one(database, args.services, args, Path(tmp)), run_one(database, args.small, args, Path(tmp))
            for kind in ("/services", "/service_at_locations near"):
                table.append((database, kind, big[kind], small[kind]))
            print(f"{database}: loaded {args.services:,} services in {big['load']['s']:.0f} s", flush=True)
    print(f"\n{args.requests} requests each, one at a time over HTTP; ratio = at {args.services:,} / at {args.small:,} services\n")
    print(f"{'database':<11} {'request':<28} {'p50 ms':>7} {'p95 ms':>7} {'p95 ratio':>9} {'found (mean)':>12}")
    for database, kind, big, small in table:
        print(f"{database:<11} {kind:<28} {big['p50']:>7.1f} {big['p95']:>7.1f} {big['p95'] / small['p95']:>9.2f} {big['mean_found']:>12.1f}")
    worst = max(big["p95"] for _, _, big, _ in table)
    print(f"\nTarget p95 under {TARGET_P95_MS:.0f} ms: {'met' if worst < TARGET_P95_MS else 'NOT met'} (worst p95 {worst:.1f} ms, {worst / TARGET_P95_MS:.2f} of the target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
