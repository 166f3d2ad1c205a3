"""What the assistant remembers about the person asking, derived from a message's entities."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from bot.geo import gazetteer
from bot.geo.pages import gov_uk_page
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


MAX_CHILD_AGE = 18


def child_age_group_from(entities: Iterable[Entity]) -> str | None:
    """The age band of the children mentioned, 'mixed' for several bands.

    A message that is only a number up to 18 ("6", "shes 6") is read as an age: the
    one question the assistant asks that is answered with a number is how old the
    children are, and on SMS and Telegram a number that picks an option is turned into
    that option's payload before it gets here.
    """
    entities = list(entities)
    ages = _values(entities, "child_age") or _values(entities, "number")
    groups = {age_group(int(a)) for a in ages if a.isdigit() and int(a) <= MAX_CHILD_AGE}
    if not groups:
        return None
    return groups.pop() if len(groups) == 1 else "mixed"


NOTHING_NOTED = "nothing"
# Facts a message can put right ("I'm not in Stockton any more, I'm in Leeds"): noted as "<fact>_changed".
CORRECTABLE = ("prison", "area", "audience")


def changed(noted: str) -> str:
    return f"{noted}_changed"


def last_noted_from(entities: Iterable[Entity]) -> str | None:
    """Which of the things we remember this message told us (the most useful one), if any."""
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


def prison_page(prison_name: str | None) -> str | None:
    """The GOV.UK page of a prison named by its display name (bot.geo.pages)."""
    prison = gazetteer().find_prison(prison_name) if prison_name else None
    return gov_uk_page(prison) if prison else None


# What "what do you know about me?" lists, in this order: each slot's part of the answer is the
# `utter_known_<slot>` response in domain.yml whose condition matches the slot's value.
KNOWN_SLOTS = ("audience", "area", "prison", "stage", "child_age_group")


def _variant_for(variants: Iterable[Mapping[str, Any]], slots: Mapping[str, Any]) -> str | None:
    """The text of the response variant whose slot conditions all hold (a conditional one first)."""
    variants = list(variants)
    for variant in sorted(variants, key=lambda v: not v.get("condition")):
        conditions = variant.get("condition") or []
        if all(c.get("type") == "slot" and slots.get(c.get("name")) == c.get("value") for c in conditions):
            return variant.get("text")
    return None


def known_facts(slots: Mapping[str, Any], responses: Mapping[str, Any], *, has_callback: bool = False) -> list[str]:
    """What the conversation holds about the person, in the domain's own words ("your area is Leeds")."""
    parts = []
    for slot in KNOWN_SLOTS:
        value = slots.get(slot)
        if value in (None, ""):
            continue
        text = _variant_for(responses.get(f"utter_known_{slot}") or [], slots)
        if text:
            parts.append(text.format(**{slot: value}))
    if has_callback:
        text = _variant_for(responses.get("utter_known_callback") or [], slots)
        if text:
            parts.append(text)
    return parts
