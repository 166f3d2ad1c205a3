"""What the referral form accepts, and the text it shows: phone numbers, yes/no, names,
best times, the summary of what the call is about, and the list to confirm.

Plain functions over strings (no Rasa here), so actions/referral.py stays thin glue.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from bot.dialogue.digression import OFFER_PREFIX, looks_like_question, words

# The UK, plus the Crown Dependencies that share +44 (phonenumbers calls some 07 ranges Guernsey/Jersey).
UK_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
# Numbers a person can be rung back on. Premium, shared-cost, freephone and "personal" 070
# numbers are services, not someone's phone.
CALLABLE_TYPES = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.UAN,
        PhoneNumberType.VOIP,
    }
)

# Why a number was refused: the validator picks the matching response.
NOT_A_NUMBER = "not_a_number"
NOT_UK = "not_uk"
INVALID = "invalid"
NOT_PERSONAL = "not_personal"


@dataclass(frozen=True)
class Phone:
    """A UK number a worker can call: E.164 to store, national format to show."""

    e164: str
    national: str


class PhoneError(ValueError):
    """The text is not a UK number we can call; `reason` is one of the constants above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _candidates(text: str) -> list[str]:
    """The number in `text`: a match found inside a sentence, else the text itself."""
    found = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)]
    return found or [text]


def parse_uk_phone(text: str) -> Phone:
    """Parse a UK phone number written as 07..., +44..., 0044..., with spaces, dashes or brackets."""
    text = (text or "").strip()
    if sum(c.isdigit() for c in text) < 3:
        raise PhoneError(NOT_A_NUMBER)
    for candidate in _candidates(text):
        try:
            number = phonenumbers.parse(candidate, "GB")
        except NumberParseException:
            continue
        if number.country_code != 44:
            raise PhoneError(NOT_UK)
        if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) not in UK_REGIONS:
            raise PhoneError(INVALID)
        if phonenumbers.number_type(number) not in CALLABLE_TYPES:
            raise PhoneError(NOT_PERSONAL)
        return Phone(
            e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
            national=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        )
    raise PhoneError(INVALID)


def national_format(e164: str) -> str:
    """How to show a stored number: 07512 345678."""
    return phonenumbers.format_number(phonenumbers.parse(e164, "GB"), PhoneNumberFormat.NATIONAL)


# --- yes / no ---------------------------------------------------------------------------

_words = words  # the same reading of words as the digression's (bot.dialogue.digression)


YES_WORDS = frozenset(
    "yes y ye yeh yea yeah yep yup yh ya ok okay k kk sure fine aye alright alrite correct go please pls plz "
    "definitely absolutely certainly agree agreed course".split()
)
NO_WORDS = frozenset("no n nah nope na naw not dont never nay cant cannot wont".split())
YES_PHRASES = frozenset({"go ahead", "thats fine", "that is fine", "thats ok", "that is ok", "i agree", "i do", "it is", "its fine", "its ok"})
UNSURE = ("not sure", "dunno", "dont know", "maybe", "depends", "unsure", "idk", "no idea", "perhaps")


def parse_yes_no(text: str) -> bool | None:
    """True for a yes ("yeah go on", "ok"), False for a no ("nah", "not really"), None if unclear."""
    stripped = (text or "").strip().lower()
    if stripped == "/affirm":
        return True
    if stripped == "/deny":
        return False
    words = _words(text)
    if not words:
        return None
    joined = " ".join(words)
    if any(re.search(rf"\b{u}\b", joined) for u in UNSURE):
        return None
    if words[0] in NO_WORDS or re.match(r"(i )?(do not|dont|would rather not|rather not|id rather not|would not|wouldnt|its not|it is not|its not)\b", joined):
        return False
    if words[0] in YES_WORDS or joined in YES_PHRASES:
        return None if len(words) > 1 and words[1] in NO_WORDS else True
    return None


# --- yes or no to an open question ---------------------------------------------------------

# Words that can sit around a bare yes or no without answering the question: "yes please",
# "ok i'd like to add something", "no that's all thanks", "nah im fine".
_YES_FILLER = frozenset(
    "yes please pls plz go on ahead then i id would like love to add type write say put a few some more word words "
    "something thing things bit do want wanna that it thanks thank you ta can could ill will sure".split()
)
_NO_FILLER = frozenset(
    "thanks thank you ta thats that its it is all im i am ok okay fine good alright really else nothing more need "
    "to add say just leave thx cheers no nope nah".split()
)
_NO_SIGNS = frozenset({"no", "nope", "nah", "na", "n", "naw", "nothing", "not", "none"})


