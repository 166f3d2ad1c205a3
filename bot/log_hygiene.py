"""A backstop against people in logs: every log record of the process is redacted as it is
made, so phone numbers, sender ids and tokens never reach a handler, whatever logger or
library wrote them. The first line of defence is not logging them at all (actions log only
their name and an exception's type: bot/actions_support.py); this catches what slips through,
such as a library's error message or traceback quoting a request.

`install()` sets logging's record factory (it survives Rasa and Sanic reconfiguring their
handlers) and turns Sanic's access log off (SANIC_ACCESS_LOG=false, for every Sanic app in
the process); bot/rasa_server.py, bot/action_server.py, the console and the directory API call it.
"""
from __future__ import annotations

import logging
import os
import re
import traceback

REDACTED = "[redacted]"

PATTERNS = [
    # Sender ids carry their channel: sms:+447700900123, tg:123456789, wc:<signed id>.
    re.compile(r"\b(?:sms|tg|wc|wa|whatsapp|telegram|twilio|webchat):[^\s'\",;)}\]]+", re.I),
    # JWTs and bearer tokens.
    re.compile(r"\beyJ[\w-]+\.[\w-]*\.?[\w-]*"),
    re.compile(r"(?i)((?:bearer\s+)|(?:token|secret|key|password|authorization)[\"']?\s*[=:]\s*[\"']?)[^\s&'\",;]+"),
    # Phone numbers: +44 7700 900123, 07700900123, (0191) 496 0000, 0044..., long digit runs.
    re.compile(r"(?<![\w.])(?:\+|00)?\d(?:[\s()-]{0,2}\d){8,14}(?![\w.])"),
    # Telephone-ish URL parameters Twilio sends (From=%2B447...).
    re.compile(r"(?i)%2B\d{6,15}"),
]


def redact(text: str) -> str:
    """`text` with sender ids, tokens and phone numbers replaced by [redacted]."""
    for pattern in PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


_installed = False


def install() -> None:
    """Redact every record this process makes from now on; Sanic access logs off."""
    global _installed
    os.environ["SANIC_ACCESS_LOG"] = "false"  # read by Sanic apps made after this (Config)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep only the template
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted here, so a formatter never prints the exception's own (unredacted) text.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


if __name__ == "__main__":  # python -m bot.log_hygiene MODULE ARGS...: run MODULE with hygiene on
    import runpy
    import sys

    install()
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
