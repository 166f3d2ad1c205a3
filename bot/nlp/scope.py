"""Questions the assistant was not built for: the out-of-scope intent, the lookup tables that train
the out-of-scope check (bot.nlp.intents.LinearIntentModel), and the words of its own field.

The tables are written from CLINC150's everyday task-assistant queries by tools/clinc.py, which
also measures how the served model takes CLINC's validation queries (`make test-nlu`).
"""
from __future__ import annotations

import re

OUT_OF_SCOPE = "out_of_scope"
# The lookup tables (data/nlu/scope_clinc150.yml) the out-of-scope check is trained on: queries
# outside the field, and the small talk the assistant answers itself.
OUTSIDE, INSIDE = "scope_outside", "scope_inside"

# Words of this assistant's own field. A message that uses one is about the field, however the
# out-of-scope check scores it ("how do i change the date of my visit", "anywhere to get a brew
# outside the nick"): it goes to the classifier's intent, never to "not something I can help with".
_FIELD_WORDS = re.compile(
    r"\b(?:prison\w*|jail\w*|gaol|nick|hmp|yoi|inside|visit\w*|visitor\w*|sentenc\w*|court\w*|probation|licence|license|"
    r"remand\w*|custody|release\w*|cell|wing|officers?|screws|solicitor|barrister|police|arrest\w*|parole|tag|bail|"
    r"convict\w*|offence|crime|criminal|judge|jury|social worker|kinship|canteen|vo|id)\b"
)


def names_the_field(text: str) -> bool:
    """Whether the message uses a word of the assistant's own field (prison, visit, court...)."""
    return bool(_FIELD_WORDS.search((text or "").lower()))
