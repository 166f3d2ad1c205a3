"""Where the time of one message goes: our bot against the `rasa init` reference, in-process.

Loads each model with Rasa's Agent (ours as bot.rasa_server runs it, with the benchmark's
endpoints: the SQLite tracker store of bot/tracker_store.py, the action server of
bot/action_server.py started beside it with its key, redacted logging, rule-first predictions
of bot/dialogue/rule_first.py), sends the messages of bench/latency.py in conversations of 10 exactly
as the REST channel does (`Agent.handle_message`, under the in-memory lock store), and reports
the wall time per message of each part:

* every node of Rasa's graphs (the NLU components, then the policies and the ensemble), timed
  around `GraphNode.__call__`;
* the tracker store's retrieve and save, the action server's round trips (`RemoteAction.run`),
  the actions as a whole, the log records made (and redacted);

and with `--cprofile` (or `--save`) the top functions of a cProfile of the same messages (time
waiting for the action server is then in the event loop's select). The HTTP layer is not
included: it is the same REST channel for both bots. docs/performance.md has the findings.

    python -m bench.profile_message [--messages 200] [--reference-model ref.tar.gz] [--cprofile] [--top 25] [--save out.prof]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import logging
import pstats
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from bench.latency import OUR_MESSAGES, REFERENCE_MESSAGES, reference_bot
from bot.dialogue import rule_first
from bot.endpoints import action_endpoint, tracker_store_endpoint
from bot.servers import Servers, child_env, free_port, wait_for
from bot.settings import ROOT

CONVERSATION = 10


class Timer:
    """Inclusive wall time per label; nested calls of the same label are counted once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth: dict[str, int] = defaultdict(int)

    def _enter(self, label: str) -> float:
        self._depth[label] += 1
        return time.perf_counter()

    def _exit(self, label: str, start: float) -> None:
        self._depth[label] -= 1
        if self._depth[label] == 0:
            self.seconds[label] += time.perf_counter() - start
            self.calls[label] += 1

    def wrap(self, function: Callable, label: Callable[..., str] | str) -> Callable:
        name = (lambda *a, **k: label) if isinstance(label, str) else label
        if asyncio.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                key = name(*args, **kwargs)
                start = self._enter(key)
                try:
                    return await function(*args, **kwargs)
                finally:
                    self._exit(key, start)
            return timed_async

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            key = name(*args, **kwargs)
            start = self._enter(key)
            try:
                return function(*args, **kwargs)
            finally:
                self._exit(key, start)
        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def instrument(timer: Timer) -> None:
    """Time Rasa's graph nodes, actions and logging (class level: both agents)."""
    from rasa.core import processor
    from rasa.core.actions import action
    from rasa.engine import graph

    graph.GraphNode.__call__ = timer.wrap(graph.GraphNode.__call__, lambda node, *a, **k: f"node {node._node_name}")
    action.RemoteAction.run = timer.wrap(action.RemoteAction.run, "action server round trip (RemoteAction.run)")
    processor.MessageProcessor._run_action = timer.wrap(processor.MessageProcessor._run_action, "actions: all (_run_action)")
    processor.MessageProcessor.parse_message = timer.wrap(processor.MessageProcessor.parse_message, "NLU: whole pipeline (parse_message)")
    processor.MessageProcessor.predict_next_with_tracker_if_should = timer.wrap(
        processor.MessageProcessor.predict_next_with_tracker_if_should, "policies: whole prediction (predict_next_with_tracker_if_should)"
    )
    logging.Logger.handle = timer.wrap(logging.Logger.handle, "logging: records handled")
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(timer.wrap(factory, "logging: records made (redaction)"))


def time_tracker_store(agent: Any, timer: Timer) -> None:
    store = agent.tracker_store
    store.retrieve = timer.wrap(store.retrieve, "tracker store: retrieve")
    store.save = timer.wrap(store.save, "tracker store: save")


