"""Documents -> a branch's rows (part of the ontology's workspace, see
:mod:`ontology.workspace`, which checks the rule set before it calls :func:`write`).

``write`` makes rows match documents with bulk statements: rows are matched by rid,
references are resolved by rid, children are synchronised by rid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from .documents import Document
from .kinds import CHILD_SPECS, KIND_MODEL, TOP_LEVEL
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
from .models.base import stored_examples
from .workspace_rows import bulk_upsert, rows_by_rid

#: dependants first (the kinds' dependency order, reversed)
_DELETE_ORDER = tuple(k.name for k in reversed(TOP_LEVEL))
#: a link's ends: document key, the model it names, the column holding it
_LINK_ENDS = (
    ("source", ObjectType, "source_id"),
    ("target", ObjectType, "target_id"),
    ("sourceInterface", Interface, "source_interface_id"),
    ("targetInterface", Interface, "target_interface_id"),
)
_UPSERT_ORDER = tuple(reversed(_DELETE_ORDER))


def _deprecation_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    dep = doc.get("deprecation") or {}
    deadline = dep.get("deadline")
    return {
        "status": doc.get("status", "ACTIVE"),
        "deprecation_message": dep.get("message") or "",
        "deprecation_deadline": dt.date.fromisoformat(deadline) if deadline else None,
    }


def plain_fields(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Row values of a top-level document that need no reference lookups (``examples`` as
    the document gives them: :func:`protect_examples` turns a PII row's into tokens)."""
    values = {"api_name": doc["apiName"], "description": doc.get("description", "")}
    values.update(_deprecation_fields(doc))
    if kind != "linkType":
        values["display_name"] = doc.get("displayName", "")
    if kind == "valueType":
        values.update(
            base_type=doc["baseType"],
            item_type=doc.get("itemType") or "",
            constraints=doc.get("constraints") or {},
        )
    elif kind == "sharedProperty":
        values.update(
            base_type=doc["baseType"],
            item_type=doc.get("itemType") or "",
            pii=doc.get("pii", False),
            examples=doc.get("examples") or [],
        )
    elif kind == "interface":
        values["icon"] = doc.get("icon", "")
    elif kind == "objectType":
        values.update(
            plural_display_name=doc.get("pluralDisplayName", ""),
            visibility=doc.get("visibility", "NORMAL"),
            icon=doc.get("icon", ""),
        )
    elif kind == "linkType":
        src, tgt = doc.get("sourceSide", {}), doc.get("targetSide", {})
        values.update(
            cardinality=doc["cardinality"],
            source_api_name=src.get("apiName", ""),
            source_display_name=src.get("displayName", ""),
            source_visibility=src.get("visibility", "NORMAL"),
            target_api_name=tgt.get("apiName", ""),
            target_display_name=tgt.get("displayName", ""),
            target_visibility=tgt.get("visibility", "NORMAL"),
        )
    return values


def child_fields(kind: str, child: Mapping[str, Any]) -> dict[str, Any]:
    """Row values of a child (struct field, property, link constraint) of a ``kind``
    document that need no reference lookups (``examples`` as :func:`plain_fields`)."""
    values = {
        "api_name": child["apiName"],
        "display_name": child.get("displayName", ""),
        "description": child.get("description", ""),
    }
    if kind == "interface":
        values.update(
            cardinality=child.get("cardinality", "MANY"), required=child.get("required", False)
        )
        return values
    values.update(
        base_type=child["baseType"],
        item_type=child.get("itemType") or "",
        required=child.get("required", False),
        position=child.get("position", 0),
    )
    if kind == "objectType":
        values.update(pii=child.get("pii", False), examples=child.get("examples") or [])
        values.update(_deprecation_fields(child))
    return values


def protect_examples(rows: Iterable[dict[str, Any]]) -> None:
    """Turn the ``examples`` of the rows flagged ``pii`` into tokens of protected values
    (:func:`~ontology.models.base.stored_examples`), all rows' in one call; every row's
    examples become a list of its own."""
    flagged = []
    for values in rows:
        if "examples" in values:
            values["examples"] = list(values["examples"])
            if values.get("pii") and values["examples"]:
                flagged.append(values)
    if not flagged:
        return
    tokens = stored_examples([e for values in flagged for e in values["examples"]], True)
    start = 0
    for values in flagged:
        end = start + len(values["examples"])
        values["examples"] = tokens[start:end]
        start = end


