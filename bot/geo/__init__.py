"""UK geography for the assistant: councils, postcode districts and prisons."""
from __future__ import annotations

from functools import lru_cache

from bot.geo.gazetteer import Gazetteer
from bot.geo.loader import load
from bot.geo.records import Council, PostcodeDistrict, Prison

__all__ = ["Council", "Gazetteer", "PostcodeDistrict", "Prison", "gazetteer"]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shared gazetteer, read on first use."""
    return load()
