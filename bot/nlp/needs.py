"""What kind of help a message asks for, as a need in the directory's vocabulary (bot.directory.taxonomy).

One need per message: the most specific one named, in the order below ("grandparent
carers with kids" is kinship care, not children).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlp.textmap import normalise_mapped

_NEED_WORDS: list[tuple[str, str]] = [
    ("domestic_abuse", r"domestic (?:abuse|violence)|abusive|abuse|controlling|refuge"),
    ("kinship_care", r"kinship|grand ?(?:parents?|ma|mas|mother|mothers|dad|dads|father|fathers|kids|children|son|daughter)|nans?|nana|nanna|grans?|granny|grandad|guardianship|sgo|looking after (?:my |the |their )?(?:grand)?(?:kids|children|nieces?|nephews?)"),
    ("substance_misuse", r"drugs?|alcohol|drink(?:ing)?|addiction|addicted|substance"),
    ("mental_health", r"mental health|depress(?:ed|ion)|anxiety|anxious|panic attacks?"),
    ("housing", r"housing|homeless(?:ness)?|accommodation|evict(?:ed|ion)?|tenancy|rent|landlord|somewhere to live|place to live"),
    ("money_benefits", r"money|benefits?|debts?|bills?|universal credit|financial|finances?|grants?|skint|broke|food ?bank"),
    ("school", r"schools?|teachers?|pupils?|class ?room"),
    ("visiting", r"visits?|visiting|visitors?|vo|visiting order|travel to (?:the )?prison"),
    ("release_resettlement", r"release[ds]?|coming out|comes out|getting out|gets out|resettlement|probation|after prison|on licence|tag(?:ged)?"),
    ("court_support", r"court|trial|magistrates|crown court|sentencing|remand"),
    ("legal_advice", r"solicitors?|legal|lawyers?|legal aid"),
    ("parenting", r"parenting|parent support|being a parent"),
    ("children_wellbeing", r"kids?|child(?:ren)?|teen(?:ager)?s?|young (?:people|person|carers?)|youth|little ones?|toddlers?|baby|babies"),
    ("emotional_support", r"someone to talk to|talk to someone|somewhere to talk|to talk|support groups?|groups?|counsell?ing|counsell?ors?|lonely|isolated|befriend(?:ing)?|emotional|peer support|drop ?in|meet other"),
    ("keeping_in_touch", r"keep(?:ing)? in touch|letters?|phone calls?|email a prisoner|stay(?:ing)? in contact"),
    ("professionals", r"training|hidden sentence|refer(?:ral)? pathway"),
    ("information_advice", r"advice|information|helpline|advisers?"),
]
_PATTERNS = [(need, re.compile(rf"\b(?:{words})\b")) for need, words in _NEED_WORDS]


@dataclass(frozen=True)
class NeedMatch:
    need: str
    start: int
    end: int


def find_need(text: str) -> NeedMatch | None:
    """The most specific need a message names, with where it names it."""
    mapped = normalise_mapped(text)
    for need, pattern in _PATTERNS:
        m = pattern.search(mapped.text)
        if m:
            start, end = mapped.span(m.start(), m.end())
            return NeedMatch(need, start, end)
    return None
