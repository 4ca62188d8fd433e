"""The text of each generated schema, as served (pure: no Django)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from . import graphql, jsonschema, openapi

FORMATS = ("graphql", "json", "openapi")


def json_text(value: Any) -> str:
    """JSON indented by two spaces, UTF-8, with a final newline. orjson writes it (the
    standard library's encoder is pure Python once it indents: seconds for an OpenAPI
    document of 2,000 object types); numbers orjson cannot hold (integers beyond 64 bits)
    fall back to the standard library, in the same layout."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"
    except (TypeError, OverflowError, orjson.JSONEncodeError):
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render(fmt: str, documents: list[dict], *, label: str, commit: str | None) -> str:
    """The schema ``fmt`` of a tree's documents; ``label`` names the ref in OpenAPI's title,
    ``commit`` (if any) is the JSON Schema's ``$id`` and OpenAPI's version."""
    if fmt == "graphql":
        return graphql.generate(documents)
    if fmt == "json":
        schema_id = f"urn:oms:ontology:{commit}" if commit else None
        return json_text(jsonschema.generate(documents, schema_id=schema_id))
    if fmt == "openapi":
        title = f"Ontology at {label}"
        return json_text(openapi.generate(documents, title=title, version=commit or "working"))
    raise ValueError(f"Unknown schema format '{fmt}'.")
