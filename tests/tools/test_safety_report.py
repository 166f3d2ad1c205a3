"""The safety net's report for `make test-nlu` (tools/safety_report.py): recall beside false alarms,
and a failure on any crisis message the whole pipeline misses."""
from __future__ import annotations

from tools import safety_report


def test_the_report_fails_when_the_pipeline_misses_a_crisis_message(capsys):
    ordinary = set(safety_report.ordinary_messages())

    def misses_one(texts):
        return [None if t in ordinary or t == "i want to kill myself since he got sent down" else "risk_self" for t in texts]

    assert safety_report.main([], predictor=misses_one) == 1
    assert "recall" in capsys.readouterr().err


def test_the_report_passes_and_prints_both_figures(capsys):
    ordinary = set(safety_report.ordinary_messages())

    def perfect(texts):
        return [None if t in ordinary else "risk_self" for t in texts]

    assert safety_report.main([], predictor=perfect) == 0
    out = capsys.readouterr().out
    assert "FALSE ALARMS" in out and "100.0%" in out and "0 (0.0%)" in out