class _Resolver:
    """rid -> row id on one branch, loaded in bulk per model."""

    def __init__(self, branch_id: int):
        self.branch_id = branch_id
        self.cache: dict[type[models.Model], dict[str, int]] = defaultdict(dict)

    def prime(self, model: type[models.Model], rids: Iterable[str | None]) -> None:
        wanted = {r for r in rids if r} - set(self.cache[model])
        if wanted:
            rows = model._default_manager.filter(branch_id=self.branch_id, rid__in=wanted)
            self.cache[model].update({str(r): i for r, i in rows.values_list("rid", "id")})

    def id(self, model: type[models.Model], rid: str | None) -> int | None:
        if not rid:
            return None
        if rid not in self.cache[model]:
            self.prime(model, [rid])
        try:
            return self.cache[model][rid]
        except KeyError:
            raise ValueError(f"{model.__name__} {rid} does not exist on this branch") from None


def _park(qs: models.QuerySet) -> None:
    """Rename rows about to be deleted so that new rows may take their api names."""
    for row in qs.only("id", "api_name"):
        type(row)._default_manager.filter(pk=row.pk).update(
            api_name=f"{row.api_name[:60]}__deleted_{row.pk}"
        )


_CHILD_SPECS = CHILD_SPECS


def write(
    branch,
    changes: Mapping[str, Document | None],
    before: Mapping[str, Document | None] | None = None,
) -> None:
    """Make the branch's rows match ``changes``; ``None`` deletes the entity (no rule
    checks: :func:`ontology.workspace.apply` runs the rule set first).

    ``before`` (optional): the documents the branch's rows hold now, e.g. a clean branch's
    head for a merge. A document whose children (properties, struct fields, link
    constraints) equal its ``before`` children has them neither read nor written, so a
    merge that changes an object type's description costs one row, not its twenty
    properties.
    """
    if not changes:
        return
    bid = branch.pk
    before = before or {}
    docs_by_kind: dict[str, dict[str, Document]] = defaultdict(dict)
    for rid, doc in changes.items():
        if doc is not None:
            docs_by_kind[doc["kind"]][rid] = doc
    # the documents whose children must be synchronised
    child_docs: dict[str, dict[str, Document]] = defaultdict(dict)
    for kind, (_, _, key) in _CHILD_SPECS.items():
        for rid, doc in docs_by_kind.get(kind, {}).items():
            old = before.get(rid)
            if old is None or old.get("kind") != kind or old.get(key) != doc.get(key):
                child_docs[kind][rid] = doc
    deleted = [rid for rid, doc in changes.items() if doc is None]
    resolver = _Resolver(bid)
    with transaction.atomic():
        rows: dict[str, dict[str, models.Model]] = {}
        # 0. park what will be deleted (top-level rows and children dropped from a document)
        doomed: dict[str, list[int]] = defaultdict(list)
        for kind in _DELETE_ORDER:
            model = KIND_MODEL[kind]
            qs = model._default_manager.filter(branch_id=bid, rid__in=deleted)
            ids = list(qs.values_list("id", flat=True))
            if ids:
                doomed[kind] = ids
                _park(model._default_manager.filter(id__in=ids))
        existing_children: dict[str, dict[str, Any]] = {}
        dropped: dict[str, list[int]] = {}
        for kind, (child_model, fk, key) in _CHILD_SPECS.items():
            docs = child_docs.get(kind, {})
            if not docs:
                continue
            current = child_model._default_manager.filter(
                branch_id=bid, **{f"{fk}__rid__in": list(docs)}
            )
            existing_children[kind] = rows_by_rid(current)
            keep = {crid for d in docs.values() for crid in d.get(key, {})}
            # decided here, from the rows just read: no NOT IN over every kept child's rid
            dropped[kind] = [
                c.id for crid, c in existing_children[kind].items() if crid not in keep
            ]
            if dropped[kind]:
                _park(child_model._default_manager.filter(id__in=dropped[kind]))

        # 1. top-level rows without references
        for kind in _UPSERT_ORDER:
            docs = docs_by_kind.get(kind, {})
            if not docs:
                continue
            model = KIND_MODEL[kind]
            existing = rows_by_rid(model._default_manager.filter(branch_id=bid, rid__in=list(docs)))
            items = {rid: plain_fields(kind, doc) for rid, doc in docs.items()}
            protect_examples(items.values())
            if kind == "linkType":
                for key, end_model, _ in _LINK_ENDS:
                    resolver.prime(end_model, [d.get(key) for d in docs.values()])
                for rid, doc in docs.items():
                    for key, end_model, column in _LINK_ENDS:
                        items[rid][column] = resolver.id(end_model, doc.get(key))
            rows[kind] = bulk_upsert(model, bid, items, existing)
            resolver.cache[model].update({rid: r.id for rid, r in rows[kind].items()})

        # 2. children (properties, struct fields, link constraints)
        _apply_children(bid, child_docs, rows, existing_children, resolver)

        # 3. references between top-level rows
        _apply_references(bid, docs_by_kind, child_docs, rows, existing_children, resolver, before)

        # 4. deletions: dropped children first, then top-level rows, dependants first
        for kind, (child_model, _, _) in _CHILD_SPECS.items():
            if dropped.get(kind):
                child_model._default_manager.filter(id__in=dropped[kind]).delete()
        for kind in _DELETE_ORDER:
            if doomed.get(kind):
                model = KIND_MODEL[kind]
                if model is ObjectType:
                    ObjectType.objects.filter(id__in=doomed[kind]).update(
                        primary_key=None, title_property=None
                    )
                model._default_manager.filter(id__in=doomed[kind]).delete()


