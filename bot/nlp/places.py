"""A spaCy pipeline that finds UK council areas, postcodes and prisons in a message.

Built from the reference data in bot/geo/data:
  1. an EntityRuler with every council name and alternative name, every postcode
     district and every prison name (matched on normalised text, so case and
     punctuation do not matter);
  2. ``fc_fuzzy_places`` (bot.nlp.fuzzy_places): close misspellings of the longer
     names ("stockon");
  3. ``fc_place_resolver``: decides from the words around a name whether it is a
     place, a prison or neither ("HMP Durham" vs "I live in Durham"; "reading" the
     town vs "reading a letter"), and labels the spans AREA or PRISON.

The pipeline runs on normalised text (see bot.nlp.textmap); PlaceFinder maps the
results back onto the user's own characters.
"""

from collections import Counter
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.geo import Gazetteer
from bot.geo.names import (
    AMBIGUOUS_WORDS,
    PLACE_CUES_AFTER,
    PLACE_CUES_BEFORE,
    PRISON_CUES_AFTER,
    PRISON_CUES_BEFORE,
    YOUTH_CUES,
    normalise,
)
from bot.nlp.fuzzy_places import NAME_LABEL, FuzzyPlaces
from bot.nlp.negation import STRONG, moved_to, negation
from bot.nlp.textmap import normalise_mapped

POSTCODE_LABEL = "POSTCODE"
AREA = "AREA"
PRISON = "PRISON"

# fc_distance (how many edits a fuzzy match took) is registered by bot.nlp.fuzzy_places.
if not Span.has_extension("fc_value"):
    Span.set_extension("fc_value", default=None)

_INWARD = re.compile(r"^[0-9][a-z]{2}$")
# One-letter, one-digit districts (M6, B4, L8) are also roads and text-speak ("b4" =
# before, "m8" = mate): only a full postcode or the word "postcode" makes them a place.
_SHORT_DISTRICT = re.compile(r"^[a-z][0-9]$")
_TEXT_SPEAK = frozenset({"ne1", "b4", "m8", "l8", "w8", "sk8", "cr8", "h8"})
_POSTCODE_CUES = frozenset({"postcode", "post", "code", "pc"})
_LIVING_CUES = frozenset({"live", "lives", "living", "from", "near", "nr", "moved"})


@dataclass(frozen=True)
class _Target:
    code: str
    value: str


