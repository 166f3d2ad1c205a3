"""Whether a message clearly asks for a sensitive flow: deleting details, a call back, a live chat.

These flows act on a person's data or bring a worker in, so a guess is not enough. The
classifier's intent stands only when the message also names what is asked for: a word for
removing or not keeping (delete, wipe, forget, "don't keep") and a word for what we hold
(details, number, this chat, everything); a word for a phone call; a word for a person. "Delete
my to-do list", "call me Tom" or "please use whisper mode" name none of these, so they go to
the fallback ("could you put it another way?", with a button to talk to a person), which a wrong
guess can safely land on. Each flow still asks before it acts: deleting asks "are you sure",
a call back asks for consent.

Every training example of these intents must pass (tests/nlp/test_clear_request.py).
"""
from __future__ import annotations

import re
from typing import Optional

from bot.nlp.textmap import normalise_mapped

# Flows that act on a person's data or bring in a person.
SENSITIVE_INTENTS = frozenset({"delete_my_data", "request_callback", "ask_live_chat", "cancel_callback"})

# Removing: misspellings seen in the training data are kept ("deleat", "dlt").
_REMOVE = re.compile(
    r"\b(?:delete\w*|deleat\w*|del|dlt|remove\w*|erase\w*|wipe\w*|purge\w*|scrub\w*|destroy\w*|bin|clear|"
    r"rub (?:it |that |this )?out|get rid|forget|forgotten|gone)\b"
)
# What the assistant holds about a person.
_HELD = re.compile(
    r"\b(?:me|details|detales|data|info|information|number|name|messages?|chat|convo|conversation|history|records?|"
    r"stuff|trace|everything|all|lot|it|this|that|what i \w+|anything)\b"
)
# Not keeping, and the right to erasure by its names.
_NOT_KEPT = re.compile(
    r"\b(?:dont|do not|not|no|nothing|never|stop)\b(?:\s+\S+){0,6}?\s+(?:keep|keeping|kept|store|storing|stored|save|saving|saved|"
    r"hold|holding|held|existing|on (?:file|record|your records|ur records|your system|ur system))\b|"
    r"\b(?:right to be forgotten|right to erasure|gdpr|forget i (?:was|ever)|off (?:your|ur|the|whatever) (?:system|list|records?|file))\b|"
    r"\btake (?:my|me)\b(?:\s+\S+){0,6}?\s+off\b"
)
_CALL = re.compile(
    r"\b(?:call\w*|ring\w*|rang|rung|phon\w*|bell|buzz|telephon\w*|cal|cll|bk|fc reference|reference)\b"
)
# "Call me Tom from now on", "call me a taxi", "call Mark": a name or an errand, not a call back.
_NOT_A_CALL_BACK = re.compile(
    r"\bcall(?:ing)? me (?:by )?(?:a |an |my )?(?:different |new |other |real )?(?:name|nickname)\b|"
    r"\bcall(?:ing)? me [a-z]+ (?:from now on|from here on|instead of)\b|"
    r"\bcall (?:me )?(?:a |an )(?:taxi|cab|uber)\b|"
    r"^(?:please |pls |can you |could you )?(?:call|ring|phone|dial) (?:up )?(?!(?:me|us|back)\b)[a-z]+(?: now| please| pls)?$"
)
_PERSON = re.compile(
    r"\b(?:person|people|human|someone|somebody|some1|anyone|anybody|who|whoever|whoevers|worker|workers|staff|advis[oe]r|agent|"
    r"volunteer|team|real|live|member|operator|one to one|1 to 1|helpline|shift)\b"
)
_ONLY_REMOVING = re.compile(r"^(?:(?:please|pls|just|now|delete|del|dlt|wipe|erase|remove|it|all)\s*)+$")


def is_clear(intent: Optional[str], text: str) -> bool:
    """False when `intent` is a sensitive flow and `text` does not name what that flow does."""
    if not text or text.startswith("/"):
        return True  # a button names its intent itself
    clean = normalise_mapped(text).text
    if intent == "delete_my_data":
        return bool(
            (_REMOVE.search(clean) and _HELD.search(clean)) or _NOT_KEPT.search(clean) or _ONLY_REMOVING.match(clean)
        )
    if intent == "request_callback":
        return bool(_CALL.search(clean)) and not _NOT_A_CALL_BACK.search(clean)
    if intent == "cancel_callback":
        return bool(_CALL.search(clean) or re.search(r"\bcancel\w*\b", clean))
    if intent == "ask_live_chat":
        return bool(_PERSON.search(clean))
    return True
