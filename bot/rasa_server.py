"""Rasa as every run starts it (`python -m bot.rasa_server --model ... --port ...`): `rasa run`
with the HTTP API on and always authenticated by JWT (HS256, the `rasa_api` secret: bot/api_auth.py),
never by `--auth-token` (a token in the URL); listening on RASA_INTERFACE (localhost unless set);
CORS for the web chat page's origin only (CORS_ORIGINS, never "*"); Sanic's access log off and
every log record redacted (bot/log_hygiene.py); the rule policy's certain predictions not
second-guessed by policies that cannot outvote it (bot/dialogue/rule_first.py).

The secret is added to the arguments inside this process, so it is not on the command line
other users of the machine can read (`ps`).
"""
from __future__ import annotations

import sys

from bot import log_hygiene
from bot.api_auth import ALGORITHM
from bot.settings import Settings

REFUSED = {"--auth-token", "-t", "--cors", "--jwt-secret", "--jwt-method", "--enable-api"}


def rasa_argv(args: list[str], settings: Settings) -> list[str]:
    """The full `rasa run` command line for our extra `args` (model, port, endpoints...)."""
    refused = sorted({a.split("=", 1)[0] for a in args} & REFUSED)
    if refused:
        raise ValueError(f"set by bot.rasa_server from the settings, not on the command line: {', '.join(refused)}")
    argv = ["rasa", "run", *args]
    if not {"--interface", "-i"} & {a.split("=", 1)[0] for a in args}:
        argv += ["--interface", settings.rasa_interface]
    # "--jwt-secret=KEY" in one word: a key that starts with "-" (one generated key in 64 does)
    # would otherwise be read as an option and Rasa would not start.
    argv += ["--enable-api", f"--jwt-secret={settings.secret('rasa_api')}", "--jwt-method", ALGORITHM]
    return argv + ["--cors", *settings.cors_origin_list()]


def main(argv: list[str] | None = None) -> None:
    log_hygiene.install()
    settings = Settings.from_env()
    sys.argv = rasa_argv(list(sys.argv[1:] if argv is None else argv), settings)
    from rasa.__main__ import main as rasa_main

    from bot import locks
    from bot.dialogue import rule_first

    rule_first.install()
    locks.install_ticket_repair()  # a message is never stuck behind a turn whose server died

    rasa_main()


if __name__ == "__main__":
    main()
