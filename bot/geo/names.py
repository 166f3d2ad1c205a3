"""Normalising place and prison names so that lookups ignore case, punctuation and filler words."""
from __future__ import annotations

import re

_APOSTROPHES = re.compile(r"[’'`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Words that say what kind of body a name belongs to, not which place it is.
_FILLER_PREFIXES = (
    "royal borough of ",
    "london borough of ",
    "borough council of ",
    "borough of ",
    "city and county of ",
    "county borough of ",
    "city of ",
    "county of ",
)
_FILLER_SUFFIXES = (
    " metropolitan borough council",
    " borough council",
    " district council",
    " county council",
    " city council",
    " council",
    " london boro",
    " metropolitan borough",
    " borough",
    " district",
    " county",
    " city of",
    " ua",
)


def normalise(text: str) -> str:
    """Lower-case, drop apostrophes, turn '&' into 'and' and any punctuation into single spaces."""
    text = _APOSTROPHES.sub("", text.lower()).replace("&", " and ")
    return _NON_WORD.sub(" ", text).strip()


def strip_filler(name: str) -> str:
    """Remove 'council', 'borough of', 'city of' and the like from a normalised name."""
    changed = True
    while changed:
        changed = False
        for prefix in _FILLER_PREFIXES:
            if name.startswith(prefix) and len(name) > len(prefix):
                name, changed = name[len(prefix):], True
        for suffix in _FILLER_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
    return name.strip()


_RIVER_SUFFIX = re.compile(r" (?:on|upon|under) [a-z]+(?: [a-z]+)?$")


_COMPASS = ("north ", "south ", "east ", "west ", "mid ", "central ", "greater ")


def short_forms(name: str) -> set[str]:
    """Shorter names people use.

    'stockton on tees' -> 'stockton'; 'kings lynn and west norfolk' -> 'kings lynn';
    'brighton and hove' -> 'brighton', 'hove'; 'blackburn with darwen' -> 'blackburn', 'darwen'.
    """
    forms = set()
    match = _RIVER_SUFFIX.search(name)
    if match and match.start() > 2:
        forms.add(name[: match.start()])
    for joiner in (" and ", " with "):
        if joiner in name:
            for part in name.split(joiner):
                part = part.strip()
                if len(part) >= 4 and not part.startswith(_COMPASS) and " " not in part.replace("kings lynn", "kingslynn"):
                    forms.add(part)
    return forms


# Place names that are also everyday English words or first names. They count as
# a place only when something around them says so ("in Reading", "Bath area").
AMBIGUOUS_WORDS = frozenset(
    {
        # councils
        "down", "bury", "hart", "eden", "reading", "bath", "wells", "rugby", "derby",
        "angus", "highland", "fife", "kent", "lincoln", "chester", "preston", "sutton",
        "stafford", "bolton", "arun", "richmond", "barking", "chelsea", "castle",
        # prisons
        "send", "ford", "mount", "the mount", "isis", "humber", "garth", "verne",
        "the verne", "parc", "usk", "bure", "new hall", "high down", "the weare", "walton",
    }
)

# Fragments of the source's comma-separated alt-names ("Bristol, City of") and bare
# compass words: never names on their own.
NEVER_ALIASES = frozenset(
    {"city of", "county of", "city", "county", "taff", "down", "north", "south", "east", "west", "central", "mid", "the"}
)

# Cue words that, next to an ambiguous word, mark it as a place.
PLACE_CUES_BEFORE = frozenset({"in", "near", "from", "around", "nr", "at", "live", "living", "round", "outside", "to"})
PLACE_CUES_AFTER = frozenset({"area", "council", "borough", "way", "district", "town", "city", "county", "side"})

# Words that mark a name as a prison: "HMP Durham", "Durham prison".
PRISON_CUES_BEFORE = frozenset({"hmp", "hmyoi", "yoi", "hmpyoi", "hmp yoi", "hmp and yoi", "hm prison"})
PRISON_CUES_AFTER = frozenset({"prison", "jail", "gaol", "nick", "yoi", "hmp", "stc", "prision", "prisson", "jial"})
# Cue words that say the young offender institution of a name the register also has a prison
# for ("HMYOI Feltham", "Parc YOI").
YOUTH_CUES = frozenset({"hmyoi", "yoi"})
