"""Rows <-> canonical documents (see docs/documents.md).

``to_documents`` reads any number of top-level entities in a fixed number of queries
(one per model plus prefetches), so reading 200 changed entities never costs 200 round
trips.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, TextField
from django.db.models.functions import Cast

from oms_site import prepared
from versioning.domain.canonical import doc_hash
from versioning.store import uuid_text

from .kinds import KIND_MODEL, TOP_LEVEL
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

Document = dict[str, Any]

__all__ = ["KIND_MODEL", "Document", "stored_document", "to_documents"]


def _rid(value) -> str | None:
    return str(value) if value else None


def _deprecation_of(status: str, message: str, deadline) -> dict[str, str] | None:
    if status != "DEPRECATED":
        return None
    return {"message": message, "deadline": deadline.isoformat() if deadline else None}


def _deprecation(row) -> dict[str, str] | None:
    return _deprecation_of(row.status, row.deprecation_message, row.deprecation_deadline)


def _common(row) -> Document:
    return {
        "kind": row.kind,
        "rid": str(row.rid),
        "apiName": row.api_name,
        "description": row.description,
        "status": row.status,
        "deprecation": _deprecation(row),
    }


def _rids(rows) -> dict[str, bool]:
    return {str(r.rid): True for r in rows}


def _typed(row, rid_of) -> Document:
    return {
        "baseType": row.base_type,
        "itemType": row.item_type or None,
        "valueType": rid_of(row.value_type),
        "structType": rid_of(row.struct_type),
    }


def _ref(obj) -> str | None:
    return str(obj.rid) if obj is not None else None


def value_type_document(row: ValueType) -> Document:
    doc = _common(row)
    doc.update(
        displayName=row.display_name,
        baseType=row.base_type,
        itemType=row.item_type or None,
        constraints=row.constraints or {},
    )
    return doc


#: keys a document carries only when set (absent means unset: null in REST), per kind
SET_ONLY_KEYS: dict[str, tuple[str, ...]] = {
    "structField": ("itemType", "valueType"),
    "linkType": ("sourceInterface", "targetInterface"),
}
#: keys a document carries only when not empty (absent means an empty list in REST): added
#: after the first release, so that the documents (and hashes) without them never changed
EMPTY_LIST_KEYS: dict[str, tuple[str, ...]] = {
    "property": ("examples",),
    "sharedProperty": ("examples",),
}


def _with_examples(doc: Document, examples: list[str] | str | None) -> Document:
    """``examples`` as the row holds them (tokens for a PII row, docs/documents.md); read
    as text by :func:`_as_text`, decoded only when not empty (nearly every row's is)."""
    if isinstance(examples, str):
        examples = None if examples in _EMPTY_JSON else json.loads(examples)
    if examples:
        doc["examples"] = list(examples)
    return doc


_EMPTY_JSON = frozenset({"[]", "null"})


def struct_field_document(f: StructField) -> Document:
    """A struct field; ``itemType`` and ``valueType`` (added after the first release) are
    there only when set, so the documents, and hashes, of fields without them never
    changed (docs/documents.md)."""
    doc = {
        "apiName": f.api_name,
        "displayName": f.display_name,
        "description": f.description,
        "baseType": f.base_type,
        "required": f.required,
        "position": f.position,
    }
    if f.item_type:
        doc["itemType"] = f.item_type
    if f.value_type_id:
        doc["valueType"] = str(f.value_type.rid)
    return doc


def struct_type_document(row: StructType) -> Document:
    doc = _common(row)
    doc["displayName"] = row.display_name
    doc["fields"] = {str(f.rid): struct_field_document(f) for f in row.fields.all()}
    return doc


def shared_property_document(row: SharedProperty) -> Document:
    doc = _common(row)
    doc.update(displayName=row.display_name, pii=row.pii, **_typed(row, _ref))
    return _with_examples(doc, row.examples)


def interface_document(row: Interface) -> Document:
    doc = _common(row)
    doc.update(
        displayName=row.display_name,
        icon=row.icon,
        extends=_rids(row.extends.all()),
        properties=_rids(row.properties.all()),
        linkConstraints={
            str(c.rid): {
                "apiName": c.api_name,
                "displayName": c.display_name,
                "description": c.description,
                "targetObjectType": _ref(c.target_object_type),
                "targetInterface": _ref(c.target_interface),
                "cardinality": c.cardinality,
                "required": c.required,
            }
            for c in row.link_constraints.all()
        },
    )
    return doc


_OT_FIELDS = (
    "id",
    "rid",
    "api_name",
    "description",
    "status",
    "deprecation_message",
    "deprecation_deadline",
    "display_name",
    "plural_display_name",
    "visibility",
    "icon",
    "replaced_by__rid",
    "primary_key_id",
    "title_property_id",
)
_PROP_FIELDS = (
    "object_type_id",
    "id",
    "rid",
    "api_name",
    "display_name",
    "description",
    "shared_property__rid",
    "required",
    "pii",
    "status",
    "deprecation_message",
    "deprecation_deadline",
    "position",
    "base_type",
    "item_type",
    "value_type__rid",
    "struct_type__rid",
    "examples",
)


def _as_text(*fields: str) -> tuple:
    """The columns to read, every rid as text (:func:`versioning.store.uuid_text`): a
    ``uuid.UUID`` per rid was about a fifth of a 100-object-type commit. ``examples`` (a
    JSON column) as its text too: :func:`_with_examples` decodes only a non-empty one."""
    return tuple(
        uuid_text(f) if f.endswith("rid") else Cast(f, TextField()) if f == "examples" else f
        for f in fields
    )


def object_type_columns() -> tuple:
    """The columns of an object type's own row that its document is made of, for a
    ``values_list``: a query that reads them (a page of the REST list) hands its rows to
    :func:`object_type_documents` instead of having them read again."""
    return _as_text(*_OT_FIELDS)


def _object_type_rows(branch_id: int, wanted: list[str] | None):
    qs = ObjectType.objects.filter(branch_id=branch_id)
    if wanted is not None:
        qs = qs.filter(rid__in=wanted)
    return qs.order_by("api_name").values_list(*object_type_columns())


def _property_rows(branch_id: int, ids: list[int] | None):
    qs = Property.objects.filter(branch_id=branch_id)
    if ids is not None:
        qs = qs.filter(object_type_id__in=ids)
    return qs.order_by("object_type_id", "position", "api_name").values_list(
        *_as_text(*_PROP_FIELDS)
    )


def _interface_rows(ids: list[int] | None, branch_id: int | None = None):
    through = ObjectType.interfaces.through
    if ids is not None:
        qs = through.objects.filter(objecttype_id__in=ids)
    else:
        qs = through.objects.filter(objecttype__branch_id=branch_id)
    return qs.order_by("interface__api_name").values_list(
        *_as_text("objecttype_id", "interface__rid")
    )


def object_type_documents(branch_id: int, rows: list[tuple]) -> dict[str, Document]:
    """The documents of object types whose own rows (:func:`object_type_columns`) were
    read already: their properties and interfaces in two more queries."""
    return _object_type_documents(branch_id, [row[1] for row in rows], rows)


def _object_type_documents(
    branch_id: int, wanted: list[str] | None, rows: list[tuple] | None = None
) -> dict[str, Document]:
    """Object type documents from plain rows (``values_list``), not model instances: the
    a fixed number of queries (object types, their properties, their interfaces), and no
    ~20 model instances per object type. Some of them (a page, one entity) run as
    prepared queries (:mod:`oms_site.prepared`); a whole branch is read once."""
    if rows is None and wanted is None:
        rows = list(_object_type_rows(branch_id, None))
    elif rows is None:
        rows = prepared.rows("documents.objectType", _object_type_rows, branch_id, wanted)
    if not rows:
        return {}
    ids = [row[0] for row in rows]
    props: dict[int, list[tuple]] = {i: [] for i in ids}
    if wanted is None:
        prop_rows = list(_property_rows(branch_id, None))
        interface_rows = list(_interface_rows(None, branch_id))
    else:
        prop_rows = prepared.rows("documents.properties", _property_rows, branch_id, ids)
        interface_rows = prepared.rows("documents.interfaces", _interface_rows, ids)
    for prop in prop_rows:
        found = props.get(prop[0])
        if found is not None:
            found.append(prop)
    interfaces: dict[int, list[str]] = {}
    for ot_id, irid in interface_rows:
        interfaces.setdefault(ot_id, []).append(str(irid))
    out: dict[str, Document] = {}
    # a row: id, rid, the own fields of _object_type_own (_OT_FIELDS' order), the keys
    for ot_id, rid, *own, primary_key_id, title_property_id in rows:
        rid_of = {}
        properties = {}
        for (
            _,
            pid,
            prid,
            p_api_name,
            p_display_name,
            p_description,
            p_shared,
            p_required,
            p_pii,
            p_status,
            p_dep_message,
            p_dep_deadline,
            p_position,
            p_base_type,
            p_item_type,
            p_value_type,
            p_struct_type,
            p_examples,
        ) in props[ot_id]:
            key = str(prid)
            rid_of[pid] = key
            properties[key] = _with_examples(
                {
                    "apiName": p_api_name,
                    "displayName": p_display_name,
                    "description": p_description,
                    "sharedProperty": _rid(p_shared),
                    "required": p_required,
                    "pii": p_pii,
                    "status": p_status,
                    "deprecation": _deprecation_of(p_status, p_dep_message, p_dep_deadline),
                    "position": p_position,
                    "baseType": p_base_type,
                    "itemType": p_item_type or None,
                    "valueType": _rid(p_value_type),
                    "structType": _rid(p_struct_type),
                },
                p_examples,
            )
        key = str(rid)
        out[key] = {
            **_object_type_own(key, *own),
            "primaryKey": rid_of.get(primary_key_id),
            "titleProperty": rid_of.get(title_property_id),
            "interfaces": dict.fromkeys(interfaces.get(ot_id, ()), True),
            "properties": properties,
        }
    return out


def _object_type_own(
    rid: str,
    api_name: str,
    description: str,
    status: str,
    dep_message: str,
    dep_deadline,
    display_name: str,
    plural_display_name: str,
    visibility: str,
    icon: str,
    replaced_by,
) -> Document:
    """An object type document's own fields (not its keys, interfaces or properties), in
    their order: one mapping for reads from rows and for a write of these fields alone."""
    return {
        "kind": "objectType",
        "rid": rid,
        "apiName": api_name,
        "description": description,
        "status": status,
        "deprecation": _deprecation_of(status, dep_message, dep_deadline),
        "displayName": display_name,
        "pluralDisplayName": plural_display_name,
        "visibility": visibility,
        "icon": icon,
        "replacedBy": _rid(replaced_by),
    }


def with_own_fields(row: ObjectType, before: Document) -> Document:
    """The document of an object type after a write of its own fields alone (its
    properties, keys and interfaces as ``before``, read in the same transaction with the
    row locked, has them): ``before`` with the row's cleaned fields, mapped by
    :func:`_object_type_own` as every read maps them. Saves reading the entity again."""
    replaced = row.replaced_by.rid if row.replaced_by_id else None
    own = _object_type_own(
        str(row.rid),
        row.api_name,
        row.description,
        row.status,
        row.deprecation_message,
        row.deprecation_deadline,
        row.display_name,
        row.plural_display_name,
        row.visibility,
        row.icon,
        replaced,
    )
    return {**before, **own}


def object_type_document(row: ObjectType) -> Document:
    return _object_type_documents(row.branch_id, [str(row.rid)])[str(row.rid)]


def link_type_document(row: LinkType) -> Document:
    """A link type; ``source`` / ``target`` are null where the end is an interface
    (``sourceInterface`` / ``targetInterface``)."""
    doc = _common(row)
    doc.update(
        cardinality=row.cardinality,
        source=_ref(row.source),
        target=_ref(row.target),
        sourceSide={
            "apiName": row.source_api_name,
            "displayName": row.source_display_name,
            "visibility": row.source_visibility,
        },
        targetSide={
            "apiName": row.target_api_name,
            "displayName": row.target_display_name,
            "visibility": row.target_visibility,
        },
        foreignKeyProperty=_ref(row.foreign_key_property),
    )
    # an end that is an interface (added after the first release): there only when set,
    # so the documents, and hashes, of links between object types never changed
    if row.source_interface_id:
        doc["sourceInterface"] = str(row.source_interface.rid)
    if row.target_interface_id:
        doc["targetInterface"] = str(row.target_interface.rid)
    return doc


_ref_only = ("rid",)


def _querysets(branch_id: int) -> dict[str, Any]:
    """The querysets (with prefetches) that read each kind's rows for documents (object
    types are read as plain rows by :func:`_object_type_documents`)."""
    return {
        "valueType": ValueType.objects.filter(branch_id=branch_id),
        "structType": StructType.objects.filter(branch_id=branch_id).prefetch_related(
            Prefetch(
                "fields",
                queryset=StructField.objects.select_related("value_type").order_by(
                    "position", "api_name"
                ),
            )
        ),
        "sharedProperty": SharedProperty.objects.filter(branch_id=branch_id).select_related(
            "value_type", "struct_type"
        ),
        "interface": Interface.objects.filter(branch_id=branch_id).prefetch_related(
            Prefetch("extends", queryset=Interface.objects.only(*_ref_only)),
            Prefetch("properties", queryset=SharedProperty.objects.only(*_ref_only)),
            Prefetch(
                "link_constraints",
                queryset=InterfaceLinkConstraint.objects.select_related(
                    "target_object_type", "target_interface"
                ),
            ),
        ),
        "linkType": LinkType.objects.filter(branch_id=branch_id).select_related(
            "source", "target", "source_interface", "target_interface", "foreign_key_property"
        ),
    }


def document_version(row) -> str | None:
    """The hash of a top-level row's stored document: changes whenever anything in the
    entity changes (a field, a child, a reference), whoever changed it."""
    doc = stored_document(row)
    return None if doc is None else doc_hash(doc)


def stored_document(row) -> Document | None:
    """The document of a top-level row as the database holds it now (None if unsaved),
    read with the same prefetches as bulk reads: a fixed number of queries."""
    if row.pk is None:
        return None
    return to_documents(row.branch_id, [row.rid], kinds=[row.kind]).get(str(row.rid))


def to_documents(
    branch_id: int, rids: Iterable[str] | None = None, *, kinds: Iterable[str] | None = None
) -> dict[str, Document]:
    """Documents of the branch's top-level entities (all, or only these rids / kinds)."""
    wanted = None if rids is None else [str(r) for r in rids]
    out: dict[str, Document] = {}
    if wanted is not None and not wanted:
        return out
    only = set(kinds) if kinds is not None else None
    querysets = None  # built when a kind needs them (not for object types alone: a page)
    for kind in TOP_LEVEL:
        if only is not None and kind.name not in only:
            continue
        if kind.name == "objectType":  # read in bulk as plain rows
            out.update(_object_type_documents(branch_id, wanted))
            continue
        querysets = querysets or _querysets(branch_id)
        qs = querysets[kind.name]
        if wanted is not None:
            qs = qs.filter(rid__in=wanted)
        for row in qs:
            out[str(row.rid)] = kind.render(row)
    return out
