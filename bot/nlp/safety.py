"""A rule layer under the intent classifier: messages about risk of harm always reach the safety answers.

The classifier is trained on safety intents too; this catches what it misses, in
the order of urgency. A false alarm costs a message with helpline numbers; a miss
could cost far more, so the patterns lean towards catching.
"""
from __future__ import annotations

import re

from bot.nlp.textmap import normalise_mapped

# The safety intents, most urgent first (distress last), each with the responses the bot's safety
# rules (data/rules/safety.yml) answer it with; a test keeps this table equal to the rules. The
# one list every other module reads (the channels' crisis reply while a worker has the chat, the
# out-of-scope check, the dialogue policy).
SAFETY_RESPONSES = {
    "risk_self": ("utter_risk_self", "utter_safety_helpline"),
    "risk_child": ("utter_risk_child", "utter_safety_helpline"),
    "risk_domestic_abuse": ("utter_risk_domestic_abuse", "utter_safety_helpline"),
    "risk_prisoner": ("utter_risk_prisoner", "utter_risk_prisoner_2"),
    "express_distress": ("utter_express_distress",),
}
SAFETY_INTENTS = tuple(SAFETY_RESPONSES)

# Harm words whose subject decides who is at risk: "I want to end it" vs "he wants to end it".
_HARM = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? (?:my|him|her|them) ?sel(?:f|ves)|end(?:ing)? (?:it all|(?:my|his|her|their) life|it)\b|"
    r"take (?:my|his|her) (?:own )?life|(?:dont|do not|dnt|doesnt|does not) want to (?:be here|live|wake up|be alive|go on living|carry on(?! with\b))\b|"
    r"(?:want|wants|wanna|wish i could|going) to die|wish(?:es)? (?:i|he|she) (?:was|were) dead|better off (?:dead|without (?:me|him|her))|"
    r"self ?harm\w*|(?:cutting|cuts|cut|hurting|hurts|hurt|harming|harm|burn(?:ing)?) (?:my|him|her|them) ?sel(?:f|ves)|overdos\w*|"
    r"(?:take|taking) all (?:my|his|her) (?:pills|tablets)|no (?:point|reason) (?:in |to )?(?:living|go(?:ing)? on(?: living)?|being here)|"
    r"(?:cant|cannot) see the point (?:in|of) (?:living|going on|carrying on|being here|life)|"
    r"(?:cant|cannot) go on(?= anymore| any more| like this| living| in there|$)|"
    r"(?:wont|will not|not going to|dont think (?:i|ill|he|hell|she|shell)(?:ll| will)?) (?:make it|last) (?:through|til|till|until) (?:tonight|the night|the morning|tomorrow)|"
    r"giv(?:e|es|ing) (?:all )?(?:my|his|her) (?:things|stuff|belongings) away|"
    r"(?:tried|trying|try) to (?:hang|kill|hurt) (?:my|him|her) ?sel(?:f|ves)|"
    r"suicide watch|on an? acct)"
)
_FIRST_PERSON = re.compile(r"\b(?:i|im|ive|id|ill|me|my|myself)\b")
_THIRD_PERSON = re.compile(
    r"\b(?:he|she|hes|shes|him|her|his|they|theyre|them|their|himself|herself|"
    r"my (?:son|daughter|husband|partner|wife|boyfriend|girlfriend|dad|mum|mam|brother|sister|grandson|granddaughter|ex))\b"
)
_THIRD_PERSON_IN_HARM = re.compile(r"\b(?:him|her|them)sel(?:f|ves)|\b(?:his|her|their) (?:own )?life|suicide watch|acct\b|without (?:him|her)\b")
_HURT_INSIDE = re.compile(
    r"\b(?:beaten up|being beaten|getting beaten|attacked|being attacked|stabbed|bullied|threatened|assaulted|in danger|not safe)\b"
    r"(?P<gap>(?:\s+\S+){0,6}?)\s+(?:in there|inside|in prison|in jail|on the wing|in the nick|by other prisoners|by the other|by (?:the )?officers|by (?:the )?screws)\b"
)
_BECAUSE = re.compile(r"\b(?:cos|coz|cuz|because|since|as|about)\b")
# A child's question reported, not a worry about now: "my kids keep asking if daddy is in danger in prison".
_ASKING_IF = re.compile(r"\b(?:asking|asks|asked|ask|wants to know|want to know|wondering|wonders|curious) (?:me )?(?:if|whether)(?:\s+\S+){0,3}\s+$")
_CUSTODY = re.compile(r"\b(?:prison|jail|inside|in there|cell|wing|hmp|yoi|the nick|officers|screws|move him|moved him|move her|transfer(?:red)?|acct|suicide watch)\b")
# Whose safety it is: a child's (not an adult brother or sister in prison).
_ABOUT_CHILD = re.compile(r"\b(?:child|children|kid|kids|baby|babies|son|daughter|grandson|granddaughter|little one|little ones|toddler|nephew|niece|pupil)\b")
_CHILD_WORDS = (
    r"(?:child|children|kid|kids|baby|babies|son|daughter|grandson|granddaughter|grandchild|grandchildren|little one|little ones|toddler|"
    r"nephew|niece|stepson|stepdaughter|pupil|boy|girl|my sister|my brother|little sister|little brother|the boys|the girls|grandkids|brothers and sisters|my brothers|my sisters)"
)
# Someone else between the child and the danger is the one at risk ("my kids keep asking if daddy is in danger in prison").
_NOT_THE_CHILD = r"(?!(?:dad|daddy|dads|mum|mummy|mam|mom|father|mother|he|she|hes|shes|him|his|partner|husband|uncle|nan|grandad)\b)"
_CHILD_DANGER = re.compile(
    rf"\b{_CHILD_WORDS}\b(?:\s+{_NOT_THE_CHILD}\S+){{0,6}}?\s+(?:is |are |being |getting |been )?"
    r"(?:in danger|not safe|unsafe|being hurt|abused|beaten|home alone|alone in the house|left alone|left on (?:his|her|their) own|neglected)\b"
    rf"|\b{_CHILD_WORDS}\b(?:\s+\S+){{0,8}}?\s+(?:scared|afraid|frightened|terrified) (?:to go|of going) home\b"
    rf"|\b(?:hits|hit|hitting|beats|beating|hurts|hurting|abuses|abusing|touching|touched)\s+(?:the |my |our )?{_CHILD_WORDS}\b"
    rf"|\bno ?one (?:to|is) (?:look(?:ing)? after|pick(?:ing)? up|with) (?:the |my )?{_CHILD_WORDS}\b"
    rf"|\b{_CHILD_WORDS}\b(?:\s+\S+){{0,4}}?\s+(?:is |are |being |been |getting )?(?:exploited|groomed|used) (?:by|for) (?:a |the )?(?:gang|gangs|drug dealers|dealers|county lines|older men|older lads)\b"
)
# Who says "won't let me": services and rules are not an abuser.
_NOT_AN_AGENCY = (
    r"(?<!services )(?<!service )(?<!worker )(?<!probation )(?<!council )(?<!landlord )(?<!housing )(?<!prison )"
    r"(?<!police )(?<!school )(?<!court )(?<!judge )(?<!hostel )(?<!officer )(?<!rules )(?<!licence )"
)
# The asker is the one being hurt: "he hits me", "I'm scared of him", "controls my money".
_ABUSER = r"(?:he|she|they|hes|shes|him|partner|husband|boyfriend|girlfriend|wife|ex|fella|stepdad|stepmum|step dad|step mum|dad|mum|mam|brother|uncle|son)"
_DOMESTIC = re.compile(
    r"\b(?:domestic (?:abuse|violence)|"
    rf"{_ABUSER}\b(?:\s+\S+){{0,3}}?\s+(?:hits|hit|beats|beat|hurts|hurt|strangled|choked|kicked|punched|slapped|pushed|threatens|threatened|raped|forced) me\b(?! with (?:the|that|this|it|news|a bill|a letter))|"
    r"(?:im|i am|i m|i get|i feel) (?:so |really |too )?(?:scared|terrified|frightened|afraid) of (?:him|her|my (?:partner|husband|ex|boyfriend|wife|girlfriend))|"
    r"(?:controls|controlling) (?:me|my money|who i see|what i (?:eat|wear|spend|do))|"
    rf"{_ABUSER}\b(?:\s+\S+){{0,2}}?\s+(?:takes|took|keeps|steals) (?:all )?my (?:wages|money|benefits|bank card|pay)\b|"
    # "won't let me see" people, not his papers or the prisoner: "he wont let me see his sentence plan",
    # "my mum wont let me see my dad in prison" are ordinary questions.
    # Nor is an agency's rule about where he lives: "social services wont let me have him home because
    # of the kids" is a release-housing question (issue 13, item 7c).
    rf"{_NOT_AN_AGENCY}wont let me (?:see(?! (?:his|her|their)\b)(?!(?:\s+\S+){{0,3}}?\s+(?:in prison|in jail|inside|on a visit|at the prison))|leave|go out|"
    r"have(?! (?:him|her|them) (?:home|back|at|living|to live|stay|here|with)))|"
    r"(?:says|said|told me|keeps saying|texted|messaged) (?:that )?(?:he|she|they)(?:ll| will| is going to| would| gonna| is gonna) (?:kill|hurt|batter|beat|stab) me\b|"
    r"(?:im not|i am not|i m not|i dont feel|i do not feel|i never feel) safe (?:at home|in my (?:own )?(?:home|house))|"
    r"(?:threatening|threatens|threatened) (?:to (?:kill|hurt) )?me)"
)
# The asker's own partner ("my boyfriend"), not a parent's ("my mums boyfriend").
_PARTNER = re.compile(r"(?<!mums )(?<!mams )(?<!dads )\b(?:boyfriend|girlfriend|partner|husband|wife|fella|ex)\b")
_YOUNG_ASKER = re.compile(r"\b(?:im|i am|i m) (?:only )?(?:[89]|1[0-7]|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)\b|\bim (?:a kid|a child|in year)")
_DISTRESS = re.compile(
    r"\b(?:(?:cant|cannot|can not|cnt) cope|falling apart|breaking down|panic attacks?|at breaking point|"
    r"(?:cant|cannot) take (?:it|this|any ?more)|going to lose it|losing my mind|(?:its|it is|its just) all too much|"
    r"(?:cant|cannot) handle (?:it|this|any of (?:it|this))|(?:completely|totally|so) overwhelmed|"
    r"(?:at|reached) the end of my tether|(?:im|i am|i m) in (?:a|such a) (?:right|real|terrible|awful|bad|complete) (?:state|mess))\b"
)
_NEGATED = re.compile(r"\b(?:not|no|never|isnt|arent|wasnt)\s+$")


