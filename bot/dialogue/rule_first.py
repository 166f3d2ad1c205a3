"""Rule first: when the rule policy is certain, the policies that cannot outvote it are not run.

Rasa runs every policy for every prediction (two or three a message), then its ensemble
(DefaultPolicyPredictionEnsemble) keeps one prediction: a "no user" one over the others, an
end-to-end one over those made from intents, then the highest confidence, then the highest
priority. This assistant is driven by its rules: on the benchmark's conversations every action
is FormRulePolicy's, at confidence 1.0 and priority 6. TEDPolicy's prediction (the largest cost
of a reply after the sentence encoder, docs/performance.md) and MemoizationPolicy's were
computed and thrown away.

`install()` (bot/rasa_server.py calls it) has each prediction run the rule policy first. When
its prediction has confidence 1.0 and the other policies are ones that can neither outrank it
(a lower priority), make a "no user" or end-to-end prediction (MemoizationPolicy, and
TEDPolicy trained without user text), nor leave events unless they win, the ensemble is given
empty predictions in their place and picks the rule's, as it would have: the same action,
policy, confidence and events. Otherwise, and after a rejected action (the ensemble then
lowers that action's confidence in every prediction) or with a follow-up action, everything
runs as in Rasa, with the rule policy's prediction reused. A model whose policies are not of
this shape is left entirely to Rasa.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.memoization import AugmentedMemoizationPolicy, MemoizationPolicy
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

logger = logging.getLogger(__name__)

# Policies whose predictions never carry events, never come "without user" and (TEDPolicy,
# unless trained on user text) are never end-to-end; each is checked exactly, not its subclasses.
OUTVOTED = (MemoizationPolicy, AugmentedMemoizationPolicy, TEDPolicy)
_PLAN = "_fc_rule_first_plan"


@dataclass(frozen=True)
class Plan:
    target: str  # the ensemble's node
    rule: str  # the rule policy's node
    others: Tuple[Tuple[str, str, int], ...]  # (node, policy class name, priority) of the policies it outvotes

    def stand_ins(self, rule: PolicyPrediction) -> Dict[str, PolicyPrediction]:
        """Empty predictions for the other policies' nodes."""
        size = len(rule.probabilities)
        return {node: PolicyPrediction([0.0] * size, name, priority) for node, name, priority in self.others}


def _component(node: Any) -> Any:
    return getattr(node, "_component", None) if isinstance(node, GraphNode) else None


def plan_for(processor: MessageProcessor) -> Optional[Plan]:
    """How to run `processor`'s policies rule first, or None to leave them to Rasa."""
    runner = processor.graph_runner
    target = processor.model_metadata.core_target if processor.model_metadata else None
    nodes = getattr(runner, "_instantiated_nodes", None)
    schema = getattr(runner, "_graph_schema", None)
    if not isinstance(runner, DaskGraphRunner) or not target or not nodes or schema is None or target not in schema.nodes:
        return None
    if type(_component(nodes.get(target))) is not DefaultPolicyPredictionEnsemble:
        return None
    rules, others = [], []
    for name in schema.nodes[target].needs.values():
        component = _component(nodes.get(name))
        if isinstance(component, RulePolicy):
            rules.append((name, component))
        elif isinstance(component, Policy):
            others.append((name, component))
        elif component is None and name != PLACEHOLDER_TRACKER:
            return None  # not loaded (Rasa loads a prediction graph's components at start)
    if len(rules) != 1 or not others:
        return None
    rule_node, rule = rules[0]
    for _, other in others:
        if type(other) not in OUTVOTED or not other.priority < rule.priority:
            return None
        if isinstance(other, TEDPolicy) and TEXT in (other.fake_features or {}):
            return None  # trained on user text: its prediction may be end-to-end, which outranks the rule's
    return Plan(target, rule_node, tuple((name, type(p).__name__, p.priority) for name, p in others))


def decides(prediction: Any) -> bool:
    """The rule policy's prediction wins whatever the outvoted policies predict."""
    return isinstance(prediction, PolicyPrediction) and prediction.max_confidence >= 1.0


def _last_action_rejected(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, (ActionExecutionRejected, ActionExecuted)):
            return isinstance(event, ActionExecutionRejected)
    return False


def predict_rule_first(processor: MessageProcessor, tracker: DialogueStateTracker, rasa_predict: Callable) -> PolicyPrediction:
    """`MessageProcessor._predict_next_with_tracker`, rule policy first (see the module's docstring)."""
    if _PLAN not in processor.__dict__:
        processor.__dict__[_PLAN] = plan_for(processor)
        logger.debug("Rule-first predictions: %s", processor.__dict__[_PLAN] or "off (policies of another shape)")
    plan = processor.__dict__[_PLAN]
    if plan is None or tracker.followup_action or _last_action_rejected(tracker):
        return rasa_predict(processor, tracker)
    inputs: Dict[str, Any] = {PLACEHOLDER_TRACKER: tracker}
    inputs[plan.rule] = processor.graph_runner.run(inputs=dict(inputs), targets=[plan.rule])[plan.rule]
    if decides(inputs[plan.rule]):
        inputs.update(plan.stand_ins(inputs[plan.rule]))
    return processor.graph_runner.run(inputs=inputs, targets=[plan.target])[plan.target]


_rasa_predict: Optional[Callable] = None


def install() -> None:
    """Make every MessageProcessor of this process predict rule first (idempotent)."""
    global _rasa_predict
    if _rasa_predict is not None:
        return
    _rasa_predict = MessageProcessor._predict_next_with_tracker

    def _predict_next_with_tracker(self: MessageProcessor, tracker: DialogueStateTracker) -> PolicyPrediction:
        return predict_rule_first(self, tracker, _rasa_predict)

    _predict_next_with_tracker.__doc__ = predict_rule_first.__doc__
    MessageProcessor._predict_next_with_tracker = _predict_next_with_tracker


def uninstall() -> None:
    """Back to Rasa's own `_predict_next_with_tracker` (tests)."""
    global _rasa_predict
    if _rasa_predict is not None:
        MessageProcessor._predict_next_with_tracker = _rasa_predict
        _rasa_predict = None
