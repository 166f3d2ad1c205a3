"""What the assistant remembers about the person asking, derived from a message's entities."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from bot.geo import gazetteer
from bot.nlp.profile import age_group

Entity = Mapping[str, Any]

# The most useful thing a message can tell us, first to last.
NOTED_PRIORITY = ("stage", "prison", "area", "audience", "child_age")
_NOTED_FROM = {
    "stage": {"stage"},
    "prison": {"prison"},
    "area": {"area"},
    "audience": {"audience", "profession", "relationship"},
    "child_age": {"child_age"},
}


def _values(entities: Iterable[Entity], name: str) -> list[str]:
    return [str(e["value"]) for e in entities if e.get("entity") == name and e.get("value") is not None]


def audience_from(entities: Iterable[Entity]) -> str | None:
    """family, young_person or professional, if the message says which."""
    entities = list(entities)
    said = _values(entities, "audience")
    if said:
        # "I'm 14" (young person) outranks a generic "family member".
        return "young_person" if "young_person" in said else said[0]
    if _values(entities, "profession"):
        return "professional"
    relationships = _values(entities, "relationship")
    if "child" in relationships:
        return "young_person"
    if relationships:
        return "family"
    return None


def child_age_group_from(entities: Iterable[Entity], asked_for_age: bool) -> str | None:
    """The age band of the children mentioned, 'mixed' for several bands.

    A bare number only counts as an age when we have just asked for one.
    """
    entities = list(entities)
    ages = _values(entities, "child_age")
    if not ages and asked_for_age:
        ages = _values(entities, "number")
    groups = {age_group(int(a)) for a in ages if a.isdigit()}
    if not groups:
        return None
    return groups.pop() if len(groups) == 1 else "mixed"


def last_noted_from(entities: Iterable[Entity]) -> str | None:
    """Which of the things we remember this message told us (the most useful one)."""
    present = {e.get("entity") for e in entities}
    for noted in NOTED_PRIORITY:
        if present & _NOTED_FROM[noted]:
            return noted
    return None


def prison_address(prison_name: str | None) -> str | None:
    """The register address of a prison named by its display name ('HMP Durham')."""
    if not prison_name:
        return None
    prison = gazetteer().find_prison(prison_name)
    return prison.address if prison and prison.address else None
