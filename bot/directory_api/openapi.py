"""This API's OpenAPI 3.1 description (GET /openapi.json): HSDS 3.0's, for the endpoints and
parameters we serve, its schemas referred to where Open Referral publishes them."""
from __future__ import annotations

from typing import Any

from bot.directory import hsds
from bot.directory_api.params import ALLOWED, DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_PROXIMITY

SCHEMAS = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"

PARAMETERS: dict[str, dict[str, Any]] = {
    "search": {"description": "Words that must all appear in the name or description.", "schema": {"type": "string", "maxLength": 200}},
    "taxonomy_term_id": {"description": "Only services with this taxonomy term (its id or code; GET /taxonomy_terms).", "schema": {"type": "string"}},
    "taxonomy_id": {"description": "Only services with any term of this taxonomy (GET /taxonomies).", "schema": {"type": "string"}},
    "organization_id": {"description": "Only this organization's services.", "schema": {"type": "string"}},
    "modified_after": {"description": "Only services changed on or after this date or date-time (UTC unless it says).", "schema": {"type": "string", "format": "date-time"}},
    "postcode": {"description": "A UK postcode or postcode district: only services whose service area covers it.", "schema": {"type": "string"}},
    "proximity": {"description": f"With postcode: only services with a location within this many metres (1 to {MAX_PROXIMITY}) of the postcode district's centre, nearest first.", "schema": {"type": "number"}},
    "page": {"description": "Page number, from 1.", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    "per_page": {"description": f"Items per page (1 to {MAX_PER_PAGE}).", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}},
    "full": {"description": "true: each service fully nested, as GET /services/{id} gives it.", "schema": {"type": "boolean", "default": False}},
}
LISTS = {
    "services": "compiled/service_list.json", "service_at_locations": "compiled/service_at_location_list.json",
    "organizations": "compiled/organization_list.json", "taxonomies": "taxonomy.json", "taxonomy_terms": "taxonomy_term.json",
}
ITEMS = {
    "services": "compiled/service.json", "service_at_locations": "compiled/service_at_location.json",
    "organizations": "compiled/organization.json", "taxonomies": "taxonomy.json", "taxonomy_terms": "taxonomy_term.json",
}
PAGE = {"type": "object", "required": ["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"],
        "properties": {k: {"type": t} for k, t in (("total_items", "integer"), ("total_pages", "integer"), ("page_number", "integer"),
                                                   ("size", "integer"), ("first_page", "boolean"), ("last_page", "boolean"), ("empty", "boolean"))}}
ERROR = {"description": "What was wrong, in a sentence.", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}}}}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def document(base_url: str) -> dict[str, Any]:
    """The description, with `base_url` as its server."""
    paths: dict[str, Any] = {"/": {"get": {"summary": "About this API", "responses": {"200": _ok({"type": "object", "properties": {
        "version": {"type": "string"}, "profile": {"type": "string", "format": "uri"}, "openapi_url": {"type": "string", "format": "uri"}}})}}}}
    for endpoint, names in ALLOWED.items():
        contents = {"type": "array", "items": {"$ref": SCHEMAS + LISTS[endpoint]}}
        paths[f"/{endpoint}"] = {"get": {
            "summary": f"A page of {endpoint.replace('_', ' ')}",
            "parameters": [{"name": n, "in": "query", "required": False, **PARAMETERS[n]} for n in names],
            "responses": {"200": _ok({"allOf": [{"$ref": "#/components/schemas/Page"}], "properties": {"contents": contents}}), "400": ERROR},
        }}
        paths[f"/{endpoint}/{{id}}"] = {"get": {
            "summary": f"One of the {endpoint.replace('_', ' ')}, by id",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _ok({"$ref": SCHEMAS + ITEMS[endpoint]}), "404": ERROR},
        }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Families Connect service directory",
            "version": "1.0.0",
            "description": ("Services for the families of people in prison in the UK, and the professionals who support them, as "
                            f"Open Referral UK (HSDS {hsds.VERSION}). Public: no key. Fields HSDS has no place for are in "
                            f"'{hsds.EXTENSION}'."),
            "license": {"name": "Open Government Licence v3.0", "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"},
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": {"Page": PAGE}},
    }
