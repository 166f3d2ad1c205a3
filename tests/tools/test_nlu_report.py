"""The one table of `make test-nlu` (tools/nlu_report.py) fails on every missed target."""
from __future__ import annotations

from tools import clinc, nlu_report, safety_report
from bot.nlp.safety import SAFETY_INTENTS


def _predictor(crisis_share=0.0, missed_crisis=None):
    """Every crisis message gets risk_self (but `missed_crisis`), every CLINC query out_of_scope but
    the first `crisis_share` of them, which get risk_self; anything else ask_money."""
    crisis = {c.text for items in safety_report.crisis_sets().values() for c in items}
    queries = [t for t, _ in clinc.load("val") + clinc.load("oos_val")]
    alarms = set(queries[: int(len(queries) * crisis_share)])
    clinc_set = set(queries)

    def predict(texts):
        out = []
        for t in texts:
            if t in crisis:
                out.append(None if t == missed_crisis else "risk_self")
            elif t in clinc_set:
                out.append("risk_self" if t in alarms else "out_of_scope")
            else:
                out.append("ask_money")
        return out

    return predict


def test_the_table_passes_when_every_target_is_met(capsys):
    assert nlu_report.main([], predictor=_predictor(), accuracy=0.91) == 0
    out = capsys.readouterr().out
    assert "NLU summary" in out and "MISSED" not in out
    assert "CLINC150 val: declined or own small talk (n=3100)" in out and "100.0%" in out


def test_crisis_replies_to_everyday_queries_fail_it(capsys):
    assert nlu_report.main([], predictor=_predictor(crisis_share=0.02), accuracy=0.91) == 1
    assert "crisis replies" in capsys.readouterr().err


def test_a_missed_crisis_message_or_low_accuracy_fails_it(capsys):
    missed = safety_report.crisis_sets()["crisis, held out (safety_crisis.yml)"][0].text
    assert nlu_report.main([], predictor=_predictor(missed_crisis=missed), accuracy=0.91) == 1
    assert nlu_report.main([], predictor=_predictor(), accuracy=0.89) == 1
    err = capsys.readouterr().err
    assert "recall" in err and "accuracy" in err
    assert SAFETY_INTENTS  # the predictor's crisis intent is one of them
