"""bench.latency's arithmetic: each run's ratios (ours / reference), their median over the runs,
and the targets; no servers are started."""
from __future__ import annotations

import pytest

from bench import latency
from bench.latency import OURS, REFERENCE


def run(ours: dict[int, tuple[float, float, float]], reference: dict[int, tuple[float, float, float]]) -> dict:
    """(p50 ms, p95 ms, msg/s) per concurrency for each bot."""
    out = {}
    for name, figures in ((OURS, ours), (REFERENCE, reference)):
        for senders, (p50, p95, rate) in figures.items():
            out[(name, senders)] = {"p50_ms": p50, "p95_ms": p95, "msgs_per_s": rate}
    return out


def test_summarise_p50_p95_and_rate():
    summary = latency.summarise([0.004, 0.001, 0.003, 0.002] + [0.010] * 16, wall=2.0)
    assert summary["p50_ms"] == pytest.approx(10.0)
    assert summary["p95_ms"] == pytest.approx(10.0)
    assert summary["msgs_per_s"] == pytest.approx(10.0)
    assert latency.summarise([0.001, 0.002, 0.003, 0.004], wall=1.0)["p50_ms"] == pytest.approx(2.5)


def test_ratio_names_follow_the_concurrencies():
    assert latency.ratio_names([1, 8]) == ["p50@1", "p95@1", "p50@8", "throughput@1", "throughput@8"]
    assert latency.ratio_names([2]) == ["p50@2", "p95@2", "throughput@2"]


def test_ratios_are_ours_over_the_reference():
    one = run({1: (60.0, 90.0, 15.0), 8: (300.0, 500.0, 24.0)}, {1: (50.0, 60.0, 20.0), 8: (200.0, 400.0, 30.0)})
    assert latency.ratios(one, [1, 8]) == pytest.approx(
        {"p50@1": 1.2, "p95@1": 1.5, "p50@8": 1.5, "throughput@1": 0.75, "throughput@8": 0.8}
    )


def test_median_is_taken_per_ratio_over_the_runs():
    per_run = [
        {"p50@1": 1.4, "throughput@1": 0.70},
        {"p50@1": 1.1, "throughput@1": 0.90},
        {"p50@1": 1.2, "throughput@1": 0.80},
    ]
    assert latency.median_ratios(per_run) == pytest.approx({"p50@1": 1.2, "throughput@1": 0.80})
    # Not the ratio of the median times: a run's ratio compares both bots under the same load.
    runs = [
        run({1: (10.0, 10.0, 10.0)}, {1: (5.0, 5.0, 10.0)}),
        run({1: (40.0, 40.0, 10.0)}, {1: (40.0, 40.0, 10.0)}),
        run({1: (100.0, 100.0, 10.0)}, {1: (90.0, 90.0, 10.0)}),
    ]
    median = latency.median_ratios([latency.ratios(r, [1]) for r in runs])
    assert median["p50@1"] == pytest.approx(100 / 90)
    with pytest.raises(ValueError):
        latency.median_ratios([])


def test_targets_and_report():
    runs = [
        run({1: (13.0, 20.0, 8.0), 8: (50.0, 80.0, 9.0)}, {1: (10.0, 15.0, 10.0), 8: (40.0, 60.0, 10.0)}),
        run({1: (12.0, 20.0, 9.0), 8: (50.0, 80.0, 8.0)}, {1: (10.0, 15.0, 10.0), 8: (40.0, 60.0, 10.0)}),
        run({1: (15.0, 20.0, 7.0), 8: (50.0, 80.0, 7.0)}, {1: (10.0, 15.0, 10.0), 8: (40.0, 60.0, 10.0)}),
    ]
    median = latency.median_ratios([latency.ratios(r, [1, 8]) for r in runs])
    assert median["p50@1"] == pytest.approx(1.3)
    assert latency.targets_met(median, [1, 8]) == {"p50@1 <= x1.3": True, "throughput@1 >= x0.8": True, "throughput@8 >= x0.8": True}
    text = latency.report(runs, [1, 8])
    assert "p50@1" in text and "x1.30" in text and "x1.20" in text and "x1.50" in text  # the median and the spread
    assert "NOT met" not in text
