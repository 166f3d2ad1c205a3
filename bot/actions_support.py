"""What every custom action stands on: it catches its own unexpected errors (`guarded`), and
sends replies worked out in bot/ (`send`).

Left to rasa-sdk, an exception in an action becomes a 500 whose body carries the exception's
text and the whole request, tracker included (names, numbers, messages), and Rasa writes that
body into its log. `@guarded` on an action class makes its `run` log only the action's name
and the exception's type, drop whatever the action had started to say, and send
`utter_action_failed` (sorry, try again, the helpline's number, 999) instead.
"""
from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Iterable, Mapping, TypeVar

logger = logging.getLogger(__name__)

FAILED_RESPONSE = "utter_action_failed"
GUARD_MARK = "__fc_guarded__"

A = TypeVar("A", bound=type)


def guarded(cls: A) -> A:
    """Class decorator for a rasa_sdk Action (FormValidationAction too): unexpected errors in
    `run` are caught, logged without personal data, and answered with utter_action_failed."""
    original = cls.run
    if getattr(original, GUARD_MARK, False):
        return cls

    @functools.wraps(original)
    async def run(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> list:
        try:
            result = original(self, dispatcher, tracker, domain)
            return await result if inspect.isawaitable(result) else result
        except Exception as error:  # noqa: BLE001 (that is the point: nothing escapes to rasa-sdk)
            logger.error("action %s failed: %s", self.name(), type(error).__name__)
            dispatcher.messages.clear()  # half an answer would mislead
            dispatcher.utter_message(response=FAILED_RESPONSE)
            return []

    setattr(run, GUARD_MARK, True)
    cls.run = run
    return cls


def is_guarded(cls: type) -> bool:
    """Whether an action class's `run` is wrapped by `guarded`."""
    return bool(getattr(cls.run, GUARD_MARK, False))


def send(dispatcher: Any, messages: Iterable[Mapping[str, Any]]) -> None:
    """Send each message: the keyword arguments of `dispatcher.utter_message` (a response name
    and its values), as bot/ works them out (e.g. bot.directory.replies)."""
    for message in messages:
        dispatcher.utter_message(**message)