def _harm_subject(text: str, m: re.Match) -> str:
    """'self' or 'other': the nearest person word before the harm words decides."""
    if _THIRD_PERSON_IN_HARM.search(m.group(0)):
        return "other"
    if re.search(r"\b(?:my ?self|my (?:own )?life|take my|i )", m.group(0)):
        return "self"
    before = text[max(0, m.start() - 60) : m.start()]
    last_first = max((x.end() for x in _FIRST_PERSON.finditer(before)), default=-1)
    last_third = max((x.end() for x in _THIRD_PERSON.finditer(before)), default=-1)
    return "other" if last_third > last_first else "self"


def _hit(pattern: re.Pattern, text: str) -> bool:
    for m in pattern.finditer(text):
        if not _NEGATED.search(text[max(0, m.start() - 8) : m.start()]):
            return True
    return False


# Text-speak the patterns are not written for: "i wnt 2 die", "he sed hes gna hurt himself".
_TEXT_SPEAK = {
    "2": "to", "wnt": "want", "wana": "wanna", "gna": "going to", "gonna": "going to", "dnt": "dont", "cnt": "cant",
    "myslf": "myself", "himslf": "himself", "herslf": "herself", "sed": "said", "evry1": "everyone",
    "every1": "everyone", "no1": "no one",
}


