"""Rasa's RulePolicy, with the offer to carry on a form after a question asked inside it, and
short follow-ups sent to action_follow_up to be read against the conversation.

Rasa's own behaviour after a form rejects a reply and a rule answers it is to run the
form again, which repeats its question as if nothing had happened. Here the assistant
instead offers to carry on ("Shall we carry on with your call back? I was asking for a
name.", response `utter_resume_<form>`), and sends whatever comes next back to the form,
whose validation reads it as carry on, stop, the answer, or another question
(bot.dialogue.digression). Messages the form never reads (its slot mappings'
`not_intent`: safety, stop, cancel, delete) keep their own rules.

A message the NLU marked as a follow-up (entity `follow_up`, bot.nlp.follow_up) goes first to
action_follow_up, which says it again as the intent it means here (bot.dialogue.follow_up); the
rules for that intent then answer it. Never for a safety message, and not inside a form, whose
validation reads every reply itself.

Matching is Rasa's, narrowed first: RulePolicy checks every rule against the conversation on
every prediction (hundreds here), though a rule can only match when its last turn's previous
action is the conversation's; the rules are indexed by that action once (`_get_possible_keys`).
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional, Set, Text, Tuple

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION, REQUESTED_SLOT, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME

from bot.dialogue import digression, follow_up
from bot.nlp.safety import SAFETY_INTENTS
from bot.referrals import concern_form

SOURCE = "form_digression"
FOLLOW_UP_SOURCE = "follow_up"
FOLLOW_UP_ACTION = "action_follow_up"
REFERRAL_FORM = "referral_form"  # the call-back form, which asks about a concern for someone inside


def _excluded_intents(domain: Domain, form: Text) -> set[Text]:
    """Intents the form's own slot mappings never take (`not_intent`): messages with rules of
    their own inside the form (safety, stop, cancel, delete)."""
    excluded: set[Text] = set()
    for slot in domain.slots:
        for mapping in slot.mappings:
            if any(condition.get("active_loop") == form for condition in mapping.get("conditions", [])):
                excluded.update(mapping.get("not_intent", []))
    return excluded


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class FormRulePolicy(RulePolicy):
    """RulePolicy plus: after a question answered inside a form, offer to carry on."""

    def _predict(self, tracker: DialogueStateTracker, domain: Domain) -> Tuple[PolicyPrediction, Optional[Text]]:
        if self._is_follow_up(tracker, domain):
            prediction = self._prediction_result(FOLLOW_UP_ACTION, tracker, domain)
            return self._rule_prediction(prediction, FOLLOW_UP_SOURCE), FOLLOW_UP_SOURCE
        override = self._digression_action(tracker, domain) or self._worry_named(tracker)
        if override is not None:
            return self._rule_prediction(self._prediction_result(override, tracker, domain), SOURCE), SOURCE
        prediction, source = super()._predict(tracker, domain)
        loop = tracker.active_loop_name
        if (
            loop
            and tracker.is_active_loop_rejected
            and tracker.latest_action_name not in (ACTION_LISTEN_NAME, loop)
            and prediction.max_confidence > 0
            and domain.action_names_or_texts[prediction.max_confidence_index] == loop
            and digression.offer_name(loop) in domain.action_names_or_texts
        ):
            # A rule answered something the form could not take, and Rasa would now repeat
            # the form's question: offer to carry on instead.
            return self._rule_prediction(self._prediction_result(digression.offer_name(loop), tracker, domain), SOURCE), SOURCE
        return prediction, source

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        """The rules of `lookup` that match `states`, as RulePolicy's: a rule whose last turn
        names a previous action cannot match a conversation whose last previous action is
        another (RulePolicy._is_rule_applicable at turn 0), so only the rules naming the
        conversation's and those naming none are checked, with RulePolicy's own test."""
        if not states:
            return super()._get_possible_keys(lookup, states)
        by_action, general = self._rules_by_last_action(lookup)
        action = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
        possible_keys = set(general)
        if isinstance(action, str):
            possible_keys.update(by_action.get(action, ()))
        for i, state in enumerate(reversed(states)):
            possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
        return possible_keys

    def _rules_by_last_action(self, lookup: Dict[Text, Text]) -> Tuple[Dict[Text, List[Text]], List[Text]]:
        """`lookup`'s rule keys by the previous action their last turn requires, and those that
        require none (a conversation start, or a rule on `action_text`); built once per lookup."""
        index = self.__dict__.setdefault("_fc_rule_index", {})
        cached = index.get(id(lookup))
        if cached is not None and cached[0] is lookup and cached[1] == len(lookup):
            return cached[2], cached[3]
        by_action: Dict[Text, List[Text]] = {}
        general: List[Text] = []
        for key in lookup:
            turns = json.loads(key)
            action = ((turns[-1] if turns else {}).get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
            if isinstance(action, str) and action and action != SHOULD_NOT_BE_SET:
                by_action.setdefault(action, []).append(key)
            else:
                general.append(key)
        index[id(lookup)] = (lookup, len(lookup), by_action, general)
        return by_action, general

    @staticmethod
    def _is_follow_up(tracker: DialogueStateTracker, domain: Domain) -> bool:
        """The message just received is a follow-up not yet read in context."""
        if tracker.active_loop_name or tracker.latest_action_name != ACTION_LISTEN_NAME or not tracker.latest_message:
            return False
        if FOLLOW_UP_ACTION not in domain.action_names_or_texts:
            return False
        intent = (tracker.latest_message.intent or {}).get("name")
        if intent in SAFETY_INTENTS or intent == "other_language":
            return False
        return follow_up.facet_of(tracker.latest_message.parse_data) is not None

    @staticmethod
    def _worry_named(tracker: DialogueStateTracker) -> Optional[Text]:
        """Asked "what's worrying you most?" about someone inside, a short answer that names it
        ("self-harm", "he's being bullied") is the answer, not a new safety message about the
        sender: the form reads it (the Safer Custody route was given just before)."""
        if tracker.latest_action_name != ACTION_LISTEN_NAME or not tracker.latest_message:
            return None
        loop = tracker.active_loop_name
        if loop != REFERRAL_FORM or tracker.get_slot(REQUESTED_SLOT) != concern_form.KIND:
            return None
        intent = (tracker.latest_message.intent or {}).get("name")
        if intent not in SAFETY_INTENTS or not concern_form.names_the_worry(tracker.latest_message.text or ""):
            return None
        return loop

    @staticmethod
    def _digression_action(tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        loop = tracker.active_loop_name
        if not loop or not tracker.is_active_loop_rejected:
            return None
        offer = digression.offer_name(loop)
        if tracker.latest_action_name == offer:
            return ACTION_LISTEN_NAME  # the offer is a question: wait for the reply
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            return None
        newest_first = (event.as_dict() for event in reversed(tracker.events))
        if not digression.just_offered(newest_first, loop):
            return None
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if intent in _excluded_intents(domain, loop):
            return None  # safety, stop, cancel, delete: their own rules
        return loop  # the form reads the reply to its offer

