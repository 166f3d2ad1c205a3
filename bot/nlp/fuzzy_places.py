"""``fc_fuzzy_places``, the spaCy component of the place pipeline (bot.nlp.places) that finds close
misspellings of council and prison names ("stockon"). Importing this module registers its factory,
which a saved pipeline needs to load."""

from pathlib import Path
from typing import Iterable

import srsly
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.geo.names import AMBIGUOUS_WORDS

NAME_LABEL = "NAME"

if not Span.has_extension("fc_distance"):
    Span.set_extension("fc_distance", default=0)


def _fuzzy_limit(length: int) -> int:
    """How many edits a misspelling of a name this long may have."""
    if length < 5:
        return 0
    return 1 if length < 9 else 2


class FuzzyPlaces:
    """Adds NAME spans for n-grams within a small edit distance of a known name."""

    def __init__(self, name: str, max_ngram: int = 3) -> None:
        self.name = name
        self.max_ngram = max_ngram
        self.names: list[str] = []
        self.common_words: set[str] = set()

    def set_data(self, names: Iterable[str], common_words: Iterable[str]) -> None:
        self.names = sorted({n for n in names if _fuzzy_limit(len(n)) and n not in AMBIGUOUS_WORDS})
        self.common_words = set(common_words) | set(STOP_WORDS)

    def __call__(self, doc: Doc) -> Doc:
        if not self.names:
            return doc
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        candidates: list[Span] = []
        for n in range(self.max_ngram, 0, -1):
            for start in range(0, len(doc) - n + 1):
                end = start + n
                if any(i in taken for i in range(start, end)):
                    continue
                words = [t.text for t in doc[start:end]]
                if all(w in self.common_words or w.isdigit() for w in words):
                    continue
                if words[0] in STOP_WORDS or words[-1] in STOP_WORDS:
                    continue
                text = " ".join(words)
                limit = _fuzzy_limit(len(text))
                if not limit:
                    continue
                found = process.extract(
                    text, self.names, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
                )
                found = [(name, int(dist)) for name, dist, _ in found if dist and name[0] == text[0]]
                if not found:
                    continue
                best = min(dist for _, dist in found)
                # Several names can be equally close ("stockon": Stockton, Stocken); the
                # resolver chooses among them from the words around the span.
                span = Span(doc, start, end, label=NAME_LABEL, kb_id="|".join(sorted(n for n, d in found if d == best)))
                span._.fc_distance = best
                candidates.append(span)
        if candidates:
            doc.ents = filter_spans(list(doc.ents) + candidates)
        return doc

    def to_disk(self, path: Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "data.json", {"names": self.names, "common_words": sorted(self.common_words)})

    def from_disk(self, path: Path, exclude: Iterable[str] = ()) -> "FuzzyPlaces":
        data = srsly.read_json(Path(path) / "data.json")
        self.names = data["names"]
        self.common_words = set(data["common_words"])
        return self


@Language.factory("fc_fuzzy_places", default_config={"max_ngram": 3})
def make_fuzzy_places(nlp: Language, name: str, max_ngram: int) -> FuzzyPlaces:
    return FuzzyPlaces(name, max_ngram)