def _plain(norm: str) -> str:
    return " ".join(_TEXT_SPEAK.get(w, w) for w in norm.split())


def safety_intent(text: str) -> str | None:
    """The most urgent safety intent a message calls for, if any."""
    norm = _plain(normalise_mapped(text).text)
    harm = [m for m in _HARM.finditer(norm) if not _NEGATED.search(norm[max(0, m.start() - 8) : m.start()])]
    if any(_harm_subject(norm, m) == "self" for m in harm):
        return "risk_self"
    if died_in_custody(norm):
        return DEATH_IN_CUSTODY
    if _hit(_CHILD_DANGER, norm):
        return "risk_child"
    if harm:
        about_child = bool(_ABOUT_CHILD.search(norm))
        return "risk_child" if about_child and not _CUSTODY.search(norm) else "risk_prisoner"
    if _hit(_DOMESTIC, norm):
        # A child hurt at home is a child-safety matter first; a young person hurt by a
        # boyfriend or girlfriend is in an abusive relationship.
        young = _YOUNG_ASKER.search(norm) and not _PARTNER.search(norm)
        return "risk_child" if young else "risk_domestic_abuse"
    for m in _HURT_INSIDE.finditer(norm):
        if not _BECAUSE.search(m.group("gap")) and not _ASKING_IF.search(norm[max(0, m.start() - 40) : m.start()]):
            return "risk_prisoner"
    if any(_harm_subject(norm, m) == "self" for m in _DISTRESS.finditer(norm)):
        return "express_distress"
    return None


