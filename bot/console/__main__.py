"""`python -m bot.console`: serve the staff console (127.0.0.1 and CONSOLE_PORT by default)."""
from __future__ import annotations

import argparse
import dataclasses
import logging

from bot import db
from bot.console.app import create_app
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m bot.console", description="Families Connect staff console")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; put a TLS proxy in front for anything else)")
    parser.add_argument("--port", type=int, default=settings.console_port, help=f"default: CONSOLE_PORT ({settings.console_port})")
    parser.add_argument("--database-url", default=settings.database_url, help="default: DATABASE_URL")
    parser.add_argument("--tracker-store-url", default=settings.tracker_store_url, help="Rasa's SQL tracker store; default: TRACKER_STORE_URL")
    parser.add_argument("--rasa-url", default=settings.rasa_url,
                        help="Rasa's HTTP API: one URL, or several comma-separated (whichever answers is used); default: RASA_URL")
    parser.add_argument("--secure-cookies", choices=("auto", "always", "never"), default="auto",
                        help="mark cookies Secure: auto = when the request came over https (directly or from a "
                             "trusted proxy's X-Forwarded-Proto) or CONSOLE_SECURE_COOKIES=1 (default)")
    args = parser.parse_args(argv)
    settings = dataclasses.replace(
        settings, console_port=args.port, database_url=args.database_url, tracker_store_url=args.tracker_store_url, rasa_url=args.rasa_url,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.upgrade(settings.database_url)
    secure = {"auto": None, "always": True, "never": False}[args.secure_cookies]
    app = create_app(settings, secure_cookies=secure)
    # No access log: URLs hold only case numbers, but there is no need to keep them twice (the audit log has them).
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
