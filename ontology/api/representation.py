"""The REST representation of every kind: its document, made readable (docs/api.md).

There is one mapping from rows to data, :mod:`ontology.documents` (what the versioning
store holds); this module turns those documents into REST bodies by the map of
:mod:`ontology.kinds` alone, for every kind alike:

- a child mapping (``properties``, ``fields``, ``linkConstraints``) becomes a list in
  position order (then by api name), each child with its ``rid`` and without its
  ``position``; a key the document keeps only when set (``SET_ONLY_KEYS``) reads null,
  one it keeps only when not empty (``EMPTY_LIST_KEYS``) reads ``[]``;
- a reference (a rid) becomes ``{rid, apiName}``; a set of references a list of them, by
  api name;
- ``createdAt`` / ``updatedAt`` (row timestamps, not part of the document) and the kind's
  derived fields (:data:`DERIVED`: an object type's rule ``warnings``) are added;
- then ``mask`` (identity by default) may hide what the reader may not see.

So a field added to a document shows in REST with no change here. Reads are batched:
:func:`entities` reads a page in the fixed number of queries of ``to_documents``, the
referenced api names in one query per referenced kind (none for an entity's own
children), and builds plain dicts in one pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from oms_site import prepared
from versioning.store import uuid_text

from .. import rules
from ..documents import (
    EMPTY_LIST_KEYS,
    SET_ONLY_KEYS,
    Document,
    object_type_columns,
    object_type_documents,
    to_documents,
)
from ..kinds import KINDS
from ..models import ObjectType

Body = dict[str, Any]
#: ``(kind, body) -> body``: what a reader may see of an entity's REST body
Mask = Callable[[str, Body], Body]
#: ``(rid, createdAt, updatedAt)`` of a top-level row (an object type's own columns may
#: follow: see :func:`stamped`)
Stamped = tuple


def unmasked(kind: str, body: Body) -> Body:
    return body


def _object_type_warnings(doc: Document) -> list[str]:
    """An object type's rule warnings (e.g. a long primary key): not errors, shown so."""
    pk = doc["properties"].get(doc["primaryKey"]) if doc["primaryKey"] else None
    if pk is None:
        return []
    return rules.check_primary_key_type(pk["baseType"], pk["itemType"])[1]


#: REST-only fields a kind derives from its document
DERIVED: dict[str, dict[str, Callable[[Document], Any]]] = {
    "objectType": {"warnings": _object_type_warnings},
}


@dataclass(frozen=True)
class _ChildPlan:
    key: str
    refs: tuple[tuple[str, str], ...]  # (child key, target kind)
    unset: tuple[str, ...]  # keys absent when unset: null in REST
    empty: tuple[str, ...]  # keys absent when empty: [] in REST


@dataclass(frozen=True)
class _Plan:
    refs: tuple[tuple[str, str], ...]  # (key holding one rid, target kind)
    ref_sets: tuple[tuple[str, str], ...]  # (key holding a set of rids, target kind)
    children: tuple[_ChildPlan, ...]


@cache
def _plan(kind_name: str) -> _Plan:
    """Where a kind's documents hold references and children, from :data:`KINDS`."""
    kind = KINDS[kind_name]
    child_keys = {c.key: c.kind for c in kind.children}
    refs, ref_sets, child_refs = [], [], {key: [] for key in child_keys}
    for ref in kind.references:
        match ref.path:
            case (key,):
                refs.append((key, ref.target))
            case (key, "*"):
                ref_sets.append((key, ref.target))
            case (key, "*", inner) if key in child_keys:
                child_refs[key].append((inner, ref.target))
            case _:
                raise ValueError(f"{kind_name}: no REST form for a reference at {ref.path}")
    return _Plan(
        tuple(refs),
        tuple(ref_sets),
        tuple(
            _ChildPlan(
                key,
                tuple(child_refs[key]),
                SET_ONLY_KEYS.get(child, ()),
                EMPTY_LIST_KEYS.get(child, ()),
            )
            for key, child in child_keys.items()
        ),
    )


def _in_order(item: tuple[str, dict]) -> tuple:
    return item[1].get("position", 0), item[1]["apiName"]


