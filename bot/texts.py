"""The words people read that Python puts together, taken from domain.yml's responses.

Rasa sends most replies itself, by response name. Some texts are made outside a Rasa reply:
the channels' notices (over a limit, could not answer), SMS HELP and options, the directory's
contact and freshness lines, the call-back summary and the list to confirm. They are
responses in domain.yml too, and this module is the one way Python reads them:

- the domain is read once, on first use, and kept (`domain()`); a domain that cannot be read
  raises `DomainUnreadable`, so a process that needs it fails at start-up (`require`) rather
  than sending a number or a sentence written in Python;
- `text(name, channel, **values)` picks a response's variant as Rasa does (a variant for
  the channel first, a variant whose slot conditions hold before one without conditions) and
  fills its `{placeholders}` from `values`, then from the slots' initial values (the helpline's
  number and hours), with Rasa's own substitution. A placeholder with no value raises KeyError:
  a reply is never sent half filled.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

import yaml

from bot.settings import ROOT

DOMAIN_PATH = ROOT / "domain.yml"
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # rasa.core.nlg.interpolator's pattern
_ESCAPED = re.compile(r"({{|}})")


class DomainUnreadable(RuntimeError):
    """domain.yml is missing, is not YAML, or lacks its responses or slots."""


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """domain.yml (DOMAIN_PATH), parsed once."""
    path = DOMAIN_PATH
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DomainUnreadable(f"{path} cannot be read ({type(error).__name__})") from error
    if not isinstance(loaded, dict) or not isinstance(loaded.get("responses"), dict) or not isinstance(loaded.get("slots"), dict):
        raise DomainUnreadable(f"{path} has no responses or slots")
    return loaded


def slot_defaults() -> dict[str, Any]:
    """Each slot's initial value (None where it has none), as a new conversation has them."""
    return {name: (spec or {}).get("initial_value") for name, spec in domain()["slots"].items()}


def slot_default(name: str) -> str:
    """One slot's initial value as text; DomainUnreadable if the domain gives it none."""
    value = slot_defaults().get(name)
    if value is None:
        raise DomainUnreadable(f"domain.yml gives the slot {name!r} no initial value")
    return str(value)


def helpline_phone() -> str:
    """The Prisoners' Families Helpline's number: the `helpline_phone` slot."""
    return slot_default("helpline_phone")


def helpline_hours() -> str:
    """When the helpline answers: the `helpline_hours` slot."""
    return slot_default("helpline_hours")


def variants(name: str) -> list[dict[str, Any]]:
    """A response's variants as domain.yml writes them; KeyError if there is no such response."""
    found = domain()["responses"].get(name)
    if not found:
        raise KeyError(f"domain.yml has no response {name!r}")
    return found


def require(*names: str) -> None:
    """Read the domain now and check these responses and the helpline slots are in it: called
    when a process starts, so a missing domain or text stops it there."""
    missing = [name for name in names if not domain()["responses"].get(name)]
    if missing:
        raise DomainUnreadable(f"domain.yml lacks the responses {', '.join(missing)}")
    helpline_phone(), helpline_hours()


def _holds(variant: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether every slot condition of a variant holds (rasa's ResponseVariationFilter)."""
    for condition in variant.get("condition") or []:
        wanted, given = condition.get("value"), values.get(condition.get("name"))
        if isinstance(wanted, str) and isinstance(given, str):
            if wanted.casefold() != given.casefold():
                return False
        elif wanted != given:
            return False
    return True


def choose(name: str, channel: str | None = None, values: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The variant Rasa would choose from, for this channel and these slot values, in Rasa's order
    of preference: conditional for the channel, default for the channel, conditional for any
    channel, default for any channel. Of several equal ones the first (Rasa picks at random).
    None when no variant fits (only conditional variants, none holding)."""
    values = values or {}
    options = variants(name)
    conditional = [v for v in options if v.get("condition") and _holds(v, values)]
    default = [v for v in options if not v.get("condition")]
    for group, on_channel in ((conditional, True), (default, True), (conditional, False), (default, False)):
        fitting = [v for v in group if (v.get("channel") == channel if on_channel else v.get("channel") is None)]
        if fitting:
            return fitting[0]
    return None


def fill(template: str, values: Mapping[str, Any]) -> str:
    """`template` with each `{name}` replaced by values[name], as Rasa's interpolator does
    (`{{` and `}}` are literal braces; a value is never read as a template itself); KeyError
    for a placeholder with no value."""
    pieces = _ESCAPED.split(template)
    return "".join(
        piece[0] if piece in ("{{", "}}") else _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), piece)
        for piece in pieces
    )


def find(name: str, channel: str | None = None, **values: Any) -> str | None:
    """A response's text for `channel`, filled from `values` and the slots' initial values; None
    when none of its variants fits."""
    merged = {**slot_defaults(), **values}
    variant = choose(name, channel, merged)
    return fill(variant.get("text", ""), merged) if variant is not None else None


def text(name: str, channel: str | None = None, **values: Any) -> str:
    """A response's text for `channel`, filled from `values` and the slots' initial values."""
    found = find(name, channel, **values)
    if found is None:
        raise LookupError(f"no variant of {name!r} fits {sorted(values)}")
    return found
