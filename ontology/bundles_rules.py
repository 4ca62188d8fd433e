"""The rules a bundle's tree is validated with, behind one function, :func:`validate`.

The documents are checked before anything is written: their shape (what the workspace
needs to write them), every api name (``rules.check_api_name`` with each kind's case rule),
the ontology's one rule set over the whole tree (:mod:`ontology.rule_set`, through
``OntologyPolicy.validate_tree``, as a merge checks its merged tree), and what only the
rows hold: the values each written document becomes checked against their columns
(:func:`ontology.columns.column_errors`: blank, length, choices, ranges) and its example
tokens against the protected values. No rule is declared here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from oms_site.api import camelize
from versioning.protection import is_token, unknown_tokens

from . import rules
from .bundles import pointer
from .columns import column_errors
from .documents import KIND_MODEL, Document
from .kinds import CHILD_SPECS as _CHILD_SPECS
from .merge_policy import OntologyPolicy
from .models.base import StatusFields
from .workspace_write import child_fields, plain_fields

#: kind -> the key of its children (properties, fields, link constraints)
CHILDREN = {kind: key for kind, (_, _, key) in _CHILD_SPECS.items()}

#: row fields whose document key is not their camelCase name
_ALIASES = {
    "source_api_name": "sourceSide/apiName",
    "source_display_name": "sourceSide/displayName",
    "source_visibility": "sourceSide/visibility",
    "target_api_name": "targetSide/apiName",
    "target_display_name": "targetSide/displayName",
    "target_visibility": "targetSide/visibility",
    "deprecation_message": "deprecation/message",
    "deprecation_deadline": "deprecation/deadline",
}

#: a reference that may be empty (a link's end: an object type or an interface)
_REF = (str, type(None))

#: what the workspace reads from each kind of document: key -> JSON type
_SHAPE: dict[str, dict[str, type | tuple[type, ...]]] = {
    "valueType": {"baseType": str},
    "structType": {"fields": dict},
    "sharedProperty": {"baseType": str},
    "interface": {"linkConstraints": dict, "extends": dict, "properties": dict},
    "objectType": {"properties": dict, "interfaces": dict},
    "linkType": {
        "cardinality": str,
        "source": _REF,
        "target": _REF,
        "sourceInterface": _REF,
        "targetInterface": _REF,
    },
}
_CHILD_SHAPE: dict[str, dict[str, type]] = {
    "objectType": {"apiName": str, "baseType": str},
    "structType": {"apiName": str, "baseType": str},
    "interface": {"apiName": str},
}
_TYPE_NAMES = {str: "text", dict: "an object", bool: "true or false", _REF: "text or null"}


def _err(ptr: str, message: str) -> dict[str, str]:
    return {"pointer": ptr, "message": message}


def _shape_errors(doc: Document, at: str) -> list[dict[str, str]]:
    kind = doc["kind"]
    errors = []
    for key, expected in _SHAPE[kind].items():
        if key not in doc and expected is dict:
            continue  # an absent set or child map is empty
        if not isinstance(doc.get(key), expected):
            errors.append(_err(f"{at}/{key}", f"Must be {_TYPE_NAMES[expected]}."))
    child_key = CHILDREN.get(kind)
    children = doc.get(child_key) if child_key else None
    if isinstance(children, dict):
        for crid, child in children.items():
            here = at + pointer(child_key, crid)
            if not isinstance(child, dict):
                errors.append(_err(here, "Must be an object."))
                continue
            for key, expected in _CHILD_SHAPE[kind].items():
                if not isinstance(child.get(key), expected):
                    errors.append(_err(f"{here}/{key}", f"Must be {_TYPE_NAMES[expected]}."))
    if kind == "linkType":
        for side in ("sourceSide", "targetSide"):
            if not isinstance(doc.get(side), dict):
                errors.append(_err(f"{at}/{side}", "Must be an object with an apiName."))
    return errors


def _name_errors(doc: Document, at: str) -> list[dict[str, str]]:
    kind = doc["kind"]
    errors = [
        _err(f"{at}/apiName", m)
        for m in rules.check_api_name(doc["apiName"], KIND_MODEL[kind].api_name_case)
    ]
    if kind in _CHILD_SPECS:
        model, _, key = _CHILD_SPECS[kind]
        for crid, child in (doc.get(key) or {}).items():
            errors.extend(
                _err(at + pointer(key, crid, "apiName"), m)
                for m in rules.check_api_name(child["apiName"], model.api_name_case)
            )
    if kind == "linkType":
        for side in ("sourceSide", "targetSide"):
            errors.extend(
                _err(f"{at}/{side}/apiName", m)
                for m in rules.check_api_name(str(doc[side].get("apiName", "")), rules.CAMEL)
            )
    return errors


def validate(
    tree: Mapping[str, Document], pointers: Mapping[str, str], written: Iterable[str] = ()
) -> list[dict[str, str]]:
    """Every error of the tree a branch would hold, each at its JSON pointer in the bundle
    (``pointers``: rid -> the document's pointer; entities not in the bundle have none).
    ``written``: the rids whose documents will be written; the rows they become are
    checked too (an error at a pointer the tree's rules already name is left out: the
    same fault, said twice)."""
    errors: list[dict[str, str]] = []
    shaped = {}
    for rid, doc in tree.items():
        at = pointers.get(rid, "")
        found = _shape_errors(doc, at) if rid in pointers else []
        errors.extend(found)
        if not found:
            shaped[rid] = doc
            if rid in pointers:
                errors.extend(_name_errors(doc, at))
    if len(shaped) == len(tree):
        for problem in OntologyPolicy().validate_tree(tree, frozenset(tree)):
            errors.append(
                _err(pointers.get(problem.rid, "") + pointer(*problem.path), problem.message)
            )
    named = {e["pointer"] for e in errors}
    rows = _row_errors({rid: shaped[rid] for rid in written if rid in shaped}, pointers)
    errors.extend(e for e in rows if e["pointer"] not in named)
    return _unique(errors)


def _unique(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for error in errors:
        key = (error["pointer"], error["message"])
        if key not in seen:
            seen.add(key)
            out.append(error)
    return sorted(out, key=lambda e: e["pointer"])


def _field_pointer(name: str) -> str:
    if name == "__all__":
        return ""
    return "/" + _ALIASES.get(name, camelize(name))


def _deprecation_errors(holder: Mapping[str, Any], at: str) -> list[dict[str, str]]:
    """What the workspace needs to write a deprecation (the rule set reads it only when
    the status is DEPRECATED)."""
    dep = holder.get("deprecation")
    if dep is None:
        return []
    if not isinstance(dep, dict):
        return [_err(f"{at}/deprecation", "Must be an object or null.")]
    deadline = dep.get("deadline")
    try:
        if deadline:
            dt.date.fromisoformat(deadline)
    except (TypeError, ValueError):
        return [_err(f"{at}/deprecation/deadline", "Must be a date (YYYY-MM-DD) or null.")]
    return []


def _row_errors(docs: Mapping[str, Document], pointers: Mapping[str, str]) -> list[dict[str, str]]:
    """The errors of the rows ``docs`` are written as (top-level rows and their children),
    each at its pointer: the columns' rules over the values written
    (:func:`ontology.columns.column_errors`), and the example tokens that name no
    protected value (the row's ``example_errors``; one query for every token)."""
    errors: list[dict[str, str]] = []
    holders: list[tuple[str, Any, dict[str, Any]]] = []  # (pointer, model, values)
    for rid, doc in docs.items():
        at, kind = pointers.get(rid, ""), doc["kind"]
        rows = [(at, KIND_MODEL[kind], doc, plain_fields)]
        if kind in _CHILD_SPECS:
            model, _, key = _CHILD_SPECS[kind]
            for crid, child in (doc.get(key) or {}).items():
                rows.append((at + pointer(key, crid), model, child, child_fields))
        for here, model, holder, fields in rows:
            found = _deprecation_errors(holder, here) if issubclass(model, StatusFields) else []
            if found:
                errors.extend(found)
                continue
            values = fields(kind, holder)
            errors.extend(
                _err(here + _field_pointer(name), message)
                for name, messages in column_errors(model, values).items()
                for message in messages
            )
            if any(is_token(e) for e in values.get("examples") or ()):
                holders.append((here, model, values))
    tokens = {e for _, _, values in holders for e in values["examples"] if is_token(e)}
    unknown = set(unknown_tokens(tokens)) if tokens else set()
    for here, model, values in holders:
        if any(e in unknown for e in values["examples"] if is_token(e)):
            row = model(examples=values["examples"], pii=values["pii"])
            for name, messages in row.example_errors().items():
                errors.extend(_err(here + _field_pointer(name), m) for m in messages)
    return errors
