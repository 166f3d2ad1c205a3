"""Validating JSON against the HSDS 3.0 schemas (copied unchanged from ../shared/refdata/hsds3
into tests/support/hsds3, with its README: source commit and licence, CC BY-SA 4.0). The three
large compiled schemas (service, service_at_location, organization: 2-3 MB each) are kept
gzipped; the package and tabular forms we do not serve are left out.

The schemas declare no $schema: they are JSON Schema 2020-12 (as OpenAPI 3.1 uses). openapi.json's
$refs point at raw.githubusercontent.com on the 3.0 branch; they are mapped to the local files, so
nothing is fetched. Formats (uuid, email, date-time, uri where a checker is installed) are checked.
"""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

HERE = Path(__file__).parent / "hsds3"
REMOTE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """One schema file by name ("service.json"), gzipped or not."""
    plain, packed = HERE / name, HERE / f"{name}.gz"
    return json.loads(plain.read_text() if plain.exists() else gzip.decompress(packed.read_bytes()))


@lru_cache(maxsize=None)
def _store() -> dict[str, Any]:
    store = {}
    for path in sorted(HERE.glob("*.json*")):
        name = path.name.removesuffix(".gz")
        store[REMOTE + "compiled/" + name] = store[REMOTE + name] = schema(name)
    return store


def validator(schema_document: dict[str, Any], base: str = "") -> jsonschema.Draft202012Validator:
    resolver = jsonschema.RefResolver(base_uri=base, referrer=schema_document, store=_store())
    return jsonschema.Draft202012Validator(schema_document, resolver=resolver, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def problems(instance: Any, name: str) -> list[str]:
    """Every way `instance` breaks the schema file `name` ("service.json"), as readable lines."""
    found = validator(schema(name), REMOTE + name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in found]


def response_problems(instance: Any, path: str, status: str = "200") -> list[str]:
    """Every way a response body breaks openapi.json's schema for GET `path` ("/services/{id}")."""
    api = schema("openapi.json")
    body = api["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    # Resolve "#/components/..." against openapi.json itself.
    document = {**body, "components": api["components"]}
    found = validator(document, REMOTE + "openapi.json").iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in found]
