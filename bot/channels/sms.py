"""Text-message manners: what a chat answer should look like on a basic phone.

Pure functions (their few words are domain.yml's `utter_sms_*` responses, read once through
bot/texts.py). The Twilio channel (bot/channels/twilio.py) uses them to
- turn buttons into numbered options ("Reply 1 for Yes or 2 for No") and a reply of "2"
  back into the second button's payload;
- replace curly quotes, dashes and the like by their GSM-7 equivalents, since a single
  character outside GSM-7 makes the whole message UCS-2 (70 characters a segment, not 160);
- split a long answer at sentence boundaries into at most three messages, never inside a
  word or a phone number;
- count segments the way the networks do (GSM-7 septets, extension characters counting
  two; UCS-2 UTF-16 units, emoji counting two; 153/67 per segment once concatenated);
- recognise the opt-out, opt-in and help keywords Twilio itself acts on, and answer HELP.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from bot import texts

# --- GSM-7 (3GPP TS 23.038) ---------------------------------------------------------------
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Written as ESC + character: two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets in one segment / in each part of a long message
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 units, likewise

# Typography that has a plain GSM-7 equivalent. Emoji have none and are kept: a message
# with one is simply sent as UCS-2.
_GSM7_EQUIVALENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-",
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    "\t": " ",
}
_GSM7_TABLE = str.maketrans(_GSM7_EQUIVALENTS)


def normalise(text: str) -> str:
    """`text` with curly quotes, dashes, ellipses and odd spaces made plain GSM-7."""
    return text.translate(_GSM7_TABLE)


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM-7 alphabet (with its extension table)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


@dataclass(frozen=True)
class Encoding:
    """How a text goes over the air: its alphabet, its length in units and its segments."""

    alphabet: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def encoding(text: str) -> Encoding:
    """The alphabet, length and number of segments (billed messages) for `text`."""
    if is_gsm7(text):
        alphabet, single, multi = "GSM-7", GSM7_SINGLE, GSM7_MULTI
        units = [2 if c in GSM7_EXTENSION else 1 for c in text]
    else:
        alphabet, single, multi = "UCS-2", UCS2_SINGLE, UCS2_MULTI
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    total = sum(units)
    if total <= single:
        return Encoding(alphabet, total, 1 if text else 0)
    # An escape pair or a surrogate pair is never split across segments.
    segments, used = 1, 0
    for unit in units:
        if used + unit > multi:
            segments, used = segments + 1, 0
        used += unit
    return Encoding(alphabet, total, segments)


def segments(text: str) -> int:
    """The number of SMS segments `text` is sent (and billed) as."""
    return encoding(text).segments


# --- splitting ---------------------------------------------------------------------------
PART_CHARS = 320  # aim: two GSM-7 segments a message
MAX_PARTS = 3

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "mr.", "mrs.", "ms.", "dr.", "st.", "no.", "approx.", "tel.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=\S)")
# A phone number or other digit groups separated by single spaces or hyphens ("0800 1111",
# "+44 7700 900123") stay together, with any punctuation stuck to their end.
_TOKEN = re.compile(r"\(?\+?\d+\)?(?:[ -]\d+)+\S*|\S+")


def _sentences(paragraph: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        candidate = paragraph[start:match.start()].rstrip()
        last_word = candidate.rsplit(None, 1)[-1].lower() if candidate.split() else ""
        if last_word in _ABBREVIATIONS:
            continue  # "e.g. Tuesday" is one sentence
        pieces.append(paragraph[start:match.end()].rstrip())
        start = match.end()
    pieces.append(paragraph[start:].rstrip())
    return [p for p in pieces if p]


def _words(sentence: str) -> list[str]:
    return _TOKEN.findall(sentence)


def _pieces(text: str) -> list[tuple[str, str]]:
    """(separator before, piece) for each sentence; paragraphs and lines keep their breaks."""
    out: list[tuple[str, str]] = []
    for p_index, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        for l_index, line in enumerate(paragraph.split("\n")):
            for s_index, sentence in enumerate(_sentences(line.strip())):
                if s_index:
                    sep = " "
                elif l_index:
                    sep = "\n"
                elif p_index:
                    sep = "\n\n"
                else:
                    sep = ""
                out.append((sep, sentence))
    return out


def _pack(pieces: Sequence[tuple[str, str]], limit: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for sep, piece in pieces:
        if len(piece) > limit:
            # One long sentence: carry on word by word (words and phone numbers never cut).
            words = _words(piece)
            first, rest = words[0], words[1:]
            pieces_of_sentence = [(sep, first)] + [(" ", w) for w in rest]
            for wsep, word in pieces_of_sentence:
                current = _add(parts, current, wsep, word, limit)
            continue
        current = _add(parts, current, sep, piece, limit)
    if current:
        parts.append(current)
    return parts


def _add(parts: list[str], current: str, sep: str, piece: str, limit: int) -> str:
    if not current:
        return piece
    if len(current) + len(sep) + len(piece) <= limit:
        return current + sep + piece
    parts.append(current)
    return piece


def split(text: str, limit: int = PART_CHARS, max_parts: int = MAX_PARTS) -> list[str]:
    """`text` as at most `max_parts` messages of about `limit` characters, cut between
    sentences (or, for one very long sentence, between words). When the text will not go in
    `max_parts` messages of `limit`, the messages grow rather than multiply."""
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    pieces = _pieces(text)
    while True:
        parts = _pack(pieces, limit)
        if len(parts) <= max_parts:
            return parts
        limit += 40


# --- buttons as numbered options -----------------------------------------------------------
INLINE_TITLE_CHARS = 24
# "Reply 1 for Yes or 2 for No.": one response for each number of options that fit in a line.
INLINE_OPTIONS = ("utter_sms_options_1", "utter_sms_options_2", "utter_sms_options_3")
OPTIONS_LIST = "utter_sms_options_list"  # "Reply with a number:" and one option a line


def _title(button: dict[str, Any]) -> str:
    return " ".join(str(button.get("title") or button.get("payload") or "").split())


def render_options(buttons: Sequence[dict[str, Any]]) -> str:
    """The buttons as numbered options: "Reply 1 for Yes or 2 for No." when short, else
    one option a line under "Reply with a number:"."""
    titles = [_title(b) for b in buttons]
    if not titles:
        return ""
    if len(titles) <= len(INLINE_OPTIONS) and all(len(t) <= INLINE_TITLE_CHARS for t in titles):
        return texts.text(INLINE_OPTIONS[len(titles) - 1], **{f"option_{i}": t for i, t in enumerate(titles, 1)})
    return texts.text(OPTIONS_LIST, options="\n".join(f"{i} {t}" for i, t in enumerate(titles, 1)))


def with_options(text: str, buttons: Sequence[dict[str, Any]]) -> str:
    """A message's text followed by its buttons as numbered options."""
    options = render_options(buttons)
    text = (text or "").strip()
    return f"{text}\n{options}" if text and options else text or options