# --- justice and hard times (issue 13): someone HAS died in custody ---
# "He took his own life in his cell" needs condolences, INQUEST and the Ombudsman, not
# "ring Safer Custody now"; "he says he wants to kill himself" still needs Safer Custody.
DEATH_IN_CUSTODY = "ask_death_in_custody"
_DIED = re.compile(
    r"\b(?:died|dies|dead|passed away|pased away|past away|been killed|was killed|got killed|"
    r"took (?:his|her|their) own life|taken (?:his|her|their) own life|"
    r"killed (?:him|her|them) ?sel(?:f|ves)|hanged (?:him|her|them) ?sel(?:f|ves)|hung (?:him|her|them) ?sel(?:f|ves)|"
    r"committed suicide|found hanging|death in (?:custody|prison|his cell|her cell)|deaths? in custody)\b"
)
# Words just before that make the death not (yet) real: "nearly died", "wants to be dead".
_NOT_YET = re.compile(
    r"\b(?:nearly|almost|could have|could of|couldve|might have|might of|tried to|trying to|attempted to|"
    r"going to|gonna|will|wants to|want to|wanna|wish(?:es)?(?: (?:he|she|i|they))?(?: was| were| had)?|"
    r"if (?:he|she|they)|scared (?:he|she)|afraid (?:he|she)|worried (?:he|she)|before (?:he|she)|"
    r"not|isnt|hasnt|never|be|end up|ends up|rather be|better off|im|i am|i m|youre|you are|ur|your|you|me|were)\s+(?:\S+\s+){0,1}$"
)
_IN_CUSTODY = re.compile(
    r"\b(?:prison|jail|gaol|inside|custody|cell|hmp|yoi|the nick|on remand|wing|segregation|seg|"
    r"prisons|prisoners?|cellmate|cell mate|suicide watch|acct|officers|the screws|secure (?:training centre|childrens home|unit)|police station)\b"
)
# The death is someone outside and the question is how to tell the person inside.
_NEWS_FOR_PRISONER = re.compile(
    r"\b(?:tell (?:him|her|them|my (?:son|husband|partner|brother|dad|daughter|boyfriend))|let (?:him|her|them) know|"
    r"news to (?:him|her|them)|break (?:the news|it) to|pass (?:on )?(?:the )?(?:news|message)|get a message to|"
    r"can (?:he|she|they) (?:go|come|attend|get out|be let out)|(?:he|she|they) (?:wants?|want|would like) to (?:go|come|attend)|"
    r"family member|in (?:the|their|his|her|our) family|let (?:him|her|them) (?:out|go)|allowed (?:out|to go|to attend)|day release|temporary release|rotl|"
    r"(?:he|she|they) (?:hears?|heard|finds? out|found out|knows?|is told|was told|gets told|got told|lost)|"
    r"(?:his|her|their) (?:mum|mam|mother|dad|father|nan|nana|gran|grandma|grandad|grandpa|grandfather|grandmother|"
    r"sister|brother|uncle|auntie|aunt|cousin|baby|wife|girlfriend|boyfriend|best mate|friend|mate)\s+(?:has |had |just )?(?:died|passed))\b"
)


