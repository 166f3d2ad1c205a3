"""Questions asked in the middle of a form, and coming back to the form afterwards.

A form asks one thing at a time ("What name should they use?"). When the reply is
really a question ("how much does it cost to visit"), the form's validation rejects
it (nothing is stored), the question is answered by the ordinary rules, and the
assistant offers to carry on (`utter_resume_<form>`, said by
bot.dialogue.policy.FormRulePolicy). The reply to that offer goes back to the form:
"carry on" asks the question again, "no"/"stop" ends the form with nothing kept, and
anything else is read as the answer to the question it was asking (or, if it is
another question, answered the same way).

Pure functions over the message and the tracker's events, shared by the rasa server
(the policy) and the action server (the form's validation).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from bot.nlp import scope

# The offer to carry on: one response per form, with a variant per question it was asking.
OFFER_PREFIX = "utter_resume_"
ACTION_LISTEN = "action_listen"

# A topic question is answered mid-form only when the classifier is this sure of it.
MIN_CONFIDENCE = 0.5
# Topic intents that are not answered mid-form: asking for a person or "any more?" there
# means the form they are in (they are asking for a call back already).
NOT_DIGRESSIONS = frozenset({"ask_human", "ask_live_chat", "ask_more_results"})

_QUESTION_WORDS = frozenset(
    "how what whats when where who whos why which can could cn do does dose is are r will would should shall may "
    "did has have am wat wot wht hw wen wer whr wheres y isnt arent cant wont".split()
)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation or apostrophes ("Don't!" -> ["dont"])."""
    return re.sub(r"[^a-z0-9 ]", " ", (text or "").lower().replace("'", "").replace("’", "")).split()


def _normal(text: str) -> str:
    return " ".join(words(text))


def looks_like_question(text: str) -> bool:
    """A question mark, or a first word that opens a question ("how", "can", "wot")."""
    if "?" in (text or ""):
        return True
    found = words(text)
    return bool(found) and found[0] in _QUESTION_WORDS


def is_topic_question(intent: str | None, confidence: float | None) -> bool:
    """A question about one of the assistant's topics (an ask_* intent), confidently classified."""
    return bool(
        intent
        and intent.startswith("ask_")
        and intent not in NOT_DIGRESSIONS
        and (confidence or 0.0) >= MIN_CONFIDENCE
    )


def is_digression(intent: str | None, confidence: float | None, text: str) -> bool:
    """A message the form should not take as its answer when it does not read as one: a topic
    question, or a question about something the assistant does not help with ("what's the weather
    tomorrow?"), which is declined before the offer to carry on. An off-topic message that is not a
    question ("12" asked for a phone number) is a poor answer, and the form says so."""
    return is_topic_question(intent, confidence) or (intent == scope.OUT_OF_SCOPE and looks_like_question(text))


def resume_answer(text: str) -> bool | None:
    """To "shall we carry on?": True to carry on, False to stop, None for anything else
    (the answer to the form's question itself, or another question)."""
    stripped = (text or "").strip().lower()
    if stripped == "/affirm":
        return True
    if stripped in ("/deny", "/stop_referral"):
        return False
    normal = _normal(text)
    if normal in _RESUME:
        return True
    if normal in _STOP or is_stop_request(text):
        return False
    return None


def _join(phrases: Iterable[str]) -> frozenset[str]:
    return frozenset(_normal(p) for p in phrases if p.strip())


# Whole replies (after lower-casing and dropping punctuation) that carry on or stop.
_RESUME = _join([
    "yes", "y", "yeah", "yep", "yeh", "yea", "ok", "okay", "k", "sure", "fine", "alright", "go on", "carry on",
    "continue", "keep going", "go ahead", "resume", "yes please", "yes carry on", "ok carry on", "lets carry on",
    "lets continue", "carry on please", "go on then", "yes go on", "yeah go on", "yes lets", "yes continue",
    "please continue", "lets go on", "back to it", "ok go on", "yeah carry on", "yes please carry on",
    "carry on then", "ok lets carry on", "yes thats fine", "ok then", "yes ok", "ye", "yh", "ya",
])
# (with is_stop_request's phrases: "forget it", "never mind", "stop"...)
_STOP = _join([
    "no", "n", "nah", "nope", "no thanks", "no thank you", "not now", "cancel", "no stop",
    "not today", "another time", "maybe later", "no not now", "no ta",
])


# Said at any question of a form, these stop it, whatever the classifier made of them: "no"
# alone is an answer at some questions (skip the name, no voicemail), these never are.
_STOP_ANYWHERE = re.compile(
    r"\b(forget (it|about it|this|the call( back)?)|changed my mind|change of mind|never ?mind|dont bother|"
    r"stop (this|it|asking|the call( back)?|now)|cancel (it|this|that|the call( back)?)|leave it( there)?$|"
    r"dont want (a|the|to be) (call|ring|phone)|dont want to do this|not interested)\b|^stop( please)?$"
)


# A stop request is short; a longer message that mentions stopping is about something else
# ("probation keep asking him to stop it and he won't" as the few words about the call).
MAX_STOP_WORDS = 7


def is_stop_request(text: str) -> bool:
    """'actually no forget it', 'changed my mind', 'stop asking': stop the form."""
    if (text or "").strip().lower() == "/stop_referral":
        return True
    normal = _normal(text)
    return len(normal.split()) <= MAX_STOP_WORDS and bool(_STOP_ANYWHERE.search(normal))


def bot_action_before_latest_message(newest_first: Iterable[Mapping[str, Any]]) -> str | None:
    """The last action the assistant ran before the latest user message (action_listen aside),
    from the tracker's events as dicts, newest first."""
    seen_user = False
    for event in newest_first:
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None  # two user messages with no action between: nothing to report
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") != ACTION_LISTEN:
            return event.get("name")
    return None


def offer_name(form: str) -> str:
    return f"{OFFER_PREFIX}{form}"


def just_offered(newest_first: Iterable[Mapping[str, Any]], form: str) -> bool:
    """True when the latest message is the reply to the offer to carry on with `form`
    (events as dicts, newest first)."""
    return bot_action_before_latest_message(newest_first) == offer_name(form)
