"""OpenAPI 3.1 of a CRUD REST surface over the ontology's objects (docs/schemas.md).

Per object type (``/objects/{Type}``): list (paged) and create; with a primary key, read,
replace, delete one object (``/objects/{Type}/{pk}``) and each link end as a sub-resource
(``/objects/{Type}/{pk}/links/{link}``). The components' schemas are the JSON Schema
``$defs`` (:mod:`ontology.schemas.jsonschema`), which OpenAPI 3.1 takes as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .jsonschema import definitions
from .model import Document, Ontology, deprecation_reason

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/"
_ERROR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _page(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": _ref(name)},
            "nextPageToken": {"type": ["string", "null"]},
        },
        "required": ["data"],
    }


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _op(op_id: str, summary: str, tag: str, deprecated: bool, **rest: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": [tag]}
    if deprecated:
        out["deprecated"] = True
    out.update(rest)
    return out


def _paths_of(onto: Ontology, doc: Document, defs: dict[str, Any]) -> dict[str, Any]:
    name = onto.name(doc["rid"])
    deprecated = deprecation_reason(doc) is not None
    base = f"/objects/{name}"
    page = [
        {"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "pageToken", "in": "query", "schema": {"type": "string"}},
    ]
    paths: dict[str, Any] = {
        base: {
            "get": _op(
                f"{name}.list",
                f"List {name} objects",
                name,
                deprecated,
                parameters=page,
                responses={
                    "200": {"description": "A page of objects.", "content": _content(_page(name))},
                    "400": _ERROR,
                },
            ),
            "post": _op(
                f"{name}.create",
                f"Create a {name}",
                name,
                deprecated,
                requestBody={"required": True, "content": _content(_ref(name))},
                responses={
                    "201": {"description": "Created.", "content": _content(_ref(name))},
                    "400": _ERROR,
                    "409": _ERROR,
                },
            ),
        }
    }
    pk = (doc.get("properties") or {}).get(doc.get("primaryKey") or "")
    if pk is None:
        return paths
    pk_schema = defs[name]["properties"][pk["apiName"]]
    param = {"name": "primaryKey", "in": "path", "required": True, "schema": pk_schema}
    item = f"{base}/{{primaryKey}}"
    one = {"description": "The object.", "content": _content(_ref(name))}
    paths[item] = {
        "parameters": [param],
        "get": _op(
            f"{name}.get",
            f"Read a {name}",
            name,
            deprecated,
            responses={"200": one, "404": _ERROR},
        ),
        "put": _op(
            f"{name}.replace",
            f"Replace a {name}",
            name,
            deprecated,
            requestBody={"required": True, "content": _content(_ref(name))},
            responses={"200": one, "400": _ERROR, "404": _ERROR},
        ),
        "delete": _op(
            f"{name}.delete",
            f"Delete a {name}",
            name,
            deprecated,
            responses={"204": {"description": "Deleted."}, "404": _ERROR},
        ),
    }
    for field in onto.fields(doc, inherited=True):
        if field.link is None:
            continue
        target = onto.name(field.target)
        schema = _page(target) if field.many else _ref(target)
        link_deprecated = deprecated or deprecation_reason(field.source) is not None
        paths[f"{item}/links/{field.name}"] = {
            "parameters": [param],
            "get": _op(
                f"{name}.links.{field.name}",
                f"The {target} object{'s' if field.many else ''} linked as {field.name}",
                name,
                link_deprecated,
                **({"parameters": page} if field.many else {}),
                responses={
                    "200": {"description": "Linked objects.", "content": _content(schema)},
                    "404": _ERROR,
                },
            ),
        }
    return paths


def generate(
    documents: Iterable[Document], *, title: str = "Ontology", version: str = "0"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a tree's documents."""
    docs = list(documents)
    onto = Ontology(docs)
    defs = definitions(docs, _REF)
    defs["Error"] = {
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    }
    paths: dict[str, Any] = {}
    for doc in sorted(onto.of("objectType"), key=lambda d: onto.name(d["rid"])):
        paths.update(_paths_of(onto, doc, defs))
    tags = [
        {
            "name": onto.name(d["rid"]),
            **({"description": d["description"]} if d.get("description") else {}),
        }
        for d in onto.of("objectType")
    ]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": sorted(tags, key=lambda t: t["name"]),
        "paths": paths,
        "components": {
            "schemas": defs,
            "responses": {
                "Error": {"description": "An error.", "content": _content(_ref("Error"))}
            },
        },
    }
