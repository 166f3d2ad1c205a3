"""A call back marked as a concern for someone inside: the questions the referral form adds
after consent, what each accepts, and what is read back and stored.

When a family member fears for the person inside (intent risk_prisoner) the assistant gives the
prison's Safer Custody route, then offers a call back about it; if they say yes, the same
referral form runs with slot `referral_concern` set and asks, after consent: which prison (from
the prison register, unless the conversation named one already), a name for the person inside
(optional), what kind of worry it is (CONCERN_KINDS) and when they last heard from them. Never
anything about the offence. Plain functions over strings and slot values (no Rasa here), so
actions/referral.py stays thin glue; the words are domain.yml's responses (bot/texts.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from bot import texts
from bot.geo import Prison, gazetteer
from bot.geo.pages import gov_uk_page
from bot.dialogue.digression import looks_like_question
from bot.referrals import form
from bot.referrals.models import CONCERN_KINDS

CONCERN = "referral_concern"  # True: the form is a concern for someone inside
PRISON = "referral_concern_prison"  # the register's id ("DMI"), or UNKNOWN_PRISON
NAME = "referral_concern_name"  # "" when they'd rather not say
KIND = "referral_concern_kind"  # one of CONCERN_KINDS
LAST_HEARD = "referral_concern_last_heard"  # their words, "" when not given
QUESTIONS = (PRISON, NAME, KIND, LAST_HEARD)
SLOTS = (CONCERN, *QUESTIONS)
UNKNOWN_PRISON = "unknown"

PRISON_UNKNOWN = "utter_referral_concern_prison_unknown"
NAME_INVALID = "utter_referral_concern_name_invalid"
KIND_INVALID = "utter_referral_concern_kind_invalid"
LAST_HEARD_INVALID = "utter_referral_concern_last_heard_invalid"
KIND_WORDS = "utter_referral_concern_kind_words"
MAX_LAST_HEARD = 60
# A prison named inside a short sentence ("he's in durham"): words dropped from the front, at most.
MAX_LEADING_WORDS = 5


def required_slots(domain_slots: Sequence[str], *, concern: bool) -> list[str]:
    """The form's questions: the domain lists the concern questions (after consent), and only a
    concern asks them; an ordinary call back asks the rest in the same order."""
    return list(domain_slots) if concern else [slot for slot in domain_slots if slot not in QUESTIONS]


@dataclass(frozen=True)
class Answer:
    """What a reply to a concern question gives: slot values to set, or a retry (the question is
    asked again, after `response` if there is one)."""

    values: dict[str, Any] = field(default_factory=dict)
    retry: bool = False
    response: str | None = None


def _again(response: str | None = None) -> Answer:
    return Answer(retry=True, response=response)


# --- which prison --------------------------------------------------------------------------

_UNSURE = re.compile(r"\b(unknown|not sure|unsure|dont know|do not know|dunno|idk|no idea|not certain|no clue)\b")


def find_prison(text: str | None) -> Prison | None:
    """The prison a short answer names: 'HMP Durham', 'durham', 'he's in the scrubs'."""
    words = form._words(text or "")
    for start in range(min(len(words), MAX_LEADING_WORDS + 1)):
        prison = gazetteer().find_prison(" ".join(words[start:])) if words[start:] else None
        if prison is not None:
            return prison
    return None


def by_id(prison_id: str | None) -> Prison | None:
    """The prison with this register id ('DMI'): the slot's own value, validated again when the
    form starts with the prison already known."""
    try:
        return gazetteer().prison((prison_id or "").strip()) if prison_id else None
    except KeyError:
        return None


def prison_values(prison: Prison) -> dict[str, Any]:
    """The slots a named prison sets, as action_prison_info sets them: the form's own (the
    register id) and the conversation's (`prison`, its address and GOV.UK page, its nation)."""
    return {
        PRISON: prison.id, "prison": prison.display_name, "prison_address": prison.address or None,
        "prison_page": gov_uk_page(prison), "nation": gazetteer().nation_of_prison(prison.id),
    }


def read_prison(text: str, *, entity: str | None = None) -> Answer:
    """'HMP Durham' (or the prison entity the NLU found), 'not sure' (or 'no', the button's /deny);
    anything else is asked again."""
    prison = by_id(text) or find_prison(entity) or find_prison(text)
    if prison is not None:
        return Answer(prison_values(prison))
    if _UNSURE.search(" ".join(form._words(text))) or form.is_bare_no(text):  # "Not sure" sends /deny
        return Answer({PRISON: UNKNOWN_PRISON})
    if form.is_bare_yes(text) or (text or "").strip().startswith("/"):
        return _again()
    return _again(PRISON_UNKNOWN)


def known_prison(name: str | None) -> str | None:
    """The register id of the prison the conversation already named (the `prison` slot), if any."""
    prison = gazetteer().find_prison(name) if name else None
    return prison.id if prison else None


# --- a name for the person inside ------------------------------------------------------------

_NAME_OPENERS = re.compile(
    r"^(?:(?:his|her|their) names?(?: is)?|(?:he|she|they)(?:'s| is| are|s|re| were)? called|it's|its|name is|called)\s+",
    re.I,
)


def read_name(text: str) -> Answer:
    """A name to give for the person inside ('Jo', 'his name is Jo Bloggs'), "" for 'skip'."""
    if form.is_bare_no(text):
        return Answer({NAME: ""})
    name = form.parse_name(_NAME_OPENERS.sub("", (text or "").strip()))
    if name is not None:
        return Answer({NAME: name})
    return _again(None if form.is_bare_yes(text) else NAME_INVALID)


