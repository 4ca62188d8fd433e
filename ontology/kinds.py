"""The one map of the ontology's kinds.

For each kind (object type, property, link type, value type, struct type and struct
field, shared property, interface, interface link constraint) it says its model, its
children, its references (who points at whom, by document path), its REST route
segment, its event name and its document mapping (a function of
:mod:`ontology.documents`). Everything that asks "what kinds exist and who points at
whom" reads it: documents, services (event names, reference checks), the merge policy
and the rule set (:mod:`ontology.rule_set`), the API routes, and versioning's reserved
route segments (registered from ``AppConfig.ready``).

A reference's ``path`` is a document path in which ``*`` stands for every key of the
mapping at that point (children keyed by rid, or rid sets such as ``interfaces``); a
path ending in ``*`` refers to those keys themselves, any other path to the value at
its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.db import models

from .models import (
    Interface,
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
    StructType,
    ValueType,
)

Path = tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """``path`` of a ``kind`` document names an entity of kind ``target``.

    ``holder`` / ``field`` are the row model and field that store it, ``top`` the lookup
    from a holder row to the rid of its top-level entity; ``label`` names the holder in
    messages. ``blocks_delete``: the referenced entity cannot be deleted while used (a
    replacement or an object type's own keys are cleared instead)."""

    kind: str
    path: Path
    target: str
    holder: type[models.Model]
    field: str
    label: str
    top: str = "rid"
    blocks_delete: bool = True

    @property
    def is_set(self) -> bool:
        return self.path[-1] == "*"


@dataclass(frozen=True)
class Child:
    """A child kind kept inside its parent's document under ``key``, keyed by rid."""

    key: str
    kind: str


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model]
    label: str
    parent: str | None = None
    children: tuple[Child, ...] = ()
    route: str | None = None
    event: str | None = None
    #: the function of :mod:`ontology.documents` that renders a row (top-level kinds)
    document: str | None = None
    #: the model field that ties a child row to its parent row
    parent_field: str | None = None
    references: tuple[Reference, ...] = field(default=())

    @property
    def api_name_case(self) -> str:
        return self.model.api_name_case

    def render(self, row: Any) -> dict[str, Any]:
        return getattr(import_module("ontology.documents"), self.document)(row)


def _refs(kind: str, *specs: tuple) -> tuple[Reference, ...]:
    return tuple(Reference(kind, *spec[:5], **(spec[5] if len(spec) > 5 else {})) for spec in specs)


_OWN = {"blocks_delete": False}
_OF_OT = {"top": "object_type__rid"}
_OF_IFACE = {"top": "interface__rid"}

#: every kind; the top-level ones in dependency order (referenced kinds first)
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "valueType",
            ValueType,
            "value type",
            route="value-types",
            event="value_type",
            document="value_type_document",
        ),
        Kind(
            "structType",
            StructType,
            "struct type",
            children=(Child("fields", "structField"),),
            route="struct-types",
            event="struct_type",
            document="struct_type_document",
            references=_refs(
                "structType",
                (
                    ("fields", "*", "valueType"),
                    "valueType",
                    StructField,
                    "value_type",
                    "struct field",
                    {"top": "struct_type__rid"},
                ),
            ),
        ),
        Kind(
            "structField",
            StructField,
            "struct field",
            parent="structType",
            parent_field="struct_type",
        ),
        Kind(
            "sharedProperty",
            SharedProperty,
            "shared property",
            route="shared-properties",
            event="shared_property",
            document="shared_property_document",
            references=_refs(
                "sharedProperty",
                (("valueType",), "valueType", SharedProperty, "value_type", "shared property"),
                (("structType",), "structType", SharedProperty, "struct_type", "shared property"),
            ),
        ),
        Kind(
            "interface",
            Interface,
            "interface",
            children=(Child("linkConstraints", "linkConstraint"),),
            route="interfaces",
            event="interface",
            document="interface_document",
            references=_refs(
                "interface",
                (("extends", "*"), "interface", Interface, "extends", "interface"),
                (("properties", "*"), "sharedProperty", Interface, "properties", "interface"),
                (
                    ("linkConstraints", "*", "targetObjectType"),
                    "objectType",
                    InterfaceLinkConstraint,
                    "target_object_type",
                    "interface link constraint",
                    _OF_IFACE,
                ),
                (
                    ("linkConstraints", "*", "targetInterface"),
                    "interface",
                    InterfaceLinkConstraint,
                    "target_interface",
                    "interface link constraint",
                    _OF_IFACE,
                ),
            ),
        ),
        Kind(
            "linkConstraint",
            InterfaceLinkConstraint,
            "interface link constraint",
            parent="interface",
            parent_field="interface",
        ),
        Kind(
            "objectType",
            ObjectType,
            "object type",
            children=(Child("properties", "property"),),
            route="object-types",
            event="object_type",
            document="object_type_document",
            references=_refs(
                "objectType",
                (("interfaces", "*"), "interface", ObjectType, "interfaces", "object type"),
                (("replacedBy",), "objectType", ObjectType, "replaced_by", "object type", _OWN),
                (("primaryKey",), "property", ObjectType, "primary_key", "object type", _OWN),
                (
                    ("titleProperty",),
                    "property",
                    ObjectType,
                    "title_property",
                    "object type",
                    _OWN,
                ),
                (
                    ("properties", "*", "valueType"),
                    "valueType",
                    Property,
                    "value_type",
                    "property",
                    _OF_OT,
                ),
                (
                    ("properties", "*", "structType"),
                    "structType",
                    Property,
                    "struct_type",
                    "property",
                    _OF_OT,
                ),
                (
                    ("properties", "*", "sharedProperty"),
                    "sharedProperty",
                    Property,
                    "shared_property",
                    "property",
                    _OF_OT,
                ),
            ),
        ),
        Kind(
            "property",
            Property,
            "property",
            parent="objectType",
            parent_field="object_type",
        ),
        Kind(
            "linkType",
            LinkType,
            "link type",
            route="link-types",
            event="link_type",
            document="link_type_document",
            references=_refs(
                "linkType",
                (("source",), "objectType", LinkType, "source", "link type"),
                (("target",), "objectType", LinkType, "target", "link type"),
                (("sourceInterface",), "interface", LinkType, "source_interface", "link type"),
                (("targetInterface",), "interface", LinkType, "target_interface", "link type"),
                (
                    ("foreignKeyProperty",),
                    "property",
                    LinkType,
                    "foreign_key_property",
                    "link type",
                ),
            ),
        ),
    )
}