def _apply_children(bid, docs_by_kind, rows, existing_children, resolver) -> None:
    # struct fields
    items, existing = {}, existing_children.get("structType", {})
    st_docs = docs_by_kind.get("structType", {})
    resolver.prime(
        ValueType,
        (f.get("valueType") for d in st_docs.values() for f in (d.get("fields") or {}).values()),
    )
    for rid, doc in st_docs.items():
        parent_id = rows["structType"][rid].id
        for frid, f in doc.get("fields", {}).items():
            items[frid] = child_fields("structType", f)
            items[frid].update(
                struct_type_id=parent_id, value_type_id=resolver.id(ValueType, f.get("valueType"))
            )
    if items:
        bulk_upsert(StructField, bid, items, existing)
    # properties
    items, existing = {}, existing_children.get("objectType", {})
    ot_docs = docs_by_kind.get("objectType", {})
    for model, key in ((ValueType, "valueType"), (StructType, "structType")):
        resolver.prime(
            model, (p.get(key) for d in ot_docs.values() for p in d["properties"].values())
        )
    resolver.prime(
        SharedProperty,
        (p.get("sharedProperty") for d in ot_docs.values() for p in d["properties"].values()),
    )
    for rid, doc in ot_docs.items():
        parent_id = rows["objectType"][rid].id
        for prid, p in doc.get("properties", {}).items():
            values = child_fields("objectType", p)
            values.update(
                object_type_id=parent_id,
                value_type_id=resolver.id(ValueType, p.get("valueType")),
                struct_type_id=resolver.id(StructType, p.get("structType")),
                shared_property_id=resolver.id(SharedProperty, p.get("sharedProperty")),
            )
            items[prid] = values
    if items:
        protect_examples(items.values())
        written = bulk_upsert(Property, bid, items, existing)
        resolver.cache[Property].update({r: row.id for r, row in written.items()})


def _with_new_refs(
    docs: Mapping[str, Document], before: Mapping[str, Document | None], *keys: str
) -> dict[str, Document]:
    """The documents whose references ``keys`` differ from what their rows hold now
    (``before``): the others' reference columns are already right and are not looked up."""
    out = {}
    for rid, doc in docs.items():
        old = before.get(rid)
        if (
            old is None
            or old.get("kind") != doc.get("kind")
            or any(doc.get(key) != old.get(key) for key in keys)
        ):
            out[rid] = doc
    return out