def is_bare_yes(text: str) -> bool:
    """A yes and nothing more ("yes", "yeah go on", "ok I'd like to add something"): agreeing to
    an open question ("would you like to add a few words?", "what name?"), not answering it."""
    if (text or "").strip().lower() == "/affirm":
        return True
    words = _words(text)
    if not words or not all(w in YES_WORDS or w in _YES_FILLER for w in words):
        return False
    joined = " ".join(words)
    return any(w in YES_WORDS for w in words) or bool(re.match(r"i (?:would|d|do|want|wanna)\b", joined))


def is_bare_no(text: str) -> bool:
    """A no and nothing more ("no", "no that's all thanks", "nah im fine", "not really")."""
    if is_skip(text):
        return True
    words = _words(text)
    if not words or not all(w in NO_WORDS or w in _NO_FILLER for w in words):
        return False
    joined = " ".join(words)
    return any(w in _NO_SIGNS for w in words) or joined in ("thats it", "thats all", "thats all thanks", "thats it thanks")


# --- name, best time, note ----------------------------------------------------------------

SKIP_WORDS = frozenset("skip no none nope nah n na pass nothing anon anonymous".split())
_SKIP_FILLER = frozenset("thanks thank you ta i id would to say prefer not rather please just leave it blank dont want give".split())
MAX_NAME = 40


def is_skip(text: str) -> bool:
    """'skip', 'no', 'rather not say', 'no thanks'."""
    if (text or "").strip().lower() == "/deny":
        return True
    words = _words(text)
    joined = " ".join(words)
    if not words or not all(w in SKIP_WORDS | _SKIP_FILLER for w in words):
        return False
    return any(w in SKIP_WORDS for w in words) or "rather not" in joined or "prefer not" in joined or "dont want" in joined


def parse_name(text: str) -> str | None:
    """The name to use: "" when they'd rather not say, None when it doesn't look like a name
    (a bare "yes" is not a name: is_bare_yes)."""
    if is_bare_no(text):
        return ""
    if is_bare_yes(text):
        return None
    text = re.sub(r"^(?:(?:my name is|my names|my name's|i'm|im|i am|it's|its|call me|name is|name)\s+)", "", text.strip(), flags=re.I).strip(" .!")
    if not text or len(text) > MAX_NAME or any(c.isdigit() for c in text) or len(text.split()) > 4 or "?" in text:
        return None
    if not re.fullmatch(r"[^\W\d_][\w'’\-. ]*", text):
        return None
    return text


BEST_TIMES = {"morning": "morning", "afternoon": "afternoon", "evening": "evening", "any time": "any time"}
_TIME_WORDS = {
    "morning": ("morning", "mornings", "am", "before 12", "before dinner"),
    "afternoon": ("afternoon", "afternoons", "after lunch", "pm"),
    "evening": ("evening", "evenings", "night", "tonight", "after work", "after tea"),
    "any time": ("any time", "anytime", "whenever", "any", "dont mind", "doesnt matter", "all day"),
}
MAX_TIME = 60


_TIME_FILLER = frozenset("pls please plz the in a best is its probably prob ideally any of fine good ok okay".split()) - {"any"}


def parse_best_time(text: str) -> str | None:
    """morning / afternoon / evening / any time, or their own words (up to 60 characters)."""
    if (text or "").strip().startswith("/"):
        return None
    words = " ".join(w for w in _words(text) if w not in _TIME_FILLER)
    if not words:
        return None
    for value, phrases in _TIME_WORDS.items():
        if words in phrases:
            return value
    cleaned = " ".join(text.split())
    return cleaned if len(cleaned) <= MAX_TIME else None


def best_time_words(best_time: str | None) -> str:
    """'in the morning', 'at any time', 'at the time you gave (after 6pm)'."""
    if best_time in ("morning", "afternoon", "evening"):
        return f"in the {best_time}"
    if best_time in (None, "", "any time"):
        return "when they can"
    return f"at the time you gave ({best_time})"


MAX_NOTE = 300