TOP_LEVEL: tuple[Kind, ...] = tuple(k for k in KINDS.values() if k.parent is None)
#: top-level document kind -> model
KIND_MODEL: dict[str, type[models.Model]] = {k.name: k.model for k in TOP_LEVEL}
_BY_MODEL = {k.model: k for k in KINDS.values()}
#: every reference, and those into each kind
REFERENCES: tuple[Reference, ...] = tuple(r for k in KINDS.values() for r in k.references)
REFERENCES_TO: dict[str, tuple[Reference, ...]] = {
    name: tuple(r for r in REFERENCES if r.target == name) for name in KINDS
}
#: for each kind, the kinds whose documents may refer to it
REFERRER_KINDS: dict[str, frozenset[str]] = {
    name: frozenset(r.kind for r in refs) for name, refs in REFERENCES_TO.items()
}
#: parent kind -> (child model, its field naming the parent, the document key)
CHILD_SPECS: dict[str, tuple[type[models.Model], str, str]] = {
    k.name: (KINDS[c.kind].model, KINDS[c.kind].parent_field, c.key)
    for k in TOP_LEVEL
    for c in k.children
}
#: the REST route segment of each top-level kind (``branches/<name>/<segment>/``)
ROUTE_SEGMENTS: dict[str, str] = {k.name: k.route for k in TOP_LEVEL if k.route}


def kind_of(row_or_model: Any) -> Kind:
    model = row_or_model if isinstance(row_or_model, type) else type(row_or_model)
    return _BY_MODEL[model]


def event_type(kind: str, action: str) -> str:
    """``com.oms.ontology.object_type.created.v1`` for ``("objectType", "created")``."""
    return f"com.oms.ontology.{KINDS[kind].event}.{action}.v1"


def references(doc: Mapping[str, Any]) -> list[tuple[Path, Any, Reference]]:
    """(path, referenced rid, reference) of every reference a document makes (``None``
    values included: a reference left empty)."""
    kind = KINDS.get(doc.get("kind"))  # type: ignore[arg-type]
    out: list[tuple[Path, Any, Reference]] = []
    if kind is not None:
        for ref in kind.references:
            _collect(doc, ref.path, 0, (), ref, out)
    return out


def outside_references(doc: Mapping[str, Any]) -> list[tuple[Path, Any, Reference]]:
    """:func:`references` to other top-level documents, not to the document's own
    children (an object type's keys name its properties): those the rule set follows."""
    out: list[tuple[Path, Any, Reference]] = []
    for ref in _OUTSIDE.get(doc.get("kind"), ()):  # type: ignore[arg-type]
        _collect(doc, ref.path, 0, (), ref, out)
    return out


def referenced(doc: Mapping[str, Any], ref: Reference) -> list[tuple[Path, Any, Reference]]:
    """(path, referenced rid, ``ref``) of the references ``doc`` makes through ``ref``
    alone (a reference of its kind): :func:`references` narrowed to one path."""
    out: list[tuple[Path, Any, Reference]] = []
    _collect(doc, ref.path, 0, (), ref, out)
    return out


#: kind -> its references to other top-level documents (:func:`outside_references`)
_OUTSIDE: dict[str, tuple[Reference, ...]] = {
    k.name: tuple(r for r in k.references if r.target in KIND_MODEL) for k in KINDS.values()
}


def _collect(value: Any, path: Path, i: int, at: Path, ref: Reference, out: list) -> None:
    """Appends to ``out`` what ``path[i:]`` reaches in ``value`` (``*``: every key of a
    mapping). A rule-set check walks every reference of every checked document: a loop
    and a list, not nested generators."""
    last = len(path) - 1
    while True:
        if type(value) is not dict and (value is None or not isinstance(value, Mapping)):
            return
        head = path[i]
        if head == "*":
            if i == last:
                out.extend(((*at, key), key, ref) for key in value)
            elif i == last - 1:  # a key of each child (the common case): no recursion
                leaf = path[last]
                for key, item in value.items():
                    if type(item) is dict or isinstance(item, Mapping):
                        out.append(((*at, key, leaf), item.get(leaf), ref))
            else:
                for key, item in value.items():
                    _collect(item, path, i + 1, (*at, key), ref, out)
            return
        if i == last:
            out.append(((*at, head), value.get(head), ref))
            return
        value, at, i = value.get(head), (*at, head), i + 1
