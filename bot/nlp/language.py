"""Is a message in a language other than English? Rules only: no model and no download.

The assistant answers in English; a message in another language gets a short reply saying
so and pointing to the helpline (intent `other_language`). Two signals:
  1. letters of a non-Latin script (Arabic and Urdu, Gurmukhi, Devanagari, Cyrillic, Greek,
     Chinese, Tigrinya...) making up most of the message's letters;
  2. in Latin script, common function words of the languages most spoken by UK prisoners'
     families (Polish, Romanian, Lithuanian, Portuguese, Spanish, Albanian, Welsh, Urdu and
     Punjabi written in Latin letters, French, German, Turkish), outnumbering English words.
Words that are also English, English text-speak or common first names are left out of the
lists ("to", "na", "cu", "ai", "ola"), so an English message with a foreign name or place in
it ("my son Łukasz is in HMP Barlinnie") stays English.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS

# English words and text-speak that count against a message being foreign.
_ENGLISH = frozenset(STOP_WORDS) | frozenset(
    "u ur im ive id dont cant wont didnt doesnt isnt hes shes theyre thats whats pls plz thx ty wat wot hw "
    "wen wer y r n b4 gonna wanna gotta dunno coz cos cuz tho luv hun babe mum mam dad nan grandad son "
    "daughter kids kid child children partner husband wife boyfriend girlfriend brother sister prison jail "
    "visit visiting visits book booking money help please thanks thank hi hello hey ok okay yes yeah no "
    "how what when where why can could would should need want know get got go going court police letter "
    "phone call calls release licence probation".split()
)

# Function words and everyday words, per language, that are not English words, not English
# text-speak and not common first names. Accents are written; the unaccented spellings people
# type on an English keyboard are listed too.
STOPWORDS: dict[str, frozenset[str]] = {
    "polish": frozenset(
        "jest nie się sie że jak mój moj moja mojego mojej jestem czy gdzie kiedy dlaczego proszę prosze "
        "dziękuję dziekuje dzień dzien dobry syn syna synem mąż maz męża meza więzieniu wiezieniu więzienie "
        "wiezienie wizyta wizyty wizytę wizyte chcę chce który ktory która ktora albo tak też tez być byc "
        "został zostal pomoc pomocy mnie jego jej oni ale bardzo można mozna muszę musze mogę moge cześć "
        "czesc siedzi odwiedzić odwiedzic pieniądze pieniadze".split()
    ),
    "romanian": frozenset(
        "este sunt și în pentru care meu mea fiul fiului soțul sotul închisoare inchisoare închisoarea "
        "inchisoarea vizită vizita vizitez unde când cand vreau ajutor bună buna mulțumesc multumesc "
        "ziua că să fost poate acest această aceasta eu nu am cum pot trebuie bani frate tatăl tatal".split()
    ),
    "lithuanian": frozenset(
        "yra kaip kur kada mano sūnus sunus kalėjime kalejime kalėjimas kalejimas noriu labas ačiū aciu "
        "prašau prasau aš jis buvo kad tai čia cia vyras brolis laba diena galiu reikia pagalbos "
        "aplankyti pinigų pinigu".split()
    ),
    "portuguese": frozenset(
        "não nao como está estou meu minha filho marido prisão prisao visita onde quando obrigado obrigada "
        "olá bom preciso ajuda você voce ele isso uma que é posso dinheiro cadeia irmão irmao".split()
    ),
    "spanish": frozenset(
        "hola gracias como estas estás está estoy hijo mí esposo cárcel carcel prisión prision visita cómo dónde donde "
        "cuándo cuando quiero necesito ayuda por favor los las una pero muy tengo puedo buenos días "
        "señor señora que dinero hermano".split()
    ),
    "albanian": frozenset(
        "është eshte nuk jam djali djalin burri burrin burgu burg vizitë vizite kur faleminderit "
        "përshëndetje pershendetje mirë mire dita unë une ajo dhe për në të një nje ndihmë ndihme mund "
        "shumë shume vëllai vellai para".split()
    ),
    "welsh": frozenset(
        "ydw ydy dw fy mab gŵr gwr carchar ymweld sut ble pryd diolch shwmae croeso rwy rydw eisiau isio "
        "gyda ond hefyd cymorth ei wedi gallu mewn bore da iawn".split()
    ),
    "urdu_punjabi": frozenset(
        "mera meri mere beta bhai mein hai hain kya kaise kaisay kahan kab nahi nahin aap mujhe mujhay "
        "karna karo aur bhi tha thi raha rahi kuch sakta sakti chahiye chahta shukriya madad mulaqat "
        "milna bohat bahut mainu tusi tuhada kiven kithe vich munda karni shohar pata".split()
    ),
    "turkish": frozenset(
        "oğlum oglum hapiste hapishane hapishanede nasıl nasil ziyaret merhaba teşekkürler tesekkurler "
        "kocam benim yardım yardim için icin bir değil degil".split()
    ),
    "french": frozenset(
        "je suis mon fils mari est une bonjour merci avec dans pas voir aide comment prisonnier "
        "visiter où quand pourquoi".split()
    ),
    "german": frozenset(
        "ich bin mein meine sohn ist nicht und wie wo gefängnis gefaengnis besuch danke bitte kann "
        "habe der das eine besuchen".split()
    ),
}
# English words, abbreviations and first names that the lists above would otherwise catch.
_ALSO_ENGLISH = frozenset(
    "cum pot favor mon mari wo der bin tha beta cia jak ale jam dita mire care aide comment visiter merci "
    "para bore da".split()
)
# Everything in the lists that English also uses stays out ("do", "die", "me", "as"...).
STOPWORDS = {lang: words - _ENGLISH - _ALSO_ENGLISH for lang, words in STOPWORDS.items()}
# Words English speakers use in fun ("gracias!", "hola"): never enough alone in a short message.
_BORROWED = frozenset("hola gracias bonjour danke ciao salut".split())

# Scripts whose letters say at once that the message is not English.
_NON_LATIN = (
    "ARABIC", "CYRILLIC", "GREEK", "HEBREW", "DEVANAGARI", "GURMUKHI", "GUJARATI", "BENGALI", "TAMIL",
    "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "THAI", "LAO", "CJK", "HIRAGANA", "KATAKANA", "HANGUL",
    "ETHIOPIC", "GEORGIAN", "ARMENIAN", "KHMER", "MYANMAR", "TIBETAN",
)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_EMERGENCY = re.compile(r"(?<!\d)(?:999|112|911)(?!\d)")


@dataclass(frozen=True)
class Detected:
    """A message found to be in another language: which (best guess) and whether it asks for an emergency."""

    language: str
    emergency: bool


def _script(char: str) -> str | None:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return None
    for script in _NON_LATIN:
        if name.startswith(script):
            return script
    return None


def _non_latin_share(text: str) -> tuple[float, str | None]:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0, None
    scripts = [s for s in (_script(c) for c in letters) if s]
    if not scripts:
        return 0.0, None
    return len(scripts) / len(letters), max(set(scripts), key=scripts.count)


def detect(text: str) -> Detected | None:
    """The language of a message that is not in English, or None for English (or too little to tell)."""
    if not text or text.startswith("/"):
        return None
    emergency = bool(_EMERGENCY.search(text))
    share, script = _non_latin_share(text)
    letters = sum(c.isalpha() for c in text)
    if script and share >= 0.5 and letters >= 2:
        return Detected(script.lower(), emergency)

    words = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    if not words:
        return None
    english = sum(w in _ENGLISH for w in words)
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in STOPWORDS.items()}
    language, best = max(hits.items(), key=lambda item: item[1])
    # Accented words not in any list (names, or words we do not list) add weight to the best guess,
    # but never decide on their own.
    accented = sum(1 for w in words if not w.isascii() and not any(w in v for v in STOPWORDS.values()))
    score = best + accented if best else 0
    n = len(words)
    if n <= 3:
        # "dzień dobry", "diolch", "olá": every word foreign, at least one from a list and not borrowed.
        decisive = sum(1 for w in words if w not in _BORROWED and w in STOPWORDS[language])
        return Detected(language, emergency) if decisive and english == 0 and score >= n else None
    if best >= 2 and score > english and score >= 0.3 * n:
        return Detected(language, emergency)
    return None
