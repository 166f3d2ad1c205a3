"""bot.dialogue.rule_first: the rule policy first, and the policies it outvotes skipped only when
Rasa's ensemble would have picked the rule's prediction anyway (same action, policy,
confidence and events). The last test runs the trained model both ways."""
from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, LoopInterrupted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue import rule_first

DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
ACTIONS = len(DOMAIN.action_names_or_texts)
PLAN = rule_first.Plan("ensemble", "rule", (("memo", "MemoizationPolicy", 3), ("ted", "TEDPolicy", 1)))


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"), *events], slots=DOMAIN.slots)


def after_user(intent="greet") -> DialogueStateTracker:
    return tracker(UserUttered("hello", {"name": intent, "confidence": 0.9}))


def probabilities(at: dict[int, float]) -> list[float]:
    out = [0.0] * ACTIONS
    for index, value in at.items():
        out[index] = value
    return out


def rule(confidence=1.0, action=5, **flags) -> PolicyPrediction:
    return PolicyPrediction(probabilities({action: confidence, 1: 0.3}), "FormRulePolicy", 6, **flags)


def outcome(prediction: PolicyPrediction) -> tuple:
    return (prediction.probabilities, prediction.policy_name, prediction.policy_priority, prediction.events,
            prediction.is_end_to_end_prediction, prediction.is_no_user_prediction, prediction.hide_rule_turn)


@pytest.mark.parametrize("flags", [
    {}, {"is_end_to_end_prediction": True}, {"is_no_user_prediction": True}, {"events": [LoopInterrupted(True)]},
    {"hide_rule_turn": True},
])
@pytest.mark.parametrize("seed", range(5))
def test_the_ensemble_picks_a_certain_rule_whatever_the_outvoted_policies_say(flags, seed):
    rng = random.Random(seed)
    ted = [rng.random() for _ in range(ACTIONS)]
    ted[rng.randrange(ACTIONS)] = 1.0  # even a TED as sure as the rule
    memo = probabilities({rng.randrange(ACTIONS): 1.0})
    for state in (after_user(), tracker(UserUttered("hi", {"name": "greet"}), ActionExecuted("utter_greet"))):
        def combine(others):
            return DefaultPolicyPredictionEnsemble().combine_predictions([rule(**flags), *others], state, DOMAIN)

        with_them = combine([PolicyPrediction(memo, "MemoizationPolicy", 3), PolicyPrediction(ted, "TEDPolicy", 1)])
        stand_ins = combine(PLAN.stand_ins(rule()).values())
        assert outcome(with_them) == outcome(stand_ins)
        assert with_them.policy_name == "FormRulePolicy"


def test_only_a_certain_prediction_decides():
    assert rule_first.decides(rule(1.0))
    assert not rule_first.decides(rule(0.99)) and not rule_first.decides(None)
    stand_ins = PLAN.stand_ins(rule())
    assert set(stand_ins) == {"memo", "ted"}
    assert all(p.max_confidence == 0 and not p.events for p in stand_ins.values())
    assert stand_ins["ted"].policy_name == "TEDPolicy" and stand_ins["ted"].policy_priority == 1


class Runner:
    """A stand-in for Rasa's graph runner: records what it is asked to run."""

    def __init__(self, rule_prediction: PolicyPrediction) -> None:
        self.rule_prediction = rule_prediction
        self.runs: list[tuple[dict, list]] = []

    def run(self, inputs, targets):
        self.runs.append((dict(inputs), list(targets)))
        if targets == ["rule"]:
            return {"rule": self.rule_prediction}
        return {"ensemble": ("combined", inputs)}


def processor(rule_prediction: PolicyPrediction, plan=PLAN) -> SimpleNamespace:
    return SimpleNamespace(graph_runner=Runner(rule_prediction), **{rule_first._PLAN: plan})


def rasas_own(processor, tracker):
    return "rasa's own"


def test_a_certain_rule_runs_alone_and_the_ensemble_gets_stand_ins():
    p, t = processor(rule(1.0)), after_user()
    result, inputs = rule_first.predict_rule_first(p, t, rasas_own)
    assert result == "combined"
    assert [targets for _, targets in p.graph_runner.runs] == [["rule"], ["ensemble"]]
    assert inputs[PLACEHOLDER_TRACKER] is t and inputs["rule"] is p.graph_runner.rule_prediction
    assert inputs["memo"].policy_name == "MemoizationPolicy" and inputs["ted"].max_confidence == 0


def test_an_uncertain_rule_leaves_the_other_policies_to_run():
    p = processor(rule(0.3))
    result, inputs = rule_first.predict_rule_first(p, after_user(), rasas_own)
    assert result == "combined" and set(inputs) == {PLACEHOLDER_TRACKER, "rule"}  # the rule's prediction reused


def test_after_a_rejected_action_rasa_decides():
    """The ensemble then lowers the rejected action's confidence in every prediction."""
    p = processor(rule(1.0))
    rejected = tracker(UserUttered("hi", {"name": "greet"}), ActionExecutionRejected("referral_form"))
    assert rule_first.predict_rule_first(p, rejected, rasas_own) == "rasa's own"
    assert p.graph_runner.runs == []


def test_policies_of_another_shape_are_left_to_rasa():
    p = processor(rule(1.0), plan=None)
    assert rule_first.predict_rule_first(p, after_user(), rasas_own) == "rasa's own"
    assert p.graph_runner.runs == []
    assert rule_first.plan_for(SimpleNamespace(graph_runner=object(), model_metadata=None)) is None


def test_a_follow_up_action_is_left_to_rasa():
    t = after_user()
    t.trigger_followup_action("utter_greet")
    p = processor(rule(1.0))
    assert rule_first.predict_rule_first(p, t, rasas_own) == "rasa's own"


def test_install_is_idempotent_and_undone():
    from rasa.core.processor import MessageProcessor

    own = MessageProcessor._predict_next_with_tracker
    rule_first.install()
    rule_first.install()
    try:
        assert MessageProcessor._predict_next_with_tracker is not own
    finally:
        rule_first.uninstall()
    assert MessageProcessor._predict_next_with_tracker is own


@pytest.mark.e2e
def test_the_trained_model_predicts_the_same_both_ways(model_path):
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    agent = Agent.load(str(model_path))
    plan = rule_first.plan_for(agent.processor)
    assert plan is not None and plan.rule.startswith("run_bot.dialogue.policy.FormRulePolicy")
    assert {name for _, name, _ in plan.others} == {"MemoizationPolicy", "TEDPolicy"}
    domain = agent.processor.domain

    def user(intent):
        return UserUttered("x", {"name": intent, "confidence": 0.9})

    def conversation(*events):
        return DialogueStateTracker.from_events("t", [ActionExecuted("action_session_start"), ActionExecuted("action_listen"), *events],
                                                slots=domain.slots)

    cases = [
        conversation(user("greet")),  # a rule answers
        conversation(user("ask_visit_booking"), ActionExecuted("utter_visit_booking")),
        conversation(user("greet"), ActionExecuted("utter_visit_costs")),  # no rule: the fallback's 0.3, every policy runs
        conversation(user("request_callback"), ActionExecutionRejected("referral_form")),
    ]
    decided = 0
    for case in cases:
        rasa = MessageProcessor._predict_next_with_tracker(agent.processor, case.copy())
        ours = rule_first.predict_rule_first(agent.processor, case.copy(), MessageProcessor._predict_next_with_tracker)
        assert outcome(ours) == outcome(rasa)
        decided += rasa.max_confidence == 1.0
    assert 0 < decided < len(cases)
