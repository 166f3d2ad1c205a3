"""Who is asking, where things are up to, and how old the children are, from plain word lists.

These are deliberately rules, not a trained model: the values feed answers and
statistics, so they must be predictable, and a wrong guess is worse than none.
All patterns run on normalised text (lower case, no apostrophes), so "he's" is "hes".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlp.negation import STRONG, negation
from bot.nlp.textmap import MappedText, normalise_mapped

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
}
_NUM = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _alts(words: str) -> str:
    return "(?:" + "|".join(w.strip() for w in words.split(",")) + ")"


# Relationship of the person asking to the person in the justice system.
_REL_WORDS = {
    "partner": _alts(
        "husband, hubby, hubbie, wife, wifey, partner, boyfriend, bf, girlfriend, gf, fiance, fiancee, "
        "missus, mrs, other half, fella, fellah, bloke, ex, ex partner, ex husband, ex wife, man, "
        "kids dad, kids mum, childrens dad, childrens mum, baby daddy, babys dad, babies dad, "
        "sons dad, daughters dad, sons father, daughters father, kids father"
    ),
    "parent": _alts("son, daughter, boy, lad, girl, youngest, eldest, oldest, stepson, stepdaughter, step son, step daughter"),
    "grandparent": _alts("grandson, granddaughter, grandchild, grandkid, grandsons, granddaughters"),
    "child": _alts("dad, daddy, father, mum, mam, mom, mother, mummy, mammy, stepdad, step dad, stepmum, step mum"),
    "sibling": _alts("brother, bro, sister, sis, half brother, half sister, stepbrother, stepsister"),
    "other_family": _alts("uncle, aunt, auntie, aunty, cousin, nephew, niece"),
    "friend": _alts("friend, mate, best friend, bestie, pal"),
}
# "I'm his mum" says the same as "my son".
_SELF_WORDS = {
    "partner": _alts("wife, husband, partner, girlfriend, boyfriend, missus, fiancee, fiance, ex"),
    "parent": _alts("mum, mam, mom, mother, dad, father, stepmum, stepdad"),
    "grandparent": _alts("nan, nana, nanna, gran, granny, grandma, grandmother, grandad, grandpa, grandfather"),
    "child": _alts("son, daughter, kid, child"),
    "sibling": _alts("sister, brother"),
    "other_family": _alts("aunt, auntie, aunty, uncle, cousin, niece, nephew"),
    "friend": _alts("friend, mate"),
}
# Words that tie a "my X" to the justice system ("my dad is inside"), so that
# "my mum is looking after the kids" does not make the asker a child of a prisoner.
_CUSTODY = (
    r"(?:prison|prision|jail|inside|locked up|banged up|arrested|arested|nicked|remand|remanded|sentenced|"
    r"sent down|court|custody|police|went away|gone away|got \d+|serving|doing time|hmp|yoi|released|"
    r"getting out|coming out|coming home|due out|tag|probation|licence|license|recalled|charged|bail|"
    r"trial|the nick|behind bars|cell|lifted|sentence|visit|visiting)"
)
_WINDOW = r"(?:\s+\S+){0,8}?\s+"

_RELATIONSHIP_PATTERNS = [
    (rel, re.compile(rf"\b(?:my|me|our|ma)\s+{words}s?\b(?={_WINDOW}{_CUSTODY}\b)"))
    for rel, words in _REL_WORDS.items()
] + [
    # "the kids dad got sent down": the other parent of the asker's children.
    ("partner", re.compile(rf"\bthe\s+(?:kids|childrens|babys|babies|boys|girls)\s+(?:dad|father|mum|mam|mother)\b(?={_WINDOW}{_CUSTODY}\b)")),
] + [
    (rel, re.compile(rf"\b(?:im|i am|i m|am)\s+(?:his|her|their|the)\s+{words}\b"))
    for rel, words in _SELF_WORDS.items()
]
# A short message that is only "my husband" or "his nan" answers "who are you?".
_SHORT_RELATIONSHIP = [
    (rel, re.compile(rf"^(?:(?:its|it is)\s+)?(?:my|me|ma)\s+{words}s?$")) for rel, words in _REL_WORDS.items()
] + [
    (rel, re.compile(rf"^(?:(?:im|i am)\s+)?(?:his|her|their|the)\s+{words}$")) for rel, words in _SELF_WORDS.items()
]

_ROLES = {
    "teacher": _alts(
        "teacher, head teacher, headteacher, deputy head, head of year, dsl, designated safeguarding lead, "
        "senco, teaching assistant, ta, learning mentor, pastoral lead, pastoral worker, pastoral manager, "
        "school counsellor, form tutor, nursery worker, nursery manager, early years practitioner, school staff"
    ),
    "social_worker": _alts("social worker, sw, childrens social worker, child protection social worker"),
    "probation": _alts("probation officer, probation worker, offender manager, probation practitioner"),
    "health": _alts("health visitor, school nurse, gp, doctor, nurse, midwife, camhs worker, mental health nurse"),
    "police": _alts("police officer, pcso, detective, officer"),
    "early_help": _alts("early help worker, family support worker, support worker, key worker, family worker, children centre worker"),
    "youth_worker": _alts("youth worker, yot worker, youth justice worker, mentor"),
    "other_professional": _alts("professional, practitioner, case worker, caseworker, housing officer, counsellor, foster carer"),
}
_ROLE_PATTERNS = [
    (role, re.compile(rf"\b(?:im|i am|i m|as|am|being)\s+(?:a|an|the|his|her|their)?\s*{words}\b")) for role, words in _ROLES.items()
] + [
    (role, re.compile(rf"\b{words}\s+here\b")) for role, words in _ROLES.items()
] + [
    (role, re.compile(rf"^(?:a|an)?\s*{words}$")) for role, words in _ROLES.items()
] + [
    ("teacher", re.compile(r"\b(?:i work (?:in|at) (?:a |the |our )?(?:school|primary|secondary|academy|nursery)|my (?:class|pupils?|students?)|a pupil|our pupils?|in my class)\b")),
    ("other_professional", re.compile(r"\b(?:my (?:client|caseload|service user)|on my caseload|a family i work with|families i work with|i work with (?:a )?famil(?:y|ies))\b")),
]
_NOT_A_ROLE = re.compile(
    rf"\b(?:im|i am|i m|am)\s+(?:not|no longer)\s+(?:a|an|the|his|her|their)?\s*(?:{'|'.join(_ROLES.values())})\b"
)

_STAGES = [
    # Furthest along wins when a message mentions several.
    ("released", re.compile(r"\b(?:just (?:got|been|come) (?:out|released|home)|was released|been released|got out|came out|is out now|recalled|released on)\b")),
    ("release_due", re.compile(r"\b(?:getting out|coming out|due out|release date|being released|gets released|will be released|coming home|comes home|out soon|parole hearing|due for release|release is|hdc|home detention)\b")),
    # "on licence" / "on tag" describe someone already out, unless the message is about a release to come.
    ("released", re.compile(r"\b(?:(?:out )?on licence|on license|on (?:a )?tag)\b")),
    ("sentenced", re.compile(rf"\b(?:sentenced|got sent down|sent down|got {_NUM} (?:year|yr|month|week)s?|convicted|found guilty|serving|doing {_NUM} (?:year|yr|month)s?|life sentence|ipp)\b")),
    ("remand", re.compile(r"\b(?:on remand|remanded|remand|held until (?:his |her |the )?trial|awaiting trial (?:in|inside))\b")),
    ("court", re.compile(r"\b(?:on bail|bailed|court (?:date|case|hearing)|in court|up in court|goes to court|going to court|trial|magistrates|crown court|plead|pleaded|charged)\b")),
    ("arrested", re.compile(r"\b(?:arrested|arested|arrest|got nicked|been nicked|got lifted|been lifted|picked up by (?:the )?police|taken in|police station|in the cells|in a cell|police took|police came|held by (?:the )?police)\b")),
]
_SHORT_STAGE = {
    "arrested": re.compile(r"^(?:hes |shes |just |been |got |theyve been )?(?:arrested|nicked|at the police station)$"),
    "remand": re.compile(r"^(?:hes |shes |on )?remand(?:ed)?$"),
    "court": re.compile(r"^(?:hes |shes )?(?:on bail|bail|court|at court|going to court)$"),
    "sentenced": re.compile(r"^(?:hes |shes |been )?(?:sentenced|sent down|serving)$"),
    "release_due": re.compile(r"^(?:hes |shes )?(?:getting out|coming out|due out|coming home)(?: soon)?$"),
    "released": re.compile(r"^(?:hes |shes )?(?:out|released|home now|out now|on licence|on tag)$"),
}

_CHILD_AGE = [
    re.compile(rf"\b{_NUM}\s*(?:year|yr|years|yrs|y)\s*(?:old|olds|o)\b"),
    re.compile(rf"\b{_NUM}\s*yo\b"),
    re.compile(rf"\b(?:aged|age|ages)\s+{_NUM}(?:\s+and\s+{_NUM})?\b"),
    re.compile(rf"\b(?:hes|shes|he is|she is|theyre|they are|kids are|children are|kids r|my kids)\s+{_NUM}(?:\s+and\s+{_NUM})?\b(?!\s*(?:years?|yrs?|months?|weeks?)\b(?!\s*old))"),
]
_AGE_WORDS = [
    (1, re.compile(r"\b(?:baby|babies|newborn|infant)\b")),
    (2, re.compile(r"\b(?:toddler|toddlers)\b")),
    (3, re.compile(r"\b(?:little ones?|preschool|pre school|nursery age|at nursery)\b")),
    (8, re.compile(r"\b(?:primary school|primary age|at primary|juniors)\b")),
    (13, re.compile(r"\b(?:secondary school|high school|at secondary)\b")),
    (14, re.compile(r"\b(?:teen|teens|teenager|teenagers|teenage|adolescent)\b")),
    (17, re.compile(r"\b(?:sixth form|college age)\b")),
]
_SCHOOL_YEAR = re.compile(r"\b(?:in )?(?:year|yr|y)\s?(\d{1,2})\b")
_BARE_NUMBER = re.compile(rf"^(?:about |around |shes |hes |she is |he is |age |aged )?{_NUM}$")

_YOUNG_SELF = [
    re.compile(rf"\b(?:im|i am|i m)\s+(?:only\s+)?{_NUM}(?:\s+(?:years?|yrs?)(?:\s+old)?)?\b(?!\s*(?:weeks?|months?)\b)"),
    re.compile(r"\b(?:im|i am|i m)\s+(?:in\s+)?(?:year|yr)\s?(?:[5-9]|1[0-3])\b"),
    re.compile(r"\b(?:im|i am|i m)\s+(?:a\s+)?(?:teenager|teen|kid|child|young person|student at school|at school)\b"),
    re.compile(r"^(?:a\s+)?young person$"),
]
_AUDIENCE_WORDS = [
    ("professional", re.compile(r"^(?:a\s+)?(?:professional|practitioner|i work with families|someone who works with (?:the )?famil(?:y|ies)|work)$")),
    ("professional", re.compile(r"\b(?:as a professional|im a professional|i am a professional|in a professional capacity)\b")),
    ("family", re.compile(r"^(?:a\s+)?(?:family|family member|parent|carer|relative|partner|im family|family or friend|friend)$")),
]


@dataclass(frozen=True)
class ProfileMatch:
    """A piece of profile information found in a message."""

    entity: str  # relationship, profession, audience, stage, child_age, number
    value: str
    start: int
    end: int


def _match(mapped: MappedText, entity: str, value: str, m: re.Match, group: int = 0) -> ProfileMatch:
    start, end = mapped.span(m.start(group), m.end(group))
    return ProfileMatch(entity, value, start, end)


def find_profile(text: str) -> list[ProfileMatch]:
    """Everything we can say about the asker and their situation from one message."""
    mapped = normalise_mapped(text)
    norm = mapped.text
    if not norm:
        return []
    found: list[ProfileMatch] = []

    # What the message takes back ("I'm not a teacher, I'm his mum", "not on remand any more")
    # is not kept; `corrected` records which fact it put right, when it gave another.
    taken_back: set[str] = set()

    def first(entity: str, candidates: list[tuple[str, re.Pattern[str]]], *, whole: bool = False, accept=None) -> bool:
        for value, pattern in candidates:
            for m in ([pattern.match(norm)] if whole else pattern.finditer(norm)):
                if m is None or (accept is not None and not accept(m)):
                    continue
                start, end = mapped.span(m.start(), m.end())
                if negation(text, start, end) == STRONG:
                    taken_back.add("audience" if entity in ("relationship", "profession", "audience") else entity)
                    continue
                found.append(ProfileMatch(entity, value, start, end))
                return True
        return False

    if _NOT_A_ROLE.search(norm):
        taken_back.add("audience")  # "I'm not a teacher": the role patterns never match it
    first("relationship", _SHORT_RELATIONSHIP + _RELATIONSHIP_PATTERNS)
    first("profession", _ROLE_PATTERNS)
    first("audience", _AUDIENCE_WORDS)
    first("audience", [("young_person", pattern) for pattern in _YOUNG_SELF],
          accept=lambda m: not m.groups() or m.group(1) is None or 8 <= _number(m.group(1)) <= 18)
    first("stage", list(_SHORT_STAGE.items()), whole=True) or first("stage", list(_STAGES))

    young_self = any(f.value == "young_person" for f in found)
    ages: dict[int, ProfileMatch] = {}
    for pattern in _CHILD_AGE:
        for m in pattern.finditer(norm):
            if young_self and re.match(r"(?:im|i am|i m)\b", norm[max(0, m.start() - 5) : m.start()].strip() or "x"):
                continue
            for group in range(1, (m.lastindex or 0) + 1):
                if m.group(group) and _number(m.group(group)) <= 18:
                    age = _number(m.group(group))
                    ages.setdefault(age, _match(mapped, "child_age", str(age), m, group))
    for age, pattern in _AGE_WORDS:
        m = pattern.search(norm)
        if m:
            ages.setdefault(age, _match(mapped, "child_age", str(age), m))
    if not young_self:
        for m in _SCHOOL_YEAR.finditer(norm):
            year = int(m.group(1))
            if 1 <= year <= 13:
                ages.setdefault(year + 5, _match(mapped, "child_age", str(year + 5), m))
    found.extend(ages.values())

    m = _BARE_NUMBER.match(norm)
    if m and not ages:
        found.append(_match(mapped, "number", str(_number(m.group(1))), m, 1))
    kept = {"audience" if f.entity in ("relationship", "profession", "audience") else f.entity for f in found}
    found.extend(ProfileMatch("corrected", fact, 0, len(text)) for fact in sorted(taken_back & kept))
    return found


def age_group(age: int) -> str:
    """The band our answers about telling children are written for."""
    if age < 5:
        return "under_5"
    if age < 12:
        return "5_to_11"
    return "12_plus"