# --- what kind of worry ------------------------------------------------------------------------

# Words that say the kind of worry, looked for in this order (not hearing from them is read
# before health: "not heard from him since he was ill").
_KIND_WORDS = (
    ("self_harm", r"self ?harm|harm(ing)? (him|her|them)sel|hurt(ing)? (him|her|them)sel|cutting|suicid|kill (him|her|them)sel|"
                  r"end (it|his life|her life)|overdose"),
    ("not_heard_from", r"not heard|havent heard|hasnt (called|rung|phoned|written)|no (contact|calls?|word|news|letters?)|"
                       r"heard nothing|lost contact|not (called|rung|phoned)|cant (reach|get hold)"),
    ("threats_or_bullying", r"bull(y|ied|ying)|threat|beat(en)?|attack|assault|intimidat|debt|owes?|picked on|fight|"
                            r"stabbed|violen|gang|scared of"),
    ("health", r"health|ill(ness)?|sick|medic|meds|doctor|hospital|mental|unwell|pain|drugs?|withdrawal|detox|not eating|"
               r"seizure|epilep|diabet|asthma|pregnan"),
    ("other", r"other|something else|none of (them|these|those)|different"),
)


def read_kind(text: str, *, entity: str | None = None) -> Answer:
    """A button's value ('health'), or the kind their words name; asked again if none."""
    for value in (entity, (text or "").strip()):
        if value in CONCERN_KINDS:
            return Answer({KIND: value})
    said = " ".join(form._words(text))
    for kind, pattern in _KIND_WORDS:
        if said and re.search(rf"\b(?:{pattern})", said):
            return Answer({KIND: kind})
    return _again(None if form.is_bare_yes(text) or form.is_bare_no(text) else KIND_INVALID)


# Words that put the sender in the message ("I want to hurt myself"): then it is about them.
_ABOUT_THE_SENDER = re.compile(r"\b(?:i|im|ive|id|ill|me|my|myself)\b")


def names_the_worry(text: str) -> bool:
    """Whether a message is a short answer to "what's worrying you most?" that names the kind
    of worry about the person inside ("self-harm", "he's being bullied"), even though a safety
    message would use the same words. Never when it speaks of the sender or asks something:
    "I want to hurt myself" is about them, and gets the safety reply."""
    words = form._words(text)
    said = " ".join(words)
    if not words or len(words) > 6 or looks_like_question(text) or _ABOUT_THE_SENDER.search(said):
        return False
    return any(re.search(rf"\b(?:{pattern})", said) for kind, pattern in _KIND_WORDS if kind != "other")


def kind_words(kind: str | None) -> str:
    """The kind of worry in the words read back to the person ('threats or bullying')."""
    return texts.text(KIND_WORDS, referral_concern_kind=kind)


# --- when they last heard ------------------------------------------------------------------

def read_last_heard(text: str) -> Answer:
    """Their own few words ('yesterday', 'two weeks ago'), "" for 'skip'; asked again if too long."""
    if form.is_skip(text):
        return Answer({LAST_HEARD: ""})
    cleaned = " ".join((text or "").split())
    if not cleaned or cleaned.startswith("/") or form.is_bare_yes(text):
        return _again()
    if len(cleaned) > MAX_LAST_HEARD:
        return _again(LAST_HEARD_INVALID)
    return Answer({LAST_HEARD: cleaned})


def read(slot: str, text: str, *, entities: Mapping[str, str | None] | None = None) -> Answer:
    """The answer to the concern question for `slot`; `entities`: the latest message's prison
    and concern_kind entities."""
    entities = entities or {}
    if slot == PRISON:
        return read_prison(text, entity=entities.get("prison"))
    if slot == NAME:
        return read_name(text)
    if slot == KIND:
        return read_kind(text, entity=entities.get("concern_kind"))
    return read_last_heard(text)


# --- read back, and stored -------------------------------------------------------------------

def prison_name(prison_id: str | None) -> str | None:
    """The prison's name from the register ('HMP Durham'); None when unknown."""
    prison = by_id(prison_id)
    return prison.display_name if prison else None


def details_values(slots: Mapping[str, Any]) -> dict[str, str]:
    """The values of utter_referral_concern_details, the concern part of the list to confirm."""
    not_given = texts.text(form.NOT_GIVEN)
    return {
        "shown_prison": prison_name(slots.get(PRISON)) or texts.text("utter_referral_concern_prison_not_known"),
        "shown_concern_name": form.shown(slots.get(NAME), 24) or not_given,
        "concern_kind_words": kind_words(slots.get(KIND)) if slots.get(KIND) else not_given,
        "shown_last_heard": form.shown(slots.get(LAST_HEARD), 24) or not_given,
    }


def case_fields(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The CallbackRequest fields of a concern (none for an ordinary call back)."""
    if not slots.get(CONCERN):
        return {}
    prison = slots.get(PRISON)
    return {
        "concern": True,
        "concern_prison_id": prison if prison and prison != UNKNOWN_PRISON else None,
        "concern_person_name": slots.get(NAME) or None,
        "concern_kind": slots.get(KIND) if slots.get(KIND) in CONCERN_KINDS else None,
        "concern_last_heard": slots.get(LAST_HEARD) or None,
    }


def value_before_latest_message(events: Iterable[Mapping[str, Any]], slot: str) -> Any:
    """A slot's value before the person's latest message (events as dicts, oldest first): a
    town named as the prison ('durham') must not become the caller's own area."""
    events = list(events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
        elif event.get("event") in ("restart", "session_started"):
            value = None
    return value
