"""Mentions a message takes back: "I'm not in Stockton any more, I'm in Leeds", "he's been moved
from Durham to Frankland", "I'm not a teacher, I'm his mum".

A negated mention is not a fact to keep. `STRONG` negation ("not", "no longer", "moved from",
"... any more") always drops it; `WEAK` ("was in", "used to live in") drops it only when the
message gives something in its place ("he was at Durham but they moved him to Holme House").
Offsets are into the original text, as the entity extractors report them.
"""
from __future__ import annotations

import re

from bot.nlp.textmap import normalise_mapped

STRONG = "strong"
WEAK = "weak"

# Where a clause ends: what comes after is a new statement ("not Stockton, Leeds").
_CLAUSE_BREAK = re.compile(r"[,.;:!?\n]|\b(?:but|now|actually|instead|its|it s)\b", re.I)
# Small words that can sit between the negation and the mention: "not in", "not a", "no longer living in".
_BETWEEN = r"(?:\s+(?:in|at|a|an|the|his|her|their|my|our|from|living|live|lives|based|on|there|any|longer|really|even|staying|being|held|kept|been|going|to|through|just|still|yet|doing|working|as|with|of|for))*"
_STRONG_BEFORE = re.compile(
    r"(?:\b(?:not|no longer|never|isnt|arent|wasnt|werent|aint|dont|doesnt|didnt|hasnt|havent|nt)"
    + _BETWEEN
    + r"|\b(?:moved|moving|move|transferred|transfer|shipped|ghosted|taken|away)\s+(?:from|out of)(?:\s+(?:the|hmp|prison))?"
    + r"|\bleft(?:\s+(?:the|hmp))?)\s*$"
)
_WEAK_BEFORE = re.compile(r"\b(?:was|were|used to (?:be|live|stay)|previously)" + _BETWEEN + r"\s*$")
_STRONG_AFTER = re.compile(r"^\s*(?:any ?more|no more|no longer|before|previously)\b")


def negation(text: str, start: int, end: int) -> str | None:
    """STRONG, WEAK or None: whether the words around text[start:end] take it back."""
    before = text[:start]
    cut = None
    for cut in _CLAUSE_BREAK.finditer(before):
        pass
    clause = before[cut.end():] if cut else before
    plain_before = normalise_mapped(clause).text
    after_text = text[end:]
    stop = _CLAUSE_BREAK.search(after_text)
    plain_after = normalise_mapped(after_text[: stop.start()] if stop else after_text).text
    if _STRONG_BEFORE.search(plain_before) or _STRONG_AFTER.match(plain_after):
        return STRONG
    if _WEAK_BEFORE.search(plain_before):
        return WEAK
    return None


# "he's been moved to Durham", "they've transferred him to Frankland": the place named is a prison.
_MOVED_TO = re.compile(
    r"(?:\b(?:he|she|they|hes|shes|theyve|theyre|has|have|was|were|got|been|is|are|being|getting)\s+(?:been\s+|being\s+|got\s+)?"
    r"(?:moved|transferred|shipped|ghosted|sent|taken)"
    r"|\b(?:moved|transferred|shipped|ghosted|sent|taken|moving|transferring)\s+(?:him|her|them|my \w+))"
    r"(?:\s+(?:over|up|down|back|now))?\s+to(?:\s+the)?\s*$"
)


def moved_to(text: str, start: int) -> bool:
    """Whether text[start:] is where someone in prison has been moved to."""
    return bool(_MOVED_TO.search(normalise_mapped(text[:start]).text))
