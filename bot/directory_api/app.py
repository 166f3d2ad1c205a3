"""The directory API as an aiohttp app: routes, CORS, caching and errors.

Every answer is JSON with `Access-Control-Allow-Origin: *` (Open Referral UK asks it of every
response, errors included). A bad parameter is a 400 saying what is wrong, an unknown id a 404,
a method other than GET, HEAD or OPTIONS a 405; a failure on our side is a 503 (database) or a
500 that says nothing of the request, logged by the error's type only. Nothing about the
caller or the query is logged.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web
from sqlalchemy.orm import Session

from bot import db
from bot.directory import hsds, open_data
from bot.directory.open_data import BadFilter
from bot.directory_api import openapi
from bot.directory_api.params import BadRequest, ListRequest, read_list
from bot.settings import Settings

logger = logging.getLogger(__name__)

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Max-Age": "86400",
}
# Directory entries change a few times a day at most; a minute of caching spares the database.
CACHE = {"Cache-Control": "public, max-age=60"}
SETTINGS_KEY = web.AppKey("settings", Settings)
SESSIONS_KEY = web.AppKey("sessions", Callable)


def _json(data: Any, status: int = 200, extra: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json", headers={**CORS, **(extra or {})})


def _error(status: int, message: str, extra: dict[str, str] | None = None) -> web.Response:
    return _json({"error": message, "status": status}, status, extra)


@web.middleware
async def errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """CORS on every answer; our JSON errors for aiohttp's own (404, 405) and for failures."""
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS)
    try:
        return await handler(request)
    except BadRequest as problem:
        return _error(400, str(problem))
    except web.HTTPMethodNotAllowed:
        return _error(405, "this API only answers GET, HEAD and OPTIONS", {"Allow": "GET, HEAD, OPTIONS"})
    except web.HTTPNotFound:
        return _error(404, "no such endpoint: GET / lists them (openapi_url)")
    except web.HTTPException as other:
        return _error(other.status, other.reason)
    except db.Unavailable:
        return _error(503, "the directory is unavailable just now; please try again in a minute", {"Retry-After": "60"})
    except Exception as error:  # never a stack trace or the query in the answer or the log
        logger.error("directory API: %s answering a request", type(error).__name__)
        return _error(500, "something went wrong on our side")


async def _read(request: web.Request, work: Callable[[Session], Any], what: str) -> Any:
    """`work(session)` in a session of its own, off the event loop."""
    return await db.run(work, what=what, sessions=request.app[SESSIONS_KEY])


def _list(endpoint: str, fetch: Callable[[Session, ListRequest], open_data.Page]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        asked = read_list({k: request.query.getall(k) for k in request.query.keys()}, endpoint)
        try:
            page = await _read(request, lambda s: fetch(s, asked), f"list {endpoint}")
        except BadFilter as problem:
            raise BadRequest(str(problem)) from None
        return _json(page.as_json(), extra=CACHE)

    return handle


SINGULAR = {"services": "service", "service_at_locations": "service at a location", "organizations": "organization",
            "taxonomies": "taxonomy", "taxonomy_terms": "taxonomy term"}


def _item(endpoint: str, fetch: Callable[[Session, str], dict | None]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if request.query:
            raise BadRequest(f"/{endpoint}/{{id}} takes no parameters")
        wanted = request.match_info["id"]
        found = None if len(wanted) > 250 else await _read(request, lambda s: fetch(s, wanted), f"read one of {endpoint}")
        if found is None:
            return _error(404, f"no {SINGULAR[endpoint]} with id {wanted[:60]!r}")
        return _json(found, extra=CACHE)

    return handle


def base_url(settings: Settings) -> str:
    """Where callers reach this API: DIRECTORY_API_URL, else localhost on its port."""
    return settings.directory_api_url or f"http://localhost:{settings.directory_api_port}"


async def about(request: web.Request) -> web.Response:
    if request.query:
        raise BadRequest("/ takes no parameters")
    base = base_url(request.app[SETTINGS_KEY])
    return _json({"version": hsds.VERSION, "profile": hsds.PROFILE, "openapi_url": f"{base}/openapi.json"}, extra=CACHE)


async def openapi_document(request: web.Request) -> web.Response:
    return _json(openapi.document(base_url(request.app[SETTINGS_KEY])), extra=CACHE)


def create_app(settings: Settings) -> web.Application:
    """The API over DATABASE_URL (read only)."""
    app = web.Application(middlewares=[errors], client_max_size=1024)
    app[SETTINGS_KEY] = settings
    app[SESSIONS_KEY] = db.session_factory(settings.database_url)
    od = open_data
    routes = [
        ("/", about),
        ("/openapi.json", openapi_document),
        ("/services", _list("services", lambda s, r: od.list_services(s, r.filters, r.page, r.per_page, r.full))),
        ("/services/{id}", _item("services", od.get_service)),
        ("/service_at_locations", _list("service_at_locations", lambda s, r: od.list_service_at_locations(s, r.filters, r.page, r.per_page))),
        ("/service_at_locations/{id}", _item("service_at_locations", od.get_service_at_location)),
        ("/organizations", _list("organizations", lambda s, r: od.list_organizations(s, r.filters, r.page, r.per_page))),
        ("/organizations/{id}", _item("organizations", od.get_organization)),
        ("/taxonomies", _list("taxonomies", lambda s, r: od.list_taxonomies(r.page, r.per_page))),
        ("/taxonomies/{id}", _item("taxonomies", lambda s, key: od.get_taxonomy(key))),
        ("/taxonomy_terms", _list("taxonomy_terms", lambda s, r: od.list_taxonomy_terms(r.filters, r.page, r.per_page))),
        ("/taxonomy_terms/{id}", _item("taxonomy_terms", lambda s, key: od.get_taxonomy_term(key))),
    ]
    for path, handler in routes:
        app.router.add_get(path, handler)
    return app
