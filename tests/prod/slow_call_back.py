"""Fault injection for tests/prod/test_faults.py, imported by the action server before the
actions (`Servers(actions_imports=...)`): a call back for SLOW_NAME is stored and then held for
HOLD_SECONDS before its transaction commits (once per conversation), so that the test can kill
the Rasa server waiting on the action while the case is being stored."""
import time

from bot.referrals import cases

SLOW_NAME = "Slow Sam"
HOLD_SECONDS = 8.0
_held: set[str] = set()
_create_callback = cases.create_callback


def _slow_create_callback(request: cases.CallbackRequest, *, session):  # type: ignore[no-untyped-def]
    result = _create_callback(request, session=session)
    if request.name == SLOW_NAME and request.sender_id not in _held:
        _held.add(request.sender_id)
        time.sleep(HOLD_SECONDS)
    return result


cases.create_callback = _slow_create_callback
