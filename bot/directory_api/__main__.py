"""`python -m bot.directory_api`: serve the directory API (DIRECTORY_API_INTERFACE and DIRECTORY_API_PORT)."""
from __future__ import annotations

import argparse
import dataclasses
import logging

from aiohttp import web

from bot import db, log_hygiene
from bot.directory_api.app import create_app
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m bot.directory_api", description="Families Connect directory: Open Referral UK read API")
    parser.add_argument("--host", default=settings.directory_api_interface, help=f"default: DIRECTORY_API_INTERFACE ({settings.directory_api_interface})")
    parser.add_argument("--port", type=int, default=settings.directory_api_port, help=f"default: DIRECTORY_API_PORT ({settings.directory_api_port})")
    parser.add_argument("--database-url", default=settings.database_url, help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    settings = dataclasses.replace(settings, directory_api_port=args.port, database_url=args.database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_hygiene.install()
    db.upgrade(settings.database_url)
    # No access log: a postcode in a query string says where someone may be.
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