def _apply_references(
    bid, docs_by_kind, child_docs, rows, existing_children, resolver, before
) -> None:
    all_ots = docs_by_kind.get("objectType", {})
    ot_docs = _with_new_refs(all_ots, before, "primaryKey", "titleProperty", "replacedBy")
    lt_docs = _with_new_refs(docs_by_kind.get("linkType", {}), before, "foreignKeyProperty")
    # properties referred to by documents whose properties were not rewritten: in bulk
    resolver.prime(
        Property,
        [
            *(doc.get(key) for doc in ot_docs.values() for key in ("primaryKey", "titleProperty")),
            *(doc.get("foreignKeyProperty") for doc in lt_docs.values()),
        ],
    )
    # shared properties -> value / struct types
    sp_docs = _with_new_refs(
        docs_by_kind.get("sharedProperty", {}), before, "valueType", "structType"
    )
    refs = {
        rid: {
            "value_type_id": resolver.id(ValueType, doc.get("valueType")),
            "struct_type_id": resolver.id(StructType, doc.get("structType")),
        }
        for rid, doc in sp_docs.items()
    }
    bulk_upsert(SharedProperty, bid, refs, rows.get("sharedProperty", {}))

    # object types -> keys, replacement, interfaces
    refs = {
        rid: {
            "primary_key_id": resolver.id(Property, doc.get("primaryKey")),
            "title_property_id": resolver.id(Property, doc.get("titleProperty")),
            "replaced_by_id": resolver.id(ObjectType, doc.get("replacedBy")),
        }
        for rid, doc in ot_docs.items()
    }
    bulk_upsert(ObjectType, bid, refs, rows.get("objectType", {}))
    with_interfaces = _with_new_refs(all_ots, before, "interfaces")
    if with_interfaces:
        _set_m2m(ObjectType, "interfaces", Interface, with_interfaces, rows["objectType"], resolver)

    # link types -> foreign key property
    refs = {
        rid: {"foreign_key_property_id": resolver.id(Property, doc.get("foreignKeyProperty"))}
        for rid, doc in lt_docs.items()
    }
    bulk_upsert(LinkType, bid, refs, rows.get("linkType", {}))

    # interfaces -> extends, properties, link constraints
    if_docs = docs_by_kind.get("interface", {})
    extending = _with_new_refs(if_docs, before, "extends")
    if extending:
        _set_m2m(Interface, "extends", Interface, extending, rows["interface"], resolver)
    with_properties = _with_new_refs(if_docs, before, "properties")
    if with_properties:
        _set_m2m(
            Interface, "properties", SharedProperty, with_properties, rows["interface"], resolver
        )
    if_docs = child_docs.get("interface", {})
    if if_docs:
        existing = existing_children.get("interface", {})
        items = {}
        for rid, doc in if_docs.items():
            for crid, c in doc.get("linkConstraints", {}).items():
                items[crid] = child_fields("interface", c)
                items[crid].update(
                    interface_id=rows["interface"][rid].id,
                    target_object_type_id=resolver.id(ObjectType, c.get("targetObjectType")),
                    target_interface_id=resolver.id(Interface, c.get("targetInterface")),
                )
        if items:
            bulk_upsert(InterfaceLinkConstraint, bid, items, existing)


def _set_m2m(model, name, target_model, docs, rows, resolver) -> None:
    """Make the many-to-many ``name`` of these rows match their documents (diffed)."""
    field = model._meta.get_field(name)
    through = field.remote_field.through
    own, other = field.m2m_field_name() + "_id", field.m2m_reverse_field_name() + "_id"
    resolver.prime(target_model, (r for d in docs.values() for r in d.get(name, {})))
    wanted = {
        (rows[rid].id, resolver.id(target_model, ref))
        for rid, doc in docs.items()
        for ref in doc.get(name, {})
    }
    current_qs = through.objects.filter(**{f"{own}__in": [rows[rid].id for rid in docs]})
    current = {(a, b): pk for pk, a, b in current_qs.values_list("pk", own, other)}
    stale = [pk for pair, pk in current.items() if pair not in wanted]
    if stale:
        through.objects.filter(pk__in=stale).delete()
    missing = sorted(wanted - set(current))
    if missing:
        through.objects.bulk_create(
            [through(**{own: a, other: b}) for a, b in missing], batch_size=1000
        )


def as_stored(value: Any) -> Any:
    """``value`` as a JSON column gives it back (value type constraints are one).

    PostgreSQL's JSONB keeps numbers as exact decimals and prints them without exponent:
    a float Python writes in exponent form that is a whole number comes back as an int
    (``1e30`` -> ``10**30``, the decimal written, not the float's binary value), and
    ``-0.0`` as ``0.0``. Any other float comes back equal. SQLite keeps the JSON text; the
    same mapping is applied on every database so that documents do not depend on it."""
    if isinstance(value, float):
        if value == 0:
            return 0.0
        text = repr(value)
        if "e" in text and value.is_integer():
            return int(Decimal(text))
        return value
    if isinstance(value, dict):
        return {key: as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_stored(item) for item in value]
    return value
