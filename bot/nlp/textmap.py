"""Normalise a message for matching, keeping a map back to the original characters."""
from __future__ import annotations

from dataclasses import dataclass

_APOSTROPHES = frozenset("'’`")


@dataclass(frozen=True)
class MappedText:
    """Normalised text plus, for each of its characters, the index of the original character."""

    text: str
    origin: tuple[int, ...]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the normalised characters start..end."""
        return self.origin[start], self.origin[end - 1] + 1


def normalise_mapped(original: str) -> MappedText:
    """Same rules as bot.geo.names.normalise (lower case, no apostrophes, '&' -> 'and', punctuation -> one space)."""
    out: list[str] = []
    origin: list[int] = []

    def space(at: int) -> None:
        if out and out[-1] != " ":
            out.append(" ")
            origin.append(at)

    for i, ch in enumerate(original):
        if ch in _APOSTROPHES:
            continue
        if ch == "&":
            space(i)
            out.extend("and")
            origin.extend([i, i, i])
            space(i)
        elif ch.isascii() and ch.isalnum():
            out.append(ch.lower())
            origin.append(i)
        else:
            space(i)
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    return MappedText("".join(out), tuple(origin), original)