def parse_note(text: str) -> str | None:
    """A few words to add to the summary: "" for none, None when too long or a bare yes
    (they want to add words and have not typed them yet: is_bare_yes)."""
    words = _words(text)
    unsure = len(words) <= 4 and any(re.search(rf"\b{u}\b", " ".join(words)) for u in UNSURE)
    if is_bare_no(text) or unsure:
        return ""
    if is_bare_yes(text):
        return None
    if (text or "").strip().startswith("/"):
        return None
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return None
    return cleaned if len(cleaned) <= MAX_NOTE else None


# --- the summary ----------------------------------------------------------------------------

# Topic intents in plain words, as a worker would read them.
TOPIC_WORDS: Mapping[str, str] = {
    "ask_arrest": "an arrest",
    "ask_court": "court",
    "ask_sentence": "the sentence",
    "ask_find_prison": "finding which prison",
    "ask_legal_advice": "legal questions",
    "ask_visit_booking": "booking visits",
    "ask_visit_rules": "visit rules",
    "ask_visit_first": "a first visit",
    "ask_visit_children": "taking children to visit",
    "ask_visitors_centre": "the visitors' centre",
    "ask_visit_costs": "the cost of visits",
    "ask_keep_in_touch": "keeping in touch",
    "ask_send_money": "sending money",
    "ask_tell_children": "telling the children",
    "ask_child_feelings": "a child's feelings",
    "ask_bullying": "bullying",
    "ask_school": "school",
    "ask_kinship_care": "caring for the children",
    "ask_money": "money",
    "ask_housing": "housing",
    "ask_own_wellbeing": "how they are coping",
    "ask_release_prepare": "preparing for release",
    "ask_licence": "licence and probation",
    "ask_hdc": "tags and curfews",
    "ask_release_housing": "housing after release",
    "ask_release_adjusting": "life after release",
    "ask_info_sharing": "information sharing",
    "ask_hidden_sentence": "Hidden Sentence training",
    "ask_early_help": "early help",
    "ask_think_family": "Think Family",
    "ask_find_service": "finding local support",
    "ask_prison_info": "a prison's details",
    "ask_statistics": "figures about prisoners' families",
    "ask_send_property": "sending things in",
    "ask_prison_category": "prison categories and moves",
    "ask_incentives": "incentive levels",
    "ask_complaint": "a complaint",
    "ask_closed_visits": "closed visits or a visit ban",
    "ask_visit_childcare": "childcare on visit days",
    "ask_mother_baby": "pregnancy or a baby in prison",
    "ask_rotl": "day release",
    "ask_bad_news": "passing on bad news",
    "ask_death_in_custody": "a death in custody",
    "ask_remand_length": "how long remand lasts",
    "ask_parole": "parole",
    "ask_pre_sentence_report": "a pre-sentence report",
    "ask_youth_custody": "youth custody",
    "ask_tag_problem": "a problem with a tag",
    "ask_prisoner_tenancy": "their home while inside",
    "risk_self": "their own safety",
    "risk_child": "a child's safety",
    "risk_domestic_abuse": "their safety at home",
    "risk_prisoner": "someone's safety in prison",
    "express_distress": "feeling overwhelmed",
}
STAGE_WORDS = {
    "arrested": "just arrested", "court": "going through court", "remand": "on remand",
    "sentenced": "serving a sentence", "release_due": "due for release", "released": "recently released",
}
RELATIONSHIP_WORDS = {
    "partner": "partner", "parent": "parent", "grandparent": "grandparent", "child": "child",
    "sibling": "brother or sister", "other_family": "family member", "friend": "friend",
}


def topics_asked(intents: Iterable[str | None]) -> list[str]:
    """The topic intents asked about, first asked first, each once."""
    seen: list[str] = []
    for intent in intents:
        if intent in TOPIC_WORDS and intent not in seen:
            seen.append(intent)
    return seen


def main_topic(intents: Iterable[str | None]) -> str | None:
    """The topic asked about most (the earliest of equals): the case's anonymous topic."""
    asked = [i for i in intents if i in TOPIC_WORDS]
    if not asked:
        return None
    return max(topics_asked(asked), key=asked.count)


