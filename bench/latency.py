"""Per-message latency and throughput over the REST channel, against a `rasa init` reference bot.

Both bots run on this machine in the same run: the reference is created and trained
on the spot with `rasa init`. Reported as ratios (ours / reference), since absolute
times depend on the machine. One invocation measures `--runs` times (default 3), both
bots each time, one right after the other at each concurrency (which goes first
alternates from run to run), so both see the same machine load; the result is the
median of the runs' ratios, with each run's ratios beside it to show the spread.

    python -m bench.latency [--runs 3] [--messages 200] [--concurrency 1 8] [--conversation-length 10]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from bot.endpoints import tracker_store_endpoint
from bot.servers import BIN, Servers, child_env, free_port, wait_for
from bot.settings import ROOT

OUR_MESSAGES = [
    "hello",
    "how do i book a visit",
    "what ID do I need to visit",
    "my husband was arrested last night what happens now",
    "how do i send him money",
    "how do i tell my kids their dad is in prison",
    "is there help with the cost of visiting",
    "we live in stockton",
    "what is a tag",
    "thank you",
]
REFERENCE_MESSAGES = ["hello", "I am sad", "yes", "no", "great", "are you a bot?", "goodbye", "hi there", "very bad", "perfect"]

OURS, REFERENCE = "families-connect", "rasa-init"
# Targets (issue 16): p50 at the first concurrency at most this many times the reference's...
P50_TARGET = 1.3
# ...and throughput (at every concurrency) at least this fraction of the reference's.
THROUGHPUT_TARGET = 0.8

Measurement = Mapping[str, float]  # p50_ms, p95_ms, msgs_per_s
Run = Mapping[tuple[str, int], Measurement]  # (bot, concurrency) -> measurement


def post(url: str, sender: str, message: str) -> float:
    """Seconds for one REST round trip."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def measure(url: str, messages: list[str], total: int, concurrency: int, conversation_length: int) -> dict[str, float]:
    """`concurrency` senders share `total` messages; each sender holds one conversation after
    another, `conversation_length` messages each (a new sender id starts a new conversation)."""
    per_sender = max(1, total // concurrency)
    latencies: list[float] = []
    lock = threading.Lock()

    def sender_loop() -> None:
        mine = []
        for i in range(per_sender):
            if i % conversation_length == 0:
                sender = f"bench-{uuid.uuid4().hex[:8]}"
            mine.append(post(url, sender, messages[i % len(messages)]))
        with lock:
            latencies.extend(mine)

    for message in messages:  # warm up models and caches
        post(url, "bench-warmup", message)
    threads = [threading.Thread(target=sender_loop) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return summarise(latencies, wall)


def summarise(latencies: Sequence[float], wall: float) -> dict[str, float]:
    """p50 and p95 in milliseconds (p95: the nearest rank at or below) and messages a second."""
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "msgs_per_s": len(ordered) / wall,
    }


def ratio_names(concurrency: Sequence[int]) -> list[str]:
    """The ratios reported, in order: p50 and p95 at the first concurrency, p50 at the others,
    throughput at each."""
    first, *others = concurrency
    return [f"p50@{first}", f"p95@{first}", *(f"p50@{c}" for c in others), *(f"throughput@{c}" for c in concurrency)]


def ratios(run: Run, concurrency: Sequence[int]) -> dict[str, float]:
    """One run's ratios, ours / reference (latency: lower is better; throughput: higher is better)."""
    keys = {"p50": "p50_ms", "p95": "p95_ms", "throughput": "msgs_per_s"}
    out = {}
    for name in ratio_names(concurrency):
        what, senders = name.split("@")
        key = keys[what]
        out[name] = run[(OURS, int(senders))][key] / run[(REFERENCE, int(senders))][key]
    return out


def median_ratios(per_run: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The median of each ratio over the runs (the ratio of each run first, then the median)."""
    if not per_run:
        raise ValueError("no runs")
    return {name: statistics.median(r[name] for r in per_run) for name in per_run[0]}


def targets_met(median: Mapping[str, float], concurrency: Sequence[int]) -> dict[str, bool]:
    """Issue 16's targets on the median ratios."""
    met = {f"p50@{concurrency[0]} <= x{P50_TARGET}": median[f"p50@{concurrency[0]}"] <= P50_TARGET}
    for c in concurrency:
        met[f"throughput@{c} >= x{THROUGHPUT_TARGET}"] = median[f"throughput@{c}"] >= THROUGHPUT_TARGET
    return met


def report(runs: Sequence[Run], concurrency: Sequence[int]) -> str:
    """Each run's times and ratios, then the median ratios and the targets."""
    per_run = [ratios(run, concurrency) for run in runs]
    median = median_ratios(per_run)
    lines = [f"\n{'run':>3} {'senders':>7} {'bot':<17} {'p50 ms':>8} {'p95 ms':>8} {'msg/s':>7}"]
    for n, run in enumerate(runs, 1):
        for c in concurrency:
            for name in (OURS, REFERENCE):
                r = run[(name, c)]
                lines.append(f"{n:>3} {c:>7} {name:<17} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['msgs_per_s']:>7.1f}")
    lines.append("\nRatios, ours / rasa init (lower latency and higher throughput are better):")
    width = max(len(name) for name in median)
    header = " ".join(f"run {n:<3}" for n in range(1, len(runs) + 1))
    lines.append(f"  {'':<{width}}  median  {header}".rstrip())
    for name, value in median.items():
        each = " ".join(f"x{r[name]:<6.2f}" for r in per_run)
        lines.append(f"  {name:<{width}}  x{value:<5.2f}  {each}".rstrip())
    lines.append("")
    for target, ok in targets_met(median, concurrency).items():
        lines.append(f"Target {target} (median of {len(runs)}): {'met' if ok else 'NOT met'}")
    return "\n".join(lines)


def reference_bot(work: Path) -> Path:
    """Create and train the `rasa init` starter bot; return its model."""
    work.mkdir(parents=True)
    subprocess.run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(work)], cwd=work.parent, env=child_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return next((work / "models").glob("*.tar.gz"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="measurements of both bots; the median ratio is reported")
    parser.add_argument("--messages", type=int, default=200, help="messages per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--conversation-length", type=int, default=len(OUR_MESSAGES),
        help="messages per conversation (default: one pass through the script, as a real visitor's chat; "
        "Rasa replays a conversation's whole history on every message, so very long ones are slower on any bot)",
    )
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--reference-model", type=Path, default=None, help="a `rasa init` model already trained (default: train one)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    runs: list[dict[tuple[str, int], dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="fc-bench-") as tmp:
        work = Path(tmp)
        if args.reference_model is None:
            print("Training the `rasa init` reference bot...", flush=True)
            reference_model = reference_bot(work / "reference")
        else:
            reference_model = args.reference_model.resolve()
            (work / "reference").mkdir()

        actions_port = free_port()
        endpoints = work / "endpoints.yml"
        endpoints.write_text(yaml.safe_dump({
            "action_endpoint": {"url": f"http://localhost:{actions_port}/webhook"},
            "tracker_store": tracker_store_endpoint(f"sqlite:///{work / 'tracker.db'}"),
        }))
        ours = Servers(
            model=args.model, rasa_port=free_port(), actions_port=actions_port, endpoints=endpoints, log_dir=work / "logs",
            database_url=f"sqlite:///{work / 'families_connect.db'}",
        )
        ref_port = free_port()
        ref = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--model", str(reference_model), "--port", str(ref_port)],
            cwd=work / "reference", env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        bots = [
            (OURS, f"{ours.rasa_url}/webhooks/rest/webhook", OUR_MESSAGES),
            (REFERENCE, f"http://localhost:{ref_port}/webhooks/rest/webhook", REFERENCE_MESSAGES),
        ]
        try:
            ours.start()
            wait_for(f"http://localhost:{ref_port}/", 240, ref)  # no --enable-api: the root page answers when ready
            for n in range(args.runs):
                print(f"Run {n + 1} of {args.runs}...", flush=True)
                run = {}
                for concurrency in args.concurrency:
                    # Both bots back to back at each concurrency, the first alternating between runs.
                    for name, url, messages in bots if n % 2 == 0 else bots[::-1]:
                        run[(name, concurrency)] = measure(url, messages, args.messages, concurrency, args.conversation_length)
                runs.append(run)
        finally:
            ours.stop()
            ref.terminate()
            ref.wait(30)

    print(f"\n{args.runs} runs, {args.messages} messages per measurement, conversations of {args.conversation_length} messages")
    print(report(runs, args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