async def converse(agent: Any, messages: list[str], total: int, prefix: str) -> float:
    """Send `total` messages in conversations of CONVERSATION; seconds taken."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    start = time.perf_counter()
    sender = ""
    for i in range(total):
        if i % CONVERSATION == 0:
            sender = f"{prefix}-{i}"
        text = messages[i % len(messages)]
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender, input_channel="rest"))
    return time.perf_counter() - start


def profile_bot(
    name: str, model: Path, endpoints: Optional[Path], messages: list[str], total: int, timer: Timer,
    profiler_path: Optional[Path], use_cprofile: bool = True,
) -> tuple[float, dict, dict]:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    async def go() -> tuple[float, dict, dict]:
        available = AvailableEndpoints.read_endpoints(str(endpoints)) if endpoints else AvailableEndpoints()
        agent = await load_agent(model_path=str(model), endpoints=available)
        time_tracker_store(agent, timer)
        await converse(agent, messages, len(messages), f"{name}-warmup")  # warm up models and caches
        timer.reset()
        if not use_cprofile:
            seconds = await converse(agent, messages, total, name)
            return seconds, dict(timer.seconds), {}
        profiler = cProfile.Profile()
        profiler.enable()
        seconds = await converse(agent, messages, total, name)
        profiler.disable()
        if profiler_path:
            profiler.dump_stats(str(profiler_path))
        return seconds, dict(timer.seconds), {"stats": pstats.Stats(profiler)}

    return asyncio.run(go())


def print_parts(name: str, seconds: float, parts: dict[str, float], total: int) -> None:
    print(f"\n{name}: {seconds / total * 1000:.1f} ms a message ({total} messages, in-process, no HTTP)")
    for label, spent in sorted(parts.items(), key=lambda kv: -kv[1]):
        ms = spent / total * 1000
        if ms >= 0.05:
            print(f"  {ms:7.2f} ms  {spent / seconds * 100:5.1f}%  {label}")


def print_top(stats: pstats.Stats, top: int, total: int) -> None:
    stats.sort_stats("cumulative")
    width = 95
    rows = []
    for (filename, line, function), (cc, nc, tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, tt, nc, f"{Path(filename).name}:{line}({function})", filename))
    print(f"  top {top} by cumulative time (ms a message; own time beside it):")
    for ct, tt, nc, label, filename in sorted(rows, reverse=True)[:top]:
        print(f"  {ct / total * 1000:7.2f} {tt / total * 1000:7.2f}  {nc / total:6.1f} calls  {label[:width]}")
    print(f"  top {top} by own time:")
    for ct, tt, nc, label, filename in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"  {tt / total * 1000:7.2f}  {nc / total:6.1f} calls  {label[:width]}  [{'/'.join(Path(filename).parts[-3:-1])}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--reference-model", type=Path, default=None, help="a `rasa init` model (default: train one)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, default=None, help="write our cProfile stats here (.prof); the reference's beside it")
    parser.add_argument("--only", choices=["ours", "reference"], default=None)
    parser.add_argument(
        "--cprofile", action="store_true",
        help="also profile the same messages with cProfile (slows Python code more than C, so the parts' times grow unevenly)",
    )
    args = parser.parse_args(argv)

    from bot import log_hygiene

    log_hygiene.install()  # as bot.rasa_server does, before Rasa configures logging
    logging.basicConfig(level=logging.INFO)
    logging.getLogger().handlers[0].setStream(open("/dev/null", "w"))  # made and redacted, as in the server, but not printed
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)  # as `rasa run` does
    configure_structlog(logging.INFO)
    timer = Timer()
    instrument(timer)
    profiling = args.cprofile or args.save is not None

    with tempfile.TemporaryDirectory(prefix="fc-profile-") as tmp:
        work = Path(tmp)
        results = {}
        if args.only != "reference":
            servers = Servers(model=args.model, actions_port=free_port(), database_url=f"sqlite:///{work / 'families_connect.db'}")
            servers.prepare_database()
            endpoints = work / "endpoints.yml"
            endpoints.write_text(yaml.safe_dump({
                "action_endpoint": action_endpoint(servers.actions_url, servers.env["ACTION_SERVER_SECRET"]),
                "tracker_store": tracker_store_endpoint(f"sqlite:///{work / 'tracker.db'}"),
            }))
            actions = subprocess.Popen(servers.actions_args(), cwd=ROOT, env=child_env(servers.env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(f"{servers.actions_url}/health", 120, actions)
                rule_first.install()  # as bot.rasa_server does
                save = args.save
                results["families-connect"] = profile_bot(
                    "families-connect", args.model, endpoints, OUR_MESSAGES, args.messages, timer, save, profiling
                )
            finally:
                rule_first.uninstall()
                actions.terminate()
                actions.wait(30)
        if args.only != "ours":
            reference = args.reference_model
            if reference is None:
                print("Training the `rasa init` reference bot...", flush=True)
                reference = reference_bot(work / "reference")
            save = args.save.with_name(args.save.stem + ".reference.prof") if args.save else None
            results["rasa-init"] = profile_bot(
                "rasa-init", reference, None, REFERENCE_MESSAGES, args.messages, timer, save, profiling
            )

    for name, (seconds, parts, extra) in results.items():
        print_parts(name, seconds, parts, args.messages)
        if "stats" in extra:
            print_top(extra["stats"], args.top, args.messages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
