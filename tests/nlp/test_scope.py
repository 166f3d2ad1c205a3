"""CLINC150's everyday queries: how a reply is counted, and the training sample (bot/nlp/scope.py)."""
from __future__ import annotations

import json

import yaml

from bot.nlp import scope


def test_each_reply_falls_in_one_class():
    assert scope.classify("out_of_scope", "transfer") == "declined"
    assert scope.classify("nlu_fallback", "oos") == "declined"
    assert scope.classify("greet", "greeting") == "small talk"
    assert scope.classify("greet", "transfer") == "answered"  # a greeting to a bank transfer is no answer
    assert scope.classify("ask_send_money", "transfer") == "answered"
    assert scope.classify("risk_self", "jump_start") == "crisis"


def test_measure_counts_shares_and_sensitive_flows():
    queries = [("hi", "greeting"), ("move money", "transfer"), ("delete my todo list", "todo_list_update"), ("jump start", "jump_start")]
    result = scope.measure(queries, ["greet", "ask_send_money", "delete_my_data", "out_of_scope"])
    assert result.total == 4
    assert result.declined_or_small_talk == 0.5
    assert result.sensitive == 1
    assert result.examples["sensitive"] == [("delete my todo list", "todo_list_update", "delete_my_data")]


def test_the_validation_parts_are_in_the_repo_whole():
    val, oos = scope.load("val"), scope.load("oos_val")
    assert len(val) == 3000 and len(oos) == 100
    assert len({intent for _, intent in val}) == 150


def test_no_validation_query_is_trained_on():
    training = yaml.safe_load(scope.TRAINING_FILE.read_text())["nlu"]
    tables = {block["lookup"]: [line.strip()[2:] for line in block["examples"].splitlines()] for block in training}
    assert len(tables[scope.OUTSIDE]) > 10_000 and len(tables[scope.INSIDE]) > 500
    validation = {text for text, _ in scope.load("val") + scope.load("oos_val")}
    assert validation.isdisjoint(tables[scope.OUTSIDE]) and validation.isdisjoint(tables[scope.INSIDE])


def test_the_sample_takes_each_everyday_intent_and_keeps_small_talk_inside(tmp_path):
    source = tmp_path / "clinc.json"
    source.write_text(json.dumps({
        "train": [[f"move {i} dollars", "transfer"] for i in range(5)] + [["hello", "greeting"], ["cancel it", "cancel"]],
        "oos_train": ["what is a shoe", "a show on broadway"], "val": [["move 4 dollars", "transfer"]], "oos_val": ["a show on broadway"],
    }))
    outside, inside = scope.training_sample(source, per_intent=3)
    assert len([t for t in outside if t.startswith("move")]) == 3
    assert "what is a shoe" in outside and "cancel it" not in outside
    assert "move 4 dollars" not in outside and "a show on broadway" not in outside  # validation queries
    assert inside == ["hello"]
    scope.write_training(source, tmp_path / "out.yml", per_intent=3)
    written = yaml.safe_load((tmp_path / "out.yml").read_text())["nlu"]
    assert [b["lookup"] for b in written] == [scope.OUTSIDE, scope.INSIDE]


def test_words_of_the_field_keep_a_message_in_scope():
    assert scope.names_the_field("how do i change the date of my visit")
    assert scope.names_the_field("anywhere to get a brew outside the nick")
    assert scope.names_the_field("is my citizen card ok 4 id")
    assert not scope.names_the_field("how do i change the date of my dentist appointment")
    assert not scope.names_the_field("transfer 50 pounds to my savings")
