"""The action server, as every run starts it (`python -m bot.action_server`): rasa-sdk's app
listening on ACTIONS_INTERFACE (localhost unless set), refusing every call to /webhook and
/actions without the shared secret in `X-Action-Server-Key` (401, compared in constant time),
with Sanic's access log off, no CORS, and an error reply that never echoes the request (rasa-sdk's
own carries the whole tracker). /health stays open for health checks.

    python -m bot.action_server --port 5055 [--actions actions]
"""
from __future__ import annotations

import argparse
import hmac
import importlib
import logging
import sys

from bot import log_hygiene, texts
from bot.endpoints import ACTION_KEY_HEADER
from bot.settings import Settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def create_app(secret: str, package: str = "actions"):
    """rasa-sdk's Sanic app for `package`, guarded by `secret`."""
    from rasa_sdk import endpoint
    from sanic import response

    if not secret:
        raise ValueError("the action server needs a shared secret")
    expected = secret.encode()
    app = endpoint.create_app(package, cors_origins="")

    @app.middleware("request")
    async def require_key(request):  # type: ignore[no-untyped-def]
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get(ACTION_KEY_HEADER) or "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    async def failed(request, exception):  # type: ignore[no-untyped-def]
        # Not rasa-sdk's handler: that one logs the request and sends its body back to Rasa.
        logger.error("action server error: %s", type(exception).__name__)
        return response.json({"error": "internal error"}, status=500)

    app.error_handler.add(Exception, failed)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=None, help="default: ACTIONS_PORT")
    parser.add_argument("--actions", default="actions", help="the package of actions (default: actions)")
    parser.add_argument("--also-import", action="append", default=[], help=argparse.SUPPRESS)  # tests: fault injection
    args = parser.parse_args(argv)

    from rasa_sdk import utils

    log_hygiene.install()
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    settings = Settings.from_env()
    texts.require()  # the summaries and directory lines read the domain: no domain, no server
    for module in args.also_import:
        importlib.import_module(module)
    app = create_app(settings.secret("action_server"), args.actions)
    port = args.port or settings.actions_port
    logger.info("Action server on %s:%s", settings.actions_interface, port)
    app.run(settings.actions_interface, port, access_log=False, motd=False, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
