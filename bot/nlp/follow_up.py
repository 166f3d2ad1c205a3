"""Short follow-ups that only make sense after what was said before ("what about my daughter?",
"and money-wise?", "how far is it by bus?", "is there anyone nearby?").

This module reads the message alone: it says whether it is shaped like a follow-up and what
aspect (facet) it asks about. What it then means depends on the conversation so far, which
bot.dialogue.follow_up works out. A place on its own ("and in Sunderland?") is not a facet:
it is an answer (`inform`), and the directory rules search there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlp.textmap import normalise_mapped

CHILDREN = "children"
MONEY = "money"
TRAVEL = "travel"
TIMES = "times"
DURATION = "duration"
NEARBY = "nearby"
ME = "me"
FACETS = (CHILDREN, MONEY, TRAVEL, TIMES, DURATION, NEARBY, ME)

# Words for each facet, in the order they are tried. Matched on normalised text (lower case,
# apostrophes dropped, punctuation as spaces: bot.nlp.textmap).
_FACET_WORDS: list[tuple[str, str]] = [
    (NEARBY, r"near ?by|near me|near us|near here|nearest|locally|round here|around here|close by|close to (?:me|us|here)|in my area|round me"),
    (TRAVEL, r"bus(?:es)?|trains?|coach|taxi|parking|park|drive|driving|directions|get(?:ting)? there|get to (?:it|there|the prison)|how far|travel(?:ling)?|journey|sat ?nav|lift there"),
    (TIMES, r"when can (?:i|we|the kids|the children) (?:go|visit|see (?:him|her|them))|(?:visiting|visit|opening) (?:times|hours|days)|what (?:times?|days?) (?:can|do|are|is) (?:i|we|visits?|visiting)|when (?:is|are) (?:visiting|visits?)|how often can (?:i|we) (?:go|visit|see)"),
    (DURATION, r"how long (?:will|would|does|do|is|till|until|before)\b(?:\s\w+){0,5}?\s(?:serve|serving|do|get|be in|be inside|be away|stay in|be locked up|in for|be there|be out|actually serve|gets? out|comes? out|home|released)|how much of (?:his|her|their|the) sentence"),
    (CHILDREN, r"(?:grand|step ?)?(?:kids?|children|child|daughters?|sons?|little ones?|little 1|baby|babies|toddlers?|boys|girls|teenagers?|grandkids)"),
    (MONEY, r"money|money ?wise|costs?|costing|price|pay(?:ing)?|afford|fares?|expenses|benefits?|financially|finances|cash"),
    (ME, r"me|myself|for me|mine"),
]
_FACETS = [(facet, re.compile(rf"\b(?:{words})\b")) for facet, words in _FACET_WORDS]
# After an opener, a bare word can name the facet too: "and the times?", "what about local ones?"
_OPENER_ONLY = [(TIMES, re.compile(r"\b(?:times|days|hours|when)\b")), (NEARBY, re.compile(r"\blocal\b"))]
# Words that can sit beside the facet after an opener without asking something else:
# "what about my daughter, she's 6", "and for the kids too?". Anything else ("and can you call me")
# is a message of its own.
_FILLER = frozenset(
    "the a an my our his her their your its it is s she shes he hes they theyre them him me i im we us for with of "
    "then too also as well though instead again there this that those these one ones any anyone anybody "
    "someone somebody anything services service support help people groups group "
    "aged age years year yrs old yo little oldest youngest eldest wise".split()
)

# "what about ...", "how about ...", "and ...", "same for ...", "what if ...": the rest names the facet.
_OPENER = re.compile(
    r"^(?:(?:and|but|so|ok|okay|right|then)\s)?(?:(?:what|wot|wat|how|hw)\s(?:about|abt|bout)|and(?:\s(?:for|with))?|same (?:for|with)|what if)\s(?P<rest>.+)$"
)
# "money-wise?", "cost wise"
_WISE = re.compile(r"^(?:(?:and|so|ok)\s)?(?P<rest>\w+)\s?wise(?:\s(?:then|though))?$")
# A whole question that leans on what came before, by "it", "there", "he" or by leaving out what
# it is about: "how far is it by bus?", "when can I go?", "how long will he serve?", "is there
# anyone nearby?". Matched against the whole (short) message; a question that names its own
# destination or topic ("which bus goes to HMP Ranby", "support groups in my area") is left to
# the classifier.
_LEAD = r"^(?:(?:and|but|so|ok|okay|right|then|hi|hiya)\s)?"
_TAIL = r"(?:\s(?:then|please|pls|plz|though|from here|from me|from home))?$"
_UNDERSPECIFIED: list[tuple[str, re.Pattern[str]]] = [
    (TRAVEL, re.compile(
        _LEAD + r"(?:how (?:far|long) is it(?:\s(?:by|on the) (?:bus|train|car|coach))?|how far away is it|"
        r"how (?:do|can|would|should|will) (?:i|we|you|the kids) get (?:there|to it)(?:\s(?:by|on the) (?:bus|train|car|coach))?|"
        r"(?:is there|are there|any) (?:a |any )?(?:bus(?:es)?|trains?|coach)(?: there| that goes there| to it)?|"
        r"can (?:i|we) get (?:a|the) (?:bus|train|coach) there|where do (?:i|we) park)" + _TAIL
    )),
    (TIMES, re.compile(
        _LEAD + r"(?:when can (?:i|we|the kids|the children) (?:go|visit|see (?:him|her|them))|"
        r"what (?:times|days)|when (?:is|are) (?:visiting|visits|it open)|what times can (?:i|we) (?:go|visit))" + _TAIL
    )),
    (DURATION, re.compile(
        _LEAD + r"(?:how long (?:will|would|does|is|till|until|before) (?:he|she|they|him|her|my \w+)\b(?:\s\w+){0,3}?\s"
        r"(?:serve|serving|do|get|be in|be inside|be away|be locked up|in for|be there|be out|actually serve|gets? out|comes? out|home|released)|"
        r"how much of (?:his|her|their|the) sentence will (?:he|she|they) (?:serve|do))" + _TAIL
    )),
    (NEARBY, re.compile(
        _LEAD + r"(?:(?:is|are) there |who is there |who can help |any )?(?:any |some )?(?:any ?one|any ?body|some ?one|any ?thing|any ?where|"
        r"anyone who can help|help|support|services?|groups?|one|ones)\s(?:(?!else|more|other)\w+\s)?"
        r"(?:near ?by|near me|near us|near here|round here|around here|close by|close to (?:me|us|here)|in my area|locally|local)" + _TAIL
    )),
]
_OPENER_MAX_REST = 5
_QUESTION_MAX_WORDS = 9


@dataclass(frozen=True)
class FollowUp:
    """A message shaped like a follow-up, the facet it asks about, and where it names it."""

    facet: str
    start: int
    end: int


def _after_opener(plain: str, rest_at: int) -> tuple[str, int, int] | None:
    """The facet the words after an opener name, when nothing but filler sits beside it."""
    rest = plain[rest_at:]
    if len(rest.split()) > _OPENER_MAX_REST:
        return None
    hits = [(facet, m) for facet, pattern in _FACETS + _OPENER_ONLY for m in pattern.finditer(rest)]
    if not hits:
        return None
    leftover = list(rest)
    for _, m in hits:
        leftover[m.start():m.end()] = " " * (m.end() - m.start())
    if any(word not in _FILLER and not word.isdigit() for word in "".join(leftover).split()):
        return None
    facet, m = hits[0]
    return facet, rest_at + m.start(), rest_at + m.end()


def find_follow_up(text: str) -> FollowUp | None:
    """The facet a short follow-up asks about, or None when the message stands on its own."""
    if text.startswith("/"):
        return None
    mapped = normalise_mapped(text)
    plain = mapped.text
    if not plain:
        return None
    words = plain.split()
    found = None
    opener = _OPENER.match(plain) or _WISE.match(plain)
    if opener:
        found = _after_opener(plain, opener.start("rest"))
    if found is None and len(words) <= _QUESTION_MAX_WORDS:
        for facet, pattern in _UNDERSPECIFIED:
            if pattern.match(plain):
                found = facet, 0, len(plain)
                break
    if found is None:
        return None
    facet, start, end = found
    start, end = mapped.span(start, end)
    return FollowUp(facet, start, end)