# "died in his cell", "passed away last night in prison": the death happened inside.
_THERE = re.compile(
    r"^\s+(?:(?!and\b|but\b|so\b|while\b|whilst\b)\S+\s+){0,2}?"
    r"(?:in (?:prison|jail|gaol|custody|his cell|her cell|their cell|the cell|a cell|hmp|a yoi|the yoi|there|segregation|the seg)|inside|on the wing|on remand)\b"
)
# Someone alive inside: "my mum died and my brother is in prison" is news to pass on.
_ALIVE_INSIDE = re.compile(
    r"\b(?:is|s|hes|shes|are|theyre|currently|still)\s+(?:\S+\s+)?(?:in prison|in jail|inside|in custody|on remand|locked up|in hmp|in a yoi|serving)\b"
)


# Others' deaths told to show that the person inside is at risk now: that is risk_prisoner.
_STILL_AT_RISK = re.compile(
    r"\b(?:thinking (?:about|of) (?:it|doing|killing|ending|the same)|(?:hes|shes|he is|she is) thinking|do the same|"
    r"might do it|(?:says|said|keeps saying) (?:he|she)(?:ll| will| wants| might| would))\b"
)


def died_in_custody(norm: str) -> bool:
    """True when a normalised message says someone in prison or custody has died."""
    if not _IN_CUSTODY.search(norm) or _NEWS_FOR_PRISONER.search(norm) or _STILL_AT_RISK.search(norm):
        return False
    deaths = [m for m in _DIED.finditer(norm) if not _NOT_YET.search(norm[max(0, m.start() - 40) : m.start()])]
    if any(_THERE.search(norm[m.end() :]) for m in deaths):
        return True
    return bool(deaths) and not _ALIVE_INSIDE.search(norm)


def news_for_prisoner(text: str) -> bool:
    """True when a message about a death is news to pass on to someone alive inside, not a death in custody."""
    norm = normalise_mapped(text).text
    return bool(_DIED.search(norm)) and not died_in_custody(norm) and bool(_NEWS_FOR_PRISONER.search(norm) or _ALIVE_INSIDE.search(norm))


# Harm words in their everyday sense: the classifier can take "jump", "dead" or "kill" for a crisis,
# but here the words around them decide ("jump start my car", "my phone is dead", "kill the engine",
# "deaths from flu each year", "he hit the roof"). Used only when these rules found no crisis
# (SafetyNetClassifier): a message with a crisis phrase as well is still a crisis.
_EVERYDAY_SENSE = re.compile(
    r"\bjump (?:start\w*|lead\w*|off (?:my |the |a )?(?:\w+ )?(?:battery|car))|\bjumpstart\w*|"
    r"\bkill(?:ing)? (?:the (?:engine|lights?|music|noise|power)|time)\b|"
    r"\b(?:dead|flat) (?:car )?battery|\bbattery (?:is |s |has |went )?(?:dead|died|flat)|"
    r"\b(?:phone|car|laptop|tv|telly|battery|plant|plants) (?:is |s |has |just )?(?:dead|died)\b|"
    r"\b(?:deaths? (?:from|rate|rates|toll|statistics|stats)|(?:how many|number of) (?:people )?(?:die|died|deaths))\b|"
    r"\bfinished with (?:my|the) (?:to ?do|list|homework|work|shift|dinner|tea|book|essay)|"
    r"\bhit the roof\b|\bdriv(?:e|es|ing) me (?:mad|crazy|nuts|up the wall|round the bend|round the twist)\b|"
    r"\bdying (?:to|for) (?:see|know|go|get|hear|a)\b"
)


def everyday_sense(text: str) -> bool:
    """Whether a harm word in the message is used in its everyday sense (see _EVERYDAY_SENSE)."""
    return bool(_EVERYDAY_SENSE.search(_plain(normalise_mapped(text).text)))
