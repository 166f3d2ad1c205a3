"""What the referral form accepts, and the text it shows: phone numbers, yes/no, names,
best times, the summary of what the call is about, and the list to confirm.

Plain functions over strings (no Rasa here), so actions/referral.py stays thin glue. The words
of the summary and the list are domain.yml's `utter_referral_*` responses (bot/texts.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from bot import texts
from bot.dialogue.digression import looks_like_question, words

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
    """'in the morning', 'when they can', 'at the time you gave (after 6pm)'."""
    return texts.text(BEST_TIME_WORDS, referral_best_time=best_time or None)


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

# The summary's words (domain.yml). A topic is an intent with a response TOPIC_PREFIX + intent:
# its words as a worker would read them ("ask_arrest": "an arrest").
TOPIC_PREFIX = "utter_referral_topic_"
SUMMARY_TOPIC = "utter_referral_summary_topic"
SUMMARY_TOPICS = "utter_referral_summary_topics"
SUMMARY_PROFESSIONAL = "utter_referral_summary_professional"
SUMMARY_RELATIONSHIP = "utter_referral_summary_relationship"  # a variant per `relationship` value
SUMMARY_STAGE = "utter_referral_summary_stage"  # a variant per `stage` value
SUMMARY_NOTE = "utter_referral_summary_note"
BEST_TIME_WORDS = "utter_referral_best_time_words"
DETAILS = "utter_referral_details"
NOT_GIVEN = "utter_referral_not_given"


def topic_intents() -> list[str]:
    """The intents a call back can be about: those the domain has summary words for."""
    return [name[len(TOPIC_PREFIX):] for name in texts.domain()["responses"] if name.startswith(TOPIC_PREFIX)]


def topic_words(intent: str) -> str:
    """A topic intent in plain words: 'booking visits'."""
    return texts.text(TOPIC_PREFIX + intent)


def topics_asked(intents: Iterable[str | None]) -> list[str]:
    """The topic intents asked about, first asked first, each once."""
    topics = set(topic_intents())
    seen: list[str] = []
    for intent in intents:
        if intent in topics and intent not in seen:
            seen.append(intent)
    return seen


def main_topic(intents: Iterable[str | None]) -> str | None:
    """The topic asked about most (the earliest of equals): the case's anonymous topic."""
    topics = set(topic_intents())
    asked = [i for i in intents if i in topics]
    if not asked:
        return None
    return max(topics_asked(asked), key=asked.count)


def _asked_about(topics: Sequence[str]) -> str:
    words = [topic_words(t) for t in topics[:4]]
    if len(words) == 1:
        return texts.text(SUMMARY_TOPIC, topic=words[0])
    return texts.text(SUMMARY_TOPICS, topics=", ".join(words[:-1]), last_topic=words[-1])


def build_summary(topics: Sequence[str], *, stage: str | None = None, relationship: str | None = None,
                  audience: str | None = None, note: str | None = None, limit: int = 200) -> str:
    """What the call is about, for the worker: "Asked about visits and money. The person is on remand."."""
    parts = [_asked_about(topics)] if topics else []
    if audience == "professional":
        parts.append(texts.text(SUMMARY_PROFESSIONAL))
    else:
        parts.append(texts.find(SUMMARY_RELATIONSHIP, relationship=relationship))  # None: not said
    parts.append(texts.find(SUMMARY_STAGE, stage=stage))
    summary = " ".join(part for part in parts if part)
    if len(summary) > limit:
        summary = summary[: limit - 1].rstrip() + "…"
    if note:
        summary = (summary + " " if summary else "") + texts.text(SUMMARY_NOTE, referral_note=note)
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
    not_given = texts.text(NOT_GIVEN)
    return texts.text(
        DETAILS,
        shown_name=shown(name, 24) or not_given,
        phone_display=national_format(phone),
        referral_safe_to_call="yes" if safe_to_call else "no",  # the slots' own values
        referral_leave_message="yes" if leave_message else "no",
        shown_best_time=shown(best_time or "any time", 24),
        area=area or None,  # the variant without an Area line is for no area
        shown_area=shown(area, 24),
        shown_summary=shown(summary, 38) or not_given,
    )


# --- an answer, or a question asked instead ------------------------------------------------

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