class PlaceResolver:
    """Turns NAME and POSTCODE spans into AREA and PRISON spans, using the words around them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.councils: dict[str, list[str]] = {}  # alias -> [code, display name]
        self.prisons: dict[str, list[str]] = {}  # alias -> [id, display name]
        self.districts: dict[str, list[str]] = {}  # district -> [council code, council name]
        self.towns: set[str] = set()
        self.bare_prison_aliases: set[str] = set()  # local names such as "strangeways"
        # alias -> [id, display name] of the young offender institution where the register has
        # one beside a prison of the same name ("HMYOI Feltham" is not HMP Feltham)
        self.youth_prisons: dict[str, list[str]] = {}

    def set_data(self, gazetteer: Gazetteer) -> None:
        for alias in gazetteer.council_aliases:
            council = gazetteer.council_by_alias(alias)
            successors = gazetteer.successors(council)
            target = successors[0] if len(successors) == 1 else council
            self.councils[alias] = [target.code, target.name]
        for alias in gazetteer.prison_aliases:
            prison = gazetteer.prison_by_alias(alias)
            self.prisons[alias] = [prison.id, prison.display_name]
            youth = gazetteer.prison_by_alias(alias, youth=True)
            if youth.id != prison.id:
                self.youth_prisons[alias] = [youth.id, youth.display_name]
        for district in gazetteer.districts.values():
            if district.council_code:
                council = gazetteer.councils[district.council_code]
                self.districts[district.district.lower()] = [council.code, council.name]
        self.towns = set(gazetteer.town_names) - set(gazetteer.council_aliases)
        self.bare_prison_aliases = set(gazetteer.local_prison_names)

    # --- the words around a span ---------------------------------------------------
    @staticmethod
    def _before(doc: Doc, span: Span, n: int) -> str:
        return " ".join(t.text for t in doc[max(0, span.start - n) : span.start])

    def _prison_cue(self, doc: Doc, span: Span) -> tuple[int, int] | None:
        """Token range including the cue words, or None if no cue."""
        for n in (3, 2, 1):
            if span.start >= n and self._before(doc, span, n) in PRISON_CUES_BEFORE:
                return span.start - n, span.end
        if span.end < len(doc) and doc[span.end].text in PRISON_CUES_AFTER:
            return span.start, span.end + 1
        return None

    @staticmethod
    def _place_cue(doc: Doc, span: Span) -> bool:
        before = doc[span.start - 1].text if span.start > 0 else ""
        after = doc[span.end].text if span.end < len(doc) else ""
        return before in PLACE_CUES_BEFORE or after in PLACE_CUES_AFTER

    def _postcode(self, doc: Doc, span: Span) -> Span | None:
        district = span.text
        if district not in self.districts:
            return None
        end = span.end
        if end < len(doc) and _INWARD.match(doc[end].text):
            end += 1
        full = end > span.end
        before = doc[span.start - 1].text if span.start > 0 else ""
        if (_SHORT_DISTRICT.match(district) or district in _TEXT_SPEAK) and not full and before not in _POSTCODE_CUES:
            return None
        code, name = self.districts[district]
        out = Span(doc, span.start, end, label=AREA, kb_id=code)
        out._.fc_value = name
        return out

    def _bare_prison_ok(self, doc: Doc, span: Span, alias: str) -> bool:
        """A prison name with no 'HMP' or 'prison' next to it still means the prison when it is
        not also a council, a town or a common word, and the user is not saying they live there."""
        if alias in self.councils or alias in AMBIGUOUS_WORDS:
            return False
        if alias in self.towns and alias not in self.bare_prison_aliases:
            return False
        if moved_to(doc.text, span.start_char):
            return True  # "he's been moved to Frankland": where someone in prison was moved, not a home
        return not (set(t.text for t in doc[max(0, span.start - 2) : span.start]) & _LIVING_CUES)

    def _name(self, doc: Doc, span: Span) -> Span | None:
        aliases = (span.kb_id_ or span.text).split("|")
        prisons = [a for a in aliases if a in self.prisons]
        councils = [a for a in aliases if a in self.councils]
        prison_range = self._prison_cue(doc, span) if prisons else None
        bare_prisons = [a for a in prisons if self._bare_prison_ok(doc, span, a)]
        if prison_range:
            cues = {t.text for t in doc[prison_range[0] : prison_range[1]]} - {t.text for t in span}
            youth = self.youth_prisons.get(prisons[0]) if cues & YOUTH_CUES else None
            code, value = youth or self.prisons[prisons[0]]
            out = Span(doc, prison_range[0], prison_range[1], label=PRISON, kb_id=code)
        elif councils and (councils[0] not in AMBIGUOUS_WORDS or self._place_cue(doc, span)):
            code, value = self.councils[councils[0]]
            out = Span(doc, span.start, span.end, label=AREA, kb_id=code)
        elif bare_prisons:
            code, value = self.prisons[bare_prisons[0]]
            out = Span(doc, span.start, span.end, label=PRISON, kb_id=code)
        else:
            return None
        out._.fc_value = value
        out._.fc_distance = span._.fc_distance
        return out

    def __call__(self, doc: Doc) -> Doc:
        resolved = []
        for span in doc.ents:
            out = self._postcode(doc, span) if span.label_ == POSTCODE_LABEL else self._name(doc, span)
            if out is not None:
                resolved.append(out)
        doc.ents = filter_spans(resolved)
        return doc

    def to_disk(self, path: Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(
            path / "data.json",
            {
                "councils": self.councils,
                "prisons": self.prisons,
                "districts": self.districts,
                "towns": sorted(self.towns),
                "bare_prison_aliases": sorted(self.bare_prison_aliases),
                "youth_prisons": self.youth_prisons,
            },
        )

    def from_disk(self, path: Path, exclude: Iterable[str] = ()) -> "PlaceResolver":
        data = srsly.read_json(Path(path) / "data.json")
        self.councils, self.prisons, self.districts = data["councils"], data["prisons"], data["districts"]
        self.towns = set(data["towns"])
        self.bare_prison_aliases = set(data["bare_prison_aliases"])
        self.youth_prisons = data.get("youth_prisons", {})  # absent in models trained before it
        return self


@Language.factory("fc_place_resolver")
def make_place_resolver(nlp: Language, name: str) -> PlaceResolver:
    return PlaceResolver(name)


def build_pipeline(gazetteer: Gazetteer, common_words: Iterable[str] = ()) -> Language:
    """A blank English pipeline with the ruler, fuzzy matcher and resolver filled from the gazetteer.

    ``common_words`` are words that must never be read as a misspelt place (the
    assistant passes the vocabulary of its training examples).
    """
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    names = set(gazetteer.council_aliases) | set(gazetteer.prison_aliases)
    patterns = [{"label": NAME_LABEL, "pattern": name, "id": name} for name in sorted(names)]
    patterns += [
        {"label": POSTCODE_LABEL, "pattern": d.lower(), "id": d.lower()} for d in sorted(gazetteer.districts)
    ]
    ruler.add_patterns(patterns)
    place_words = {w for name in names for w in name.split()}
    fuzzy: FuzzyPlaces = nlp.add_pipe("fc_fuzzy_places")  # registered by bot.nlp.fuzzy_places
    fuzzy.set_data(names, {w for w in common_words if w not in place_words})
    resolver = nlp.add_pipe("fc_place_resolver")
    resolver.set_data(gazetteer)
    return nlp


@dataclass(frozen=True)
class PlaceMatch:
    """A place or prison found in a message, in the message's own character offsets."""

    kind: str  # AREA or PRISON
    start: int
    end: int
    text: str
    code: str
    value: str
    fuzzy: bool


