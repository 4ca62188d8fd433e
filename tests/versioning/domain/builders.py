"""Documents shaped as in docs/documents.md, for tests and bench/merge_engine.py."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def prop(api_name: str, base_type: str = "string", position: int = 0, **extra: Any) -> Doc:
    doc = {
        "apiName": api_name,
        "displayName": api_name,
        "description": "",
        "baseType": base_type,
        "itemType": None,
        "valueType": None,
        "structType": None,
        "sharedProperty": None,
        "required": False,
        "pii": False,
        "status": "ACTIVE",
        "deprecation": None,
        "position": position,
    }
    doc.update(extra)
    return doc


def object_type(
    rid: str,
    api_name: str,
    properties: dict[str, Doc] | None = None,
    primary_key: str | None = None,
    **extra: Any,
) -> Doc:
    properties = properties or {}
    first = next(iter(properties), None)
    doc = {
        "kind": "objectType",
        "rid": rid,
        "apiName": api_name,
        "displayName": api_name,
        "pluralDisplayName": api_name + "s",
        "description": "",
        "status": "ACTIVE",
        "deprecation": None,
        "replacedBy": None,
        "visibility": "NORMAL",
        "icon": "",
        "primaryKey": primary_key if primary_key is not None else first,
        "titleProperty": first,
        "interfaces": {},
        "properties": properties,
    }
    doc.update(extra)
    return doc


def link_type(
    rid: str, api_name: str, source: str, target: str, fk: str | None = None, **extra: Any
) -> Doc:
    doc = {
        "kind": "linkType",
        "rid": rid,
        "apiName": api_name,
        "description": "",
        "status": "ACTIVE",
        "deprecation": None,
        "cardinality": "ONE_TO_MANY",
        "source": source,
        "target": target,
        "sourceSide": {"apiName": "target", "displayName": "Target", "visibility": "NORMAL"},
        "targetSide": {"apiName": "sources", "displayName": "Sources", "visibility": "NORMAL"},
        "foreignKeyProperty": fk,
    }
    doc.update(extra)
    return doc


def _top(kind: str, rid: str, api_name: str, **rest: Any) -> Doc:
    """The keys every top-level document starts with."""
    return {
        "kind": kind,
        "rid": rid,
        "apiName": api_name,
        "displayName": api_name,
        "description": "",
        "status": "ACTIVE",
        "deprecation": None,
        **rest,
    }


def value_type(
    rid: str, api_name: str, base_type: str = "string", constraints: Doc | None = None
) -> Doc:
    return _top(
        "valueType", rid, api_name, baseType=base_type, itemType=None, constraints=constraints or {}
    )


def struct_type(rid: str, api_name: str, fields: dict[str, Doc]) -> Doc:
    return _top("structType", rid, api_name, fields=fields)


def struct_field(api_name: str, base_type: str = "string", position: int = 0) -> Doc:
    return {
        "apiName": api_name,
        "displayName": api_name,
        "description": "",
        "baseType": base_type,
        "required": False,
        "position": position,
    }


def shared_property(rid: str, api_name: str, base_type: str = "string", **extra: Any) -> Doc:
    return _top(
        "sharedProperty",
        rid,
        api_name,
        baseType=base_type,
        itemType=None,
        valueType=None,
        structType=None,
        pii=False,
        **extra,
    )


def interface(
    rid: str,
    api_name: str,
    extends: tuple[str, ...] = (),
    properties: tuple[str, ...] = (),
    link_constraints: dict[str, Doc] | None = None,
) -> Doc:
    return _top(
        "interface",
        rid,
        api_name,
        icon="",
        extends=dict.fromkeys(extends, True),
        properties=dict.fromkeys(properties, True),
        linkConstraints=link_constraints or {},
    )


def link_constraint(api_name: str, target_object_type: str | None = None) -> Doc:
    return {
        "apiName": api_name,
        "displayName": "",
        "description": "",
        "targetObjectType": target_object_type,
        "targetInterface": None,
        "cardinality": "MANY",
        "required": False,
    }


def with_changes(doc: Doc, **changes: Any) -> Doc:
    """A copy of ``doc`` with top-level keys replaced."""
    return {**doc, **changes}


def with_prop(doc: Doc, prop_rid: str, **changes: Any) -> Doc:
    """A copy of an object type with one property's keys replaced (added if new)."""
    props = dict(doc["properties"])
    props[prop_rid] = {**props.get(prop_rid, {}), **changes}
    return {**doc, "properties": props}


def apply(tree: dict[str, Doc], changes: dict[str, Doc | None]) -> dict[str, Doc]:
    """``tree`` with a merge's ``tree_changes`` applied."""
    out = dict(tree)
    for rid, doc in changes.items():
        if doc is None:
            out.pop(rid, None)
        else:
            out[rid] = doc
    return out
