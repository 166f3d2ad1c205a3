"""The call-back form's area question: an answer read as a council, a place the worker can read,
or "I'd rather not say". The form's validation (actions/referral.py) only maps the result to
the `area` slot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.directory import areas
from bot.referrals import form

# A place we can't name is kept as typed, up to the length of a best time ("near the big retail park").
MAX_PLACE = form.MAX_TIME


@dataclass(frozen=True)
class AreaAnswer:
    """The `area` slot's new value, or `ask_again` (the answer is not a place: the form asks again)."""

    value: Any = None
    ask_again: bool = False


ASK_AGAIN = AreaAnswer(ask_again=True)


def knows_place(text: str) -> bool:
    """Whether `text` names a council we know (by name, town, postcode or a near spelling)."""
    return bool(text) and areas.find_council(text) is not None


def read_area(value: Any, *, asked: bool) -> AreaAnswer:
    """Read `value` as the `area` slot. `asked`: the form's question was the area (rather than
    a place the place finder noticed in passing, which is kept as it is when not a council).

    A council we know is kept by its current name ("stockton" -> "Stockton-on-Tees"); to the
    question, a plain no is "" (answered: they'd rather not say), a plain yes asks again, and a
    short place we don't know is kept tidied for the worker to read.
    """
    text = str(value or "")
    council = areas.find_council(text) if text else None
    if council is not None:
        return AreaAnswer(council.name)
    if not asked:
        return AreaAnswer(value)
    if form.is_bare_no(text):
        return AreaAnswer("")
    if form.is_bare_yes(text):
        return ASK_AGAIN  # "yes" is not a place
    cleaned = " ".join(text.split())
    if 0 < len(cleaned) <= MAX_PLACE and not cleaned.startswith("/"):
        return AreaAnswer(cleaned)
    return ASK_AGAIN