def build_summary(topics: Sequence[str], *, stage: str | None = None, relationship: str | None = None,
                  audience: str | None = None, note: str | None = None, limit: int = 200) -> str:
    """What the call is about, for the worker: "Asked about: visits, money. The person is on remand."."""
    parts = []
    if topics:
        words = [TOPIC_WORDS[t] for t in topics[:4]]
        parts.append("Asked about " + (", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]) + ".")
    if audience == "professional":
        parts.append("Asking as a professional.")
    elif relationship in RELATIONSHIP_WORDS:
        parts.append(f"Asking as their {RELATIONSHIP_WORDS[relationship]}.")
    if stage in STAGE_WORDS:
        parts.append(f"The person is {STAGE_WORDS[stage]}.")
    summary = " ".join(parts)
    if len(summary) > limit:
        summary = summary[: limit - 1].rstrip() + "…"
    if note:
        summary = (summary + " " if summary else "") + f"In their words: {note}"
    return summary


DETAILS_LIMIT = 200
SUMMARY_SHOWN_LIMIT = 160


def shown(text: str | None, limit: int) -> str:
    """A value shortened for a text message."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def details(*, name: str | None, phone: str, safe_to_call: bool, leave_message: bool, best_time: str | None,
            area: str | None, summary: str | None) -> str:
    """The list to confirm before sending: at most 200 characters (DETAILS_LIMIT)."""
    lines = [
        f"Name: {shown(name, 24) or 'not given'}",
        f"Phone: {national_format(phone)}",
        f"Safe to call: {'yes' if safe_to_call else 'no'}. Message OK: {'yes' if leave_message else 'no'}",
        f"Best time: {shown(best_time or 'any time', 24)}",
    ]
    if area:
        lines.append(f"Area: {shown(area, 24)}")
    lines.append(f"About: {shown(summary, 38) or 'not given'}")
    return "\n".join(lines)


# --- counting tries -------------------------------------------------------------------------

def reads_as_answer(slot: str, text: str, *, known_place: bool = False) -> bool:
    """Whether `text` reads as a plain answer to the form's question for `slot`, so that it is
    taken as the answer even when the classifier also sees a topic question in it
    ("Grace" to "what name?", "evenings", "Stockton"). A message that opens like a question
    is never a plain answer, except a phone number. `known_place`: the caller found a council
    in it (the area question)."""
    if slot == "referral_phone":
        return sum(c.isdigit() for c in text or "") >= 7
    if looks_like_question(text):
        return False
    if slot in ("referral_consent", "referral_safe_to_call", "referral_leave_message", "referral_confirmed"):
        return parse_yes_no(text) is not None
    if slot == "referral_name":
        return parse_name(text) is not None and len(_words(text)) <= 3
    if slot == "referral_best_time":
        return parse_best_time(text) in BEST_TIMES.values() or len(_words(text)) <= 4
    if slot == "area":
        return known_place and len(_words(text)) <= 4
    return True  # the note: whatever they want to say about it, unless it is a question


def attempts_at(events: Iterable[Mapping], slot: str) -> int:
    """How many messages the person has sent since the form started asking for `slot`.

    Counted from the conversation's events rather than kept in a slot, so running the
    validation twice in one turn (rasa#11595) cannot count one answer twice.
    """
    asking = None
    count = 0
    for event in events:
        kind = event.get("event")
        if kind == "action" and str(event.get("name", "")).startswith(OFFER_PREFIX):
            # A question was answered and the form offered to carry on: the question was not
            # an attempt, and neither is the reply to the offer ("carry on").
            count = -1
        elif kind == "slot" and event.get("name") == "requested_slot":
            if event.get("value") != asking:
                asking, count = event.get("value"), 0
        elif kind in ("restart", "session_started") or (kind == "active_loop" and event.get("name") is None):
            asking, count = None, 0
        elif kind == "user" and asking == slot:
            count += 1
    return count


def form_started_at(events: Sequence[Mapping], form: str = "referral_form") -> float | None:
    """Rasa's timestamp of the person's message that started the latest run of `form` (so
    that what they typed into it can be found again), or None if it never ran."""
    active = None
    last_user: float | None = None
    started: float | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            last_user = event.get("timestamp")
        elif kind == "active_loop":
            name = event.get("name")
            if name == form and active != form:
                started = last_user if last_user is not None else event.get("timestamp")
            active = name
        elif kind in ("restart", "session_started"):
            active = None
    return started
