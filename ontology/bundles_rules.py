"""The rules a bundle's tree is validated with, behind one function, :func:`validate`.

The documents are checked before anything is written: their shape (what the workspace
needs to write them), every api name (``rules.check_api_name`` with each kind's case rule)
and the ontology's one rule set over the whole tree (:mod:`ontology.rule_set`, through
``OntologyPolicy.validate_tree``, as a merge checks its merged tree). :func:`validate_rows`
then runs the models' own ``full_clean`` on the rows written for the bundle, inside the
import's transaction, which rolls back on any error. No rule is declared here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from oms_site.api import camelize

from . import rules
from .bundles import pointer
from .documents import KIND_MODEL, Document
from .kinds import CHILD_SPECS as _CHILD_SPECS
from .merge_policy import OntologyPolicy
from .models import (
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
)

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


def validate(tree: Mapping[str, Document], pointers: Mapping[str, str]) -> list[dict[str, str]]:
    """Every error of the tree a branch would hold, each at its JSON pointer in the bundle
    (``pointers``: rid -> the document's pointer; entities not in the bundle have none)."""
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


#: the relations each model's ``clean`` reads, joined in the one query that loads the rows
_RELATED = {
    ObjectType: ("replaced_by", "primary_key", "title_property"),
    Property: ("object_type", "value_type", "struct_type", "shared_property"),
    SharedProperty: ("value_type", "struct_type"),
    StructField: ("struct_type", "value_type"),
    InterfaceLinkConstraint: ("interface",),
    LinkType: (
        "source",
        "target__primary_key",
        "source_interface",
        "target_interface",
        "foreign_key_property",
    ),
}


def _no_scope() -> None:
    return None


def _row_errors(row, at: str) -> list[dict[str, str]]:
    """``full_clean`` of a written row. Its references are not looked up one by one (the
    tree's rules above checked every one, and the rows were written by rid), nor its name
    among its siblings' (the tree's rules compared every name in one pass; the database's
    unique indexes stand behind both): every other rule of the model runs."""
    references = [f.name for f in row._meta.concrete_fields if f.is_relation]
    row.unique_scope = _no_scope  # names: the tree rules' check_name, one pass for all
    try:
        row.full_clean(exclude=references, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [
            _err(at + _field_pointer(name), message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return []


def validate_rows(branch, rids: list[str], pointers: Mapping[str, str]) -> list[dict[str, str]]:
    """The models' ``full_clean`` of the written rows of ``rids`` (top-level rows and their
    children), each error at its pointer; rows and the relations their rules read are
    loaded in one query per model."""
    errors: list[dict[str, str]] = []
    wanted = list(set(rids))
    for kind, model in KIND_MODEL.items():
        qs = model._default_manager.filter(branch=branch, rid__in=wanted)
        for row in qs.select_related(*_RELATED.get(model, ())):
            errors.extend(_row_errors(row, pointers.get(str(row.rid), "")))
        if kind not in _CHILD_SPECS:
            continue
        child_model, fk, key = _CHILD_SPECS[kind]
        children = child_model._default_manager.filter(
            branch=branch, **{f"{fk}__rid__in": wanted}
        ).select_related(*_RELATED.get(child_model, ()), f"{fk}")
        for child in children:
            parent = str(getattr(child, fk).rid)
            at = pointers.get(parent, "") + pointer(key, str(child.rid))
            errors.extend(_row_errors(child, at))
    return _unique(errors)
