"""Shared secrets generated into var/: the setting wins, the file is owner-only, and processes
starting together (make run-prod's Rasa servers, the action server, the console) agree."""
from __future__ import annotations

import multiprocessing
import stat

from bot.secrets import local_secret


def _racer(var_dir, barrier, results):
    barrier.wait()
    results.put(local_secret(var_dir, "webchat"))


def test_a_given_secret_wins_and_writes_nothing(tmp_path):
    assert local_secret(tmp_path, "webchat", "from-settings") == "from-settings"
    assert list(tmp_path.iterdir()) == []


def test_a_generated_secret_is_kept_owner_only_and_reused(tmp_path):
    first = local_secret(tmp_path, "webchat")
    assert len(first) >= 40 and local_secret(tmp_path, "webchat") == first
    path = tmp_path / "webchat.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["webchat.secret"]  # nothing left aside


def test_processes_starting_at_once_all_get_the_same_secret(tmp_path):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(8), context.Queue()
    racers = [context.Process(target=_racer, args=(tmp_path, barrier, results)) for _ in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    seen = {results.get(timeout=5) for _ in racers}
    assert len(seen) == 1 and seen == {(tmp_path / "webchat.secret").read_text().strip()}


def test_an_empty_file_left_by_a_crash_is_replaced(tmp_path):
    (tmp_path / "webchat.secret").write_text("")
    value = local_secret(tmp_path, "webchat")
    assert value and (tmp_path / "webchat.secret").read_text().strip() == value
