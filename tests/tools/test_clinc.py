"""CLINC150's everyday queries: how a reply is counted, and the training sample (tools/clinc.py)."""
from __future__ import annotations

import json

import yaml

from bot.nlp.scope import INSIDE, OUTSIDE
from tools import clinc


def test_each_reply_falls_in_one_class():
    assert clinc.classify("out_of_scope", "transfer") == "declined"
    assert clinc.classify("nlu_fallback", "oos") == "declined"
    assert clinc.classify("greet", "greeting") == "small talk"
    assert clinc.classify("greet", "transfer") == "answered"  # a greeting to a bank transfer is no answer
    assert clinc.classify("ask_send_money", "transfer") == "answered"
    assert clinc.classify("risk_self", "jump_start") == "crisis"


def test_measure_counts_shares_and_sensitive_flows():
    queries = [("hi", "greeting"), ("move money", "transfer"), ("delete my todo list", "todo_list_update"), ("jump start", "jump_start")]
    result = clinc.measure(queries, ["greet", "ask_send_money", "delete_my_data", "out_of_scope"])
    assert result.total == 4
    assert result.declined_or_small_talk == 0.5
    assert result.sensitive == 1
    assert result.examples["sensitive"] == [("delete my todo list", "todo_list_update", "delete_my_data")]


def test_the_validation_parts_are_in_the_repo_whole():
    val, oos = clinc.load("val"), clinc.load("oos_val")
    assert len(val) == 3000 and len(oos) == 100
    assert len({intent for _, intent in val}) == 150


def test_no_validation_query_is_trained_on():
    training = yaml.safe_load(clinc.TRAINING_FILE.read_text())["nlu"]
    tables = {block["lookup"]: [line.strip()[2:] for line in block["examples"].splitlines()] for block in training}
    assert len(tables[OUTSIDE]) > 10_000 and len(tables[INSIDE]) > 500
    validation = {text for text, _ in clinc.load("val") + clinc.load("oos_val")}
    assert validation.isdisjoint(tables[OUTSIDE]) and validation.isdisjoint(tables[INSIDE])


def test_the_sample_takes_each_everyday_intent_and_keeps_small_talk_inside(tmp_path):
    source = tmp_path / "clinc.json"
    source.write_text(json.dumps({
        "train": [[f"move {i} dollars", "transfer"] for i in range(5)] + [["hello", "greeting"], ["cancel it", "cancel"]],
        "oos_train": ["what is a shoe", "a show on broadway"], "val": [["move 4 dollars", "transfer"]], "oos_val": ["a show on broadway"],
    }))
    outside, inside = clinc.training_sample(source, per_intent=3)
    assert len([t for t in outside if t.startswith("move")]) == 3
    assert "what is a shoe" in outside and "cancel it" not in outside
    assert "move 4 dollars" not in outside and "a show on broadway" not in outside  # validation queries
    assert inside == ["hello"]
    clinc.write_training(source, tmp_path / "out.yml", per_intent=3)
    written = yaml.safe_load((tmp_path / "out.yml").read_text())["nlu"]
    assert [b["lookup"] for b in written] == [OUTSIDE, INSIDE]
