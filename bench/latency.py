"""Per-message latency and throughput over the REST channel, against a `rasa init` reference bot.

Both bots run on this machine in the same run: the reference is created and trained
on the spot with `rasa init`. Reported as ratios (ours / reference), since absolute
times depend on the machine.

    python -m bench.latency [--messages 200] [--concurrency 1 8] [--conversation-length 10]
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
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "msgs_per_s": len(latencies) / wall,
    }


def reference_bot(work: Path) -> Path:
    """Create and train the `rasa init` starter bot; return its model."""
    work.mkdir(parents=True)
    subprocess.run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(work)], cwd=work.parent, env=child_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return next((work / "models").glob("*.tar.gz"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200, help="messages per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--conversation-length", type=int, default=len(OUR_MESSAGES),
        help="messages per conversation (default: one pass through the script, as a real visitor's chat; "
        "Rasa replays a conversation's whole history on every message, so very long ones are slower on any bot)",
    )
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fc-bench-") as tmp:
        work = Path(tmp)
        print("Training the `rasa init` reference bot...", flush=True)
        reference_model = reference_bot(work / "reference")

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
        try:
            ours.start()
            wait_for(f"http://localhost:{ref_port}/", 240, ref)  # no --enable-api: the root page answers when ready
            results = {}
            for concurrency in args.concurrency:
                for name, url, messages in (
                    ("families-connect", f"{ours.rasa_url}/webhooks/rest/webhook", OUR_MESSAGES),
                    ("rasa-init", f"http://localhost:{ref_port}/webhooks/rest/webhook", REFERENCE_MESSAGES),
                ):
                    results[(name, concurrency)] = measure(url, messages, args.messages, concurrency, args.conversation_length)
        finally:
            ours.stop()
            ref.terminate()
            ref.wait(30)

    print(f"\n{args.messages} messages per measurement, conversations of {args.conversation_length} messages")
    print(f"\n{'senders':>7} {'bot':<17} {'p50 ms':>8} {'p95 ms':>8} {'msg/s':>7}")
    for (name, concurrency), r in results.items():
        print(f"{concurrency:>7} {name:<17} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['msgs_per_s']:>7.1f}")
    print("\nRatios, ours / rasa init (lower latency and higher throughput are better):")
    for concurrency in args.concurrency:
        a, b = results[("families-connect", concurrency)], results[("rasa-init", concurrency)]
        print(
            f"  {concurrency} sender(s): p50 x{a['p50_ms'] / b['p50_ms']:.2f}, p95 x{a['p95_ms'] / b['p95_ms']:.2f}, "
            f"throughput x{a['msgs_per_s'] / b['msgs_per_s']:.2f}"
        )
    p50_ratio = results[("families-connect", args.concurrency[0])]["p50_ms"] / results[("rasa-init", args.concurrency[0])]["p50_ms"]
    print(f"\nTarget p50 within 1.5x of the reference at {args.concurrency[0]} sender: {'met' if p50_ratio <= 1.5 else 'NOT met'} (x{p50_ratio:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