_CHOICE = re.compile(r"^\s*(?:option\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def pick(text: str, payloads: Sequence[str]) -> str | None:
    """The payload for a reply of "1", "2"… to the latest options, or None if it is not one."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return payloads[number - 1] if 1 <= number <= len(payloads) else None


def payloads(buttons: Iterable[dict[str, Any]]) -> list[str]:
    """The payloads of buttons, in order (a button without one answers with its title)."""
    return [str(b.get("payload") or _title(b)) for b in buttons]


# --- keywords --------------------------------------------------------------------------------
# The single-word messages Twilio's default opt-out handling acts on (long codes, UK numbers
# included): it replies itself and blocks or unblocks the number, then passes the message on.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
OPT_IN_WHEN_STOPPED = frozenset({"YES"})  # Twilio re-subscribes on YES too; for us it is also "yes"
HELP_WORDS = frozenset({"HELP", "INFO"})


def keyword(text: str) -> str | None:
    """The message as an upper-case keyword if it is a single word ("Stop.", " help "), else None."""
    word = re.sub(r"[^\w]", "", text or "").upper()
    return word if word and len((text or "").split()) == 1 else None


HELP = "utter_sms_help"
TEXTS = (HELP, OPTIONS_LIST, *INLINE_OPTIONS)  # every response this module reads


def help_text(channel: str | None = None) -> str:
    """The reply to HELP: what this is, the free helpline and when it answers, and 999."""
    return texts.text(HELP, channel)