class PlaceFinder:
    """Runs the place pipeline over a message and reports matches against the original text."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp

    def find(self, text: str) -> list[PlaceMatch]:
        mapped = normalise_mapped(text)
        if not mapped.text:
            return []
        doc = self.nlp(mapped.text)
        matches = []
        for ent in doc.ents:
            start, end = mapped.span(ent.start_char, ent.end_char)
            matches.append(
                PlaceMatch(
                    kind=ent.label_,
                    start=start,
                    end=end,
                    text=text[start:end],
                    code=ent.kb_id_,
                    value=ent._.fc_value,
                    fuzzy=bool(ent._.fc_distance),
                )
            )
        return matches


def nation_of(match: PlaceMatch, gazetteer: Gazetteer) -> str | None:
    """england, wales, scotland or northern_ireland: where a place is, or whose prison service runs a prison."""
    if match.kind == PRISON:
        return gazetteer.nation_of_prison(match.code)
    return gazetteer.nation_of_council(match.code)


def nation_from(matches: Iterable[PlaceMatch], gazetteer: Gazetteer) -> tuple[str, PlaceMatch] | None:
    """The nation a message's places point to, and the match it comes from.

    A prison decides it over a home town: someone in Carlisle whose son is in HMP Barlinnie
    deals with the Scottish Prison Service.
    """
    matches = list(matches)
    for kind in (PRISON, AREA):
        for match in matches:
            if match.kind == kind:
                nation = nation_of(match, gazetteer)
                if nation:
                    return nation, match
    return None


def kept_places(text: str, matches: Iterable[PlaceMatch], gazetteer: Gazetteer) -> tuple[list[PlaceMatch], set[str]]:
    """The places a message states, and the kinds (AREA, PRISON) it corrected.

    A place the message takes back ("not in Stockton any more", "moved from Durham") is dropped
    (bot.nlp.negation); so is one it only had before ("I used to live in Stockton") when another
    place follows. A town someone in prison was moved to is that town's prison ("he's been moved
    to Durham": HMP Durham). A kind counts as corrected when a place of that kind was taken back
    and another of the same kind is kept.
    """
    read: list[tuple[PlaceMatch, str | None]] = []
    for match in matches:
        if match.kind == AREA and moved_to(text, match.start):
            prison = gazetteer.find_prison(match.text)
            if prison is not None:
                match = PlaceMatch(PRISON, match.start, match.end, match.text, prison.id, prison.display_name, match.fuzzy)
        read.append((match, negation(text, match.start, match.end)))
    stated = [m for m, negated in read if negated is None]
    kept = [m for m, negated in read if negated is None or (negated != STRONG and not stated)]
    kept_kinds = {m.kind for m in kept}
    corrected = set()
    for m, negated in read:
        if negated is None or m in kept:
            continue
        if m.kind in kept_kinds:
            corrected.add(m.kind)
        elif m.kind == AREA and PRISON in kept_kinds and gazetteer.find_prison(m.text) is not None:
            corrected.add(PRISON)  # "he's been moved from Durham to Frankland"
    return kept, corrected


def words_of(texts: Iterable[str], min_count: int = 2) -> set[str]:
    """The normalised words used in at least `min_count` of some texts (for build_pipeline's
    common_words). A word used once may be a typo the data means to teach ("stockon")."""
    counts = Counter(w for t in texts for w in set(normalise(t).split()))
    return {w for w, n in counts.items() if n >= min_count}
