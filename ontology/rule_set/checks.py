"""The rules of one document, read against its neighbours (:class:`Graph`).

Each check yields :class:`Violation` s naming the document (rid), the path in it and the
rule. The single-value checks are the pure functions of :mod:`ontology.rules`; the limits,
primary-key types and choices are imported from where they are declared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from versioning.domain.policy import Severity

from .. import rules
from ..choices import (
    BaseType,
    Cardinality,
    ConstraintCardinality,
    ItemType,
    Status,
    StructFieldItemType,
    StructFieldType,
    Visibility,
)
from ..kinds import KINDS, Path, outside_references

Doc = Mapping[str, Any]

#: rules whose violation is a reference to something missing or of the wrong kind
DANGLING = frozenset({"reference"})
_STATUSES = frozenset(Status.values)
_VISIBILITIES = frozenset(Visibility.values)
_BASE_TYPES = frozenset(BaseType.values)
_ITEM_TYPES = frozenset(ItemType.values)
_FIELD_TYPES = frozenset(StructFieldType.values)
_FIELD_ITEM_TYPES = frozenset(StructFieldItemType.values)
_CARDINALITIES = frozenset(Cardinality.values)
_CONSTRAINT_CARDINALITIES = frozenset(ConstraintCardinality.values)
#: link cardinalities with which the source side sees at most one target / the target side
#: at most one source (the foreign key is on the source)
_ONE_FROM_SOURCE = frozenset({Cardinality.ONE_TO_ONE, Cardinality.ONE_TO_MANY})
_ONE_FROM_TARGET = frozenset({Cardinality.ONE_TO_ONE})


@dataclass(frozen=True)
class Violation:
    """A rule a document breaks: ``rid`` of the top-level document, ``path`` in it.

    ``severity`` as the merge's conflicts have it: an ERROR refuses the write (a BLOCK
    conflict in a merge); a WARN (a suspected PII property, :mod:`.pii`) is a finding a
    steward confirms or dismisses, never a refusal."""

    rid: str
    path: Path
    rule: str
    message: str
    kind: str = ""
    api_name: str = ""
    severity: Severity = Severity.ERROR

    @property
    def dangling(self) -> bool:
        return self.rule in DANGLING

    def __str__(self) -> str:
        where = ".".join(self.path) or "(document)"
        return (
            f"{self.kind} '{self.api_name}' ({self.rid}) at {where}: {self.message} "
            f"[rule {self.rule}]"
        )


class Graph(Protocol):
    """The documents a check may read: any document by rid, and who refers to whom."""

    def get(self, rid: Any) -> Doc | None: ...

    def referrers(self, rids: set[str], kinds: frozenset[str]) -> set[str]:
        """Rids of the top-level documents of ``kinds`` that refer to any of ``rids``."""
        ...


def check_document(graph: Graph, rid: str, doc: Doc) -> list[Violation]:
    return list(_Check(graph, rid, doc).run())


def _shown(doc: Doc | None) -> str:
    return f"'{doc.get('apiName')}'" if doc else "?"


class _Check:
    def __init__(self, graph: Graph, rid: str, doc: Doc) -> None:
        self.graph, self.rid, self.doc = graph, rid, doc
        self.kind = doc.get("kind")

    def v(self, path: Path, rule: str, message: str) -> Violation:
        return Violation(
            self.rid, path, rule, message, str(self.kind), str(self.doc.get("apiName"))
        )

    def run(self) -> Iterator[Violation]:
        spec = KINDS.get(self.kind) if isinstance(self.kind, str) else None
        if spec is None or spec.parent is not None:
            yield self.v(("kind",), "kind", f"Unknown document kind {self.kind!r}.")
            return
        yield from self.name(("apiName",), self.doc.get("apiName"), spec.api_name_case)
        yield from self.status((), self.doc)
        yield from self.references()
        yield from getattr(self, f"check_{self.kind}")()

    # --- shared pieces -----------------------------------------------------------------

    # The pieces below run for every property of every checked document: they return
    # lists (nearly always empty), not generators, which cost more to make than the check.

    def name(self, path: Path, name: Any, case: str) -> list[Violation]:
        if not isinstance(name, str):
            return [self.v(path, "api-name", "An API name is required.")]
        return [self.v(path, "api-name", m) for m in rules.check_api_name(name, case)]

    def choice(self, path: Path, value: Any, allowed: frozenset[str]) -> list[Violation]:
        if value in allowed:
            return []
        return [self.v(path, "choice", f"{value!r} is not one of {', '.join(sorted(allowed))}.")]

    def status(self, at: Path, doc: Doc) -> list[Violation]:
        status = doc.get("status")
        out = self.choice((*at, "status"), status, _STATUSES)
        if status != Status.DEPRECATED:
            return out
        dep = doc.get("deprecation") if isinstance(doc.get("deprecation"), Mapping) else {}
        if not str(dep.get("message") or "").strip():
            out.append(
                self.v(
                    (*at, "deprecation", "message"),
                    "deprecation",
                    "A deprecated entity needs a deprecation message.",
                )
            )
        try:
            dt.date.fromisoformat(str(dep.get("deadline")))
        except ValueError:
            out.append(
                self.v(
                    (*at, "deprecation", "deadline"),
                    "deprecation",
                    "A deprecated entity needs a deadline (YYYY-MM-DD).",
                )
            )
        return out

    def references(self) -> Iterator[Violation]:
        """Every reference to another top-level document names one of the right kind."""
        for path, ref, spec in outside_references(self.doc):
            if ref is None:
                continue  # empty (a document's own children are checked below)
            target = self.graph.get(ref)
            if target is None:
                yield self.v(path, "reference", f"{path[-1]} points at {ref}, which is gone.")
            elif target.get("kind") != spec.target:
                yield self.v(
                    path,
                    "reference",
                    f"{path[-1]} points at {ref}, a {target.get('kind')}, not a {spec.target}.",
                )

    def children(self, key: str) -> dict[str, Any]:
        value = self.doc.get(key)
        return dict(value) if isinstance(value, Mapping) else {}

    def child_names(self, key: str, case: str) -> Iterator[Violation]:
        seen: dict[str, str] = {}
        for crid, child in self.children(key).items():
            name = child.get("apiName") if isinstance(child, Mapping) else None
            yield from self.name((key, crid, "apiName"), name, case)
            lowered = str(name).lower()
            if lowered in seen:
                yield self.v(
                    (key, crid, "apiName"),
                    "unique-name",
                    f"'{name}' is used twice in {_shown(self.doc)} (also by {seen[lowered]}).",
                )
            seen.setdefault(lowered, crid)

    def typed(self, at: Path, holder: Doc, *, shared: bool = False) -> list[Violation]:
        """Base type, array item type, value type and struct type as one consistent whole."""
        base, item = holder.get("baseType"), holder.get("itemType") or None
        out = self.choice((*at, "baseType"), base, _BASE_TYPES)
        if item is not None:
            out += self.choice((*at, "itemType"), item, _ITEM_TYPES)
        shape = rules.check_type_shape(base, item, holder.get("structType") is not None)
        for name, messages in shape.items():
            key = {"item_type": "itemType", "struct_type": "structType"}[name]
            out += [self.v((*at, key), "type-shape", message) for message in messages]
        if holder.get("valueType"):
            out += self.value_type_match(at, holder)
        return out

    def value_type_match(self, at: Path, holder: Doc) -> list[Violation]:
        """A property's, shared property's or struct field's value type is of its type."""
        base, item = holder.get("baseType"), holder.get("itemType") or None
        vt = self.graph.get(holder.get("valueType")) if holder.get("valueType") else None
        matches = vt is None or vt.get("kind") != "valueType"
        if not matches and (vt.get("baseType"), vt.get("itemType") or None) != (base, item):
            return [
                self.v(
                    (*at, "valueType"),
                    "value-type-match",
                    f"The value type {_shown(vt)} is of type {_label(vt)}, "
                    f"but this is {_label(holder)}.",
                )
            ]
        return []

    # --- per kind ----------------------------------------------------------------------

    def check_valueType(self) -> Iterator[Violation]:
        doc = self.doc
        base, item = doc.get("baseType"), doc.get("itemType") or None
        yield from self.choice(("baseType",), base, _BASE_TYPES - {BaseType.STRUCT})
        if item is not None:
            yield from self.choice(("itemType",), item, _ITEM_TYPES - {BaseType.STRUCT})
        shape = rules.check_type_shape(base, item, False)
        shape.pop("struct_type", None)
        for message in shape.get("item_type", ()):
            yield self.v(("itemType",), "type-shape", message)
        if not shape and base in _BASE_TYPES:
            for message in rules.check_constraints(doc.get("constraints"), base, item):
                yield self.v(("constraints",), "constraints", message)

    def check_structType(self) -> Iterator[Violation]:
        fields = self.children("fields")
        for message in rules.check_struct_field_count(len(fields)):
            yield self.v(("fields",), "struct-fields", message)
        yield from self.child_names("fields", KINDS["structField"].api_name_case)
        for frid, field in fields.items():
            if not isinstance(field, Mapping):
                continue
            at = ("fields", frid)
            base, item = field.get("baseType"), field.get("itemType") or None
            yield from self.choice((*at, "baseType"), base, _FIELD_TYPES)
            if item is not None:
                yield from self.choice((*at, "itemType"), item, _FIELD_ITEM_TYPES)
            for message in rules.check_type_shape(base, item, False).get("item_type", ()):
                yield self.v((*at, "itemType"), "type-shape", message)
            yield from self.value_type_match(at, field)

    def check_sharedProperty(self) -> Iterator[Violation]:
        yield from self.typed((), self.doc)
        yield from self.examples((), self.doc)

    def examples(self, at: Path, holder: Doc) -> list[Violation]:
        examples = holder.get("examples", [])
        if type(examples) is list and not examples:  # the common case: nothing to check
            return []
        return [self.v((*at, "examples"), "examples", m) for m in rules.check_examples(examples)]

    def check_interface(self) -> Iterator[Violation]:
        doc = self.doc
        if self.rid in (doc.get("extends") or {}):
            yield self.v(
                ("extends", self.rid), "interface-extends", "An interface cannot extend itself."
            )
        elif self.rid in _ancestors(self.graph, self.rid, doc):
            yield self.v(
                ("extends",), "interface-extends", "Interfaces cannot extend each other in a cycle."
            )
        yield from self.child_names("linkConstraints", KINDS["linkConstraint"].api_name_case)
        for crid, lc in self.children("linkConstraints").items():
            if not isinstance(lc, Mapping):
                continue
            at = ("linkConstraints", crid)
            if (lc.get("targetObjectType") is None) == (lc.get("targetInterface") is None):
                yield self.v(
                    at,
                    "link-constraint-target",
                    "A link constraint targets exactly one object type or interface.",
                )
            yield from self.choice(
                (*at, "cardinality"), lc.get("cardinality"), _CONSTRAINT_CARDINALITIES
            )

    def check_objectType(self) -> Iterator[Violation]:
        doc, props = self.doc, self.children("properties")
        yield from self.choice(("visibility",), doc.get("visibility"), _VISIBILITIES)
        replaced = doc.get("replacedBy")
        if replaced is not None:
            if replaced == self.rid:
                yield self.v(
                    ("replacedBy",), "replacement", "An object type cannot replace itself."
                )
            elif doc.get("status") != Status.DEPRECATED:
                yield self.v(
                    ("replacedBy",),
                    "replacement",
                    "Only a deprecated object type names a replacement.",
                )
        yield from self.child_names("properties", KINDS["property"].api_name_case)
        experimental = doc.get("status") == Status.EXPERIMENTAL
        for prid, prop in props.items():
            if not isinstance(prop, Mapping):
                continue
            at = ("properties", prid)
            yield from self.status(at, prop)
            yield from self.typed(at, prop)
            yield from self.examples(at, prop)
            if experimental and prop.get("status") == Status.ACTIVE:
                yield self.v(
                    (*at, "status"),
                    "experimental",
                    "A property of an experimental object type cannot be active.",
                )
            sp = self.graph.get(prop.get("sharedProperty")) if prop.get("sharedProperty") else None
            if sp is not None and sp.get("kind") == "sharedProperty":
                mine = (prop.get("baseType"), prop.get("itemType") or None, prop.get("structType"))
                theirs = (sp.get("baseType"), sp.get("itemType") or None, sp.get("structType"))
                if mine != theirs:
                    yield self.v(
                        (*at, "sharedProperty"),
                        "shared-property-match",
                        f"The shared property {_shown(sp)} is of type {_label(sp)}, "
                        f"but this is {_label(prop)}.",
                    )
        yield from self.keys(props)
        yield from self.interfaces(props)

    def keys(self, props: dict[str, Any]) -> Iterator[Violation]:
        for key, rule in (("primaryKey", "primary-key"), ("titleProperty", "title-property")):
            chosen = self.doc.get(key)
            if chosen is None:
                continue
            prop = props.get(chosen)
            if not isinstance(prop, Mapping):
                yield self.v(
                    (key,), "reference", f"{key} {chosen} is not a property of this object type."
                )
                continue
            if key == "primaryKey":
                errors, _ = rules.check_primary_key_type(prop.get("baseType"), prop.get("itemType"))
            else:
                errors = rules.check_title_type(prop.get("baseType"))
            for message in errors:
                yield self.v((key,), rule, message)

    def interfaces(self, props: dict[str, Any]) -> Iterator[Violation]:
        """An implemented interface (with the ones it extends) asks for shared properties
        and, through required link constraints, for link types."""
        used = {p.get("sharedProperty") for p in props.values() if isinstance(p, Mapping)}
        links: list[tuple[str, Doc]] | None = None
        for irid in self.doc.get("interfaces") or {}:
            iface = self.graph.get(irid)
            if iface is None or iface.get("kind") != "interface":
                continue  # reported as a reference
            chain = [iface, *(self.graph.get(a) for a in _ancestors(self.graph, irid, iface))]
            chain = [i for i in chain if i is not None and i.get("kind") == "interface"]
            required = {sp for i in chain for sp in (i.get("properties") or {})}
            lacking = sorted(_shown(self.graph.get(sp)).strip("'") for sp in required - used)
            if lacking:
                yield self.v(
                    ("interfaces", irid),
                    "interface-properties",
                    f"Implementing {_shown(iface)} needs properties using the shared "
                    f"properties: {', '.join(lacking)}.",
                )
            for owner in chain:
                for lc in (owner.get("linkConstraints") or {}).values():
                    if not isinstance(lc, Mapping) or not lc.get("required"):
                        continue
                    if links is None:
                        links = self.links()
                    if not any(self.fulfils(link, lc) for link in links):
                        yield self.v(
                            ("interfaces", irid),
                            "interface-link-constraints",
                            f"Implementing {_shown(iface)} needs a link "
                            f"'{lc.get('apiName')}' to {self.constraint_target(lc)} "
                            f"({lc.get('cardinality')}, required by {_shown(owner)}).",
                        )

    def links(self) -> list[tuple[str, Doc]]:
        """The link types with this object type at either end, itself or through an
        interface it implements (directly or by one that extends it): (its side, the link)."""
        mine = set()
        for irid in self.doc.get("interfaces") or {}:
            mine.add(irid)
            found = self.graph.get(irid)
            if found is not None and found.get("kind") == "interface":
                mine.update(_ancestors(self.graph, irid, found))
        out = []
        for lrid in sorted(self.graph.referrers({self.rid} | mine, frozenset({"linkType"}))):
            link = self.graph.get(lrid)
            if link is None:
                continue
            for side in ("source", "target"):
                if link.get(side) == self.rid or link.get(f"{side}Interface") in mine:
                    out.append((side, link))
        return out

    def fulfils(self, side_link: tuple[str, Doc], lc: Doc) -> bool:
        """Whether the link, seen from ``side``, is one ``lc`` asks for: its other end is
        the constraint's object type, or an object type implementing the constraint's
        interface, or that interface itself or one extending it."""
        side, link = side_link
        far = "target" if side == "source" else "source"
        other = self.graph.get(link.get(far) or link.get(f"{far}Interface"))
        if other is None:
            return False
        if other.get("kind") == "interface":
            wanted = lc.get("targetInterface")
            rid = other.get("rid")
            if wanted is None or (
                wanted != rid and wanted not in _ancestors(self.graph, rid, other)
            ):
                return False
        elif lc.get("targetObjectType") is not None:
            if other.get("rid") != lc["targetObjectType"]:
                return False
        elif lc.get("targetInterface") not in (other.get("interfaces") or {}):
            return False
        if lc.get("cardinality") == ConstraintCardinality.ONE:
            single = _ONE_FROM_SOURCE if side == "source" else _ONE_FROM_TARGET
            return link.get("cardinality") in single
        return True

    def constraint_target(self, lc: Doc) -> str:
        ref = lc.get("targetObjectType") or lc.get("targetInterface")
        return _shown(self.graph.get(ref)) if ref else "?"

    def check_linkType(self) -> Iterator[Violation]:
        doc = self.doc
        cardinality = doc.get("cardinality")
        yield from self.choice(("cardinality",), cardinality, _CARDINALITIES)
        names = {}
        for side in ("sourceSide", "targetSide"):
            value = doc.get(side) if isinstance(doc.get(side), Mapping) else {}
            yield from self.name((side, "apiName"), value.get("apiName"), rules.CAMEL)
            yield from self.choice((side, "visibility"), value.get("visibility"), _VISIBILITIES)
            names[side] = str(value.get("apiName", "")).lower()
        yield from self.ends(cardinality)
        ends = [doc.get(side) or doc.get(f"{side}Interface") for side in ("source", "target")]
        if ends[0] == ends[1] and names["sourceSide"] == names["targetSide"]:
            yield self.v(
                ("targetSide", "apiName"),
                "link-sides",
                "A self-link needs different names for its two sides.",
            )
        yield from self.foreign_key()

    def ends(self, cardinality: Any) -> Iterator[Violation]:
        """Each end is one object type or one interface; an interface end only on a
        many-to-many link (:func:`ontology.rules.check_link_end`)."""
        for side in ("source", "target"):
            key = f"{side}Interface"
            found = rules.check_link_end(
                side, self.doc.get(side) is not None, self.doc.get(key) is not None, cardinality
            )
            for where, messages in found.items():
                for message in messages:
                    yield self.v((side if where == "end" else key,), "link-end", message)

    def foreign_key(self) -> Iterator[Violation]:
        doc, path = self.doc, ("foreignKeyProperty",)
        fk = doc.get("foreignKeyProperty")
        if doc.get("cardinality") == Cardinality.MANY_TO_MANY:
            if fk is not None:
                yield self.v(
                    path, "foreign-key", "A many-to-many link has no foreign-key property."
                )
            return
        source, target = self.graph.get(doc.get("source")), self.graph.get(doc.get("target"))
        if source is None or target is None:
            return  # reported as a reference
        if fk is None:
            yield self.v(
                path,
                "foreign-key",
                "A one-to-one or one-to-many link names the source property that holds the "
                "target's primary key.",
            )
            return
        prop = (source.get("properties") or {}).get(fk)
        if not isinstance(prop, Mapping):
            yield self.v(
                path,
                "reference",
                f"Foreign key {fk} is not a property of the source object type {_shown(source)}.",
            )
            return
        pk = (target.get("properties") or {}).get(target.get("primaryKey"))
        if not isinstance(pk, Mapping):
            yield self.v(
                path,
                "foreign-key",
                f"The target {_shown(target)} has no primary key to refer to.",
            )
        elif (prop.get("baseType"), prop.get("itemType") or None) != (
            pk.get("baseType"),
            pk.get("itemType") or None,
        ):
            yield self.v(
                path,
                "foreign-key",
                f"The foreign key {_shown(prop)} of link type {_shown(doc)} is {_label(prop)} "
                f"but the primary key {_shown(pk)} of its target {_shown(target)} is "
                f"{_label(pk)}.",
            )


def _label(holder: Doc) -> str:
    if holder.get("baseType") == BaseType.ARRAY:
        return f"array<{holder.get('itemType')}>"
    return str(holder.get("baseType"))


def _ancestors(graph: Graph, rid: str, doc: Doc) -> list[str]:
    """Every interface ``doc`` extends, directly or not (cycles are tolerated)."""
    seen: list[str] = []
    frontier = list(doc.get("extends") or {})
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.append(current)
        found = graph.get(current)
        if found is not None and found.get("kind") == "interface":
            frontier.extend(found.get("extends") or {})
    return seen