class _Bodies:
    """Builds the bodies of several documents in one pass: every reference becomes a
    ``{rid, apiName}`` whose name is filled in afterwards, by :meth:`name`, from the
    documents' own children or one query per referenced kind."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict[str, Any]]] = []  # (target kind, reference)
        self.own: dict[str, str] = {}  # rid -> api name of the documents' children
        self.sets: list[list[dict[str, Any]]] = []  # reference lists, sorted once named

    def ref(self, rid: str | None, target: str) -> dict[str, Any] | None:
        if rid is None:
            return None
        out = {"rid": rid, "apiName": None}
        self.pending.append((target, out))
        return out

    def body(self, doc: Document, created_at: dt.datetime, updated_at: dt.datetime) -> Body:
        plan = _plan(doc["kind"])
        ref, pending, own = self.ref, self.pending.append, self.own
        out = {k: v for k, v in doc.items() if k != "kind"}
        for key in EMPTY_LIST_KEYS.get(doc["kind"], ()):  # absent when empty: []
            out.setdefault(key, [])
        for key, target in plan.refs:  # a set-only reference absent: null
            out[key] = ref(doc.get(key), target)
        for key, target in plan.ref_sets:
            out[key] = refs = [ref(rid, target) for rid in doc[key]]
            self.sets.append(refs)
        for child in plan.children:
            items = []
            for crid, c in sorted(doc[child.key].items(), key=_in_order):
                own[crid] = c["apiName"]
                item = {"rid": crid, **c}
                item.pop("position", None)
                for key in child.unset:
                    item.setdefault(key, None)
                for key in child.empty:
                    item.setdefault(key, [])
                for key, target in child.refs:
                    rid = item[key]
                    if rid is not None:
                        item[key] = named = {"rid": rid, "apiName": None}
                        pending((target, named))
                items.append(item)
            out[child.key] = items
        for key, derive in DERIVED.get(doc["kind"], {}).items():
            out[key] = derive(doc)
        out["createdAt"] = created_at.isoformat()
        out["updatedAt"] = updated_at.isoformat()
        return out

    def name(self, branch_id: int) -> None:
        names = self.own
        wanted: dict[str, set[str]] = {}
        for target, r in self.pending:
            if r["rid"] not in names:
                wanted.setdefault(target, set()).add(r["rid"])
        for target, rids in wanted.items():
            rows = prepared.rows(f"names.{target}", _names_query(target), branch_id, sorted(rids))
            names.update((str(rid), name) for rid, name in rows)
        for _, r in self.pending:
            r["apiName"] = names.get(r["rid"])
        for refs in self.sets:
            refs.sort(key=lambda r: r["apiName"] or "")


@cache
def _names_query(target: str):
    """The query of the api names of ``target`` rows by rid (prepared: one per kind)."""

    def build(branch_id: int, rids: list[str]):
        return (
            KINDS[target]
            .model._default_manager.filter(branch_id=branch_id, rid__in=rids)
            .order_by()
            .values_list(uuid_text("rid"), "api_name")
        )

    return build


def represent(
    branch_id: int,
    items: Iterable[tuple[Document, dt.datetime, dt.datetime]],
    *,
    mask: Mask = unmasked,
) -> list[Body]:
    """The REST bodies of top-level documents (each with its row's ``createdAt`` and
    ``updatedAt``), in their order; the names of what they refer to are read from the
    branch, one query per referenced kind."""
    bodies = _Bodies()
    kinds_and_bodies = [(doc["kind"], bodies.body(doc, c, u)) for doc, c, u in items]
    bodies.name(branch_id)
    return [mask(kind, body) for kind, body in kinds_and_bodies]


def entities(
    branch_id: int, kind: str, rows: Iterable[Stamped], *, mask: Mask = unmasked
) -> list[Body]:
    """The REST bodies of these top-level rows of one kind, in their order: their
    documents read in the fixed number of queries of ``to_documents`` (an object type's
    own row, when :func:`stamped` read it along, is not read again)."""
    rows = list(rows)
    if not rows:
        return []
    if kind == "objectType" and len(rows[0]) > 3:
        docs = object_type_documents(branch_id, [row[3:] for row in rows])
    else:
        docs = to_documents(branch_id, [str(row[0]) for row in rows], kinds=[kind])
    return represent(
        branch_id,
        ((docs[rid], row[1], row[2]) for row in rows if (rid := str(row[0])) in docs),
        mask=mask,
    )


def stamped(queryset):
    """A queryset's rows as :data:`Stamped` (lazily, in its order: a page of it is read
    by slicing): what :func:`entities` reads. An object type's own columns come along
    (:func:`ontology.documents.object_type_columns`): one query less per page or read."""
    if queryset.model is ObjectType:
        return queryset.values_list(
            uuid_text("rid"), "created_at", "updated_at", *object_type_columns()
        )
    return queryset.values_list(uuid_text("rid"), "created_at", "updated_at")
