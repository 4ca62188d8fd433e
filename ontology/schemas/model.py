"""What the three generators share: the documents of a tree indexed once, the names of
the generated types and fields (unique, stable), and each object type's fields.

Pure Python over canonical documents (docs/documents.md); no Django, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

Document = dict[str, Any]

#: names the generated schemas define themselves (GraphQL's built-in and custom scalars,
#: the query root, OpenAPI's error schema): an ontology type with one of these names gets a suffix
BUILT_IN_NAMES = frozenset(
    {
        "String",
        "Int",
        "Float",
        "Boolean",
        "ID",
        "Query",
        "Mutation",
        "Subscription",
        "Long",
        "Decimal",
        "Date",
        "Timestamp",
        "Time",
        "GeoPoint",
        "GeoShape",
        "Attachment",
        "Error",
    }
)

#: suffix that disambiguates a kind's type name from another kind's with the same name
_SUFFIX = {
    "objectType": "Object",
    "interface": "Interface",
    "structType": "Struct",
    "valueType": "Value",
}
#: the kinds that become named types, in the order they claim names
NAMED_KINDS = ("objectType", "interface", "structType", "valueType")


def _order(doc: Mapping[str, Any]) -> tuple[str, str]:
    return (str(doc.get("apiName", "")).lower(), str(doc.get("rid", "")))


def _children(doc: Mapping[str, Any], key: str) -> list[tuple[str, Document]]:
    items = (doc.get(key) or {}).items()
    return sorted(items, key=lambda kv: (kv[1].get("position", 0), _order(kv[1]), kv[0]))


def deprecation_reason(doc: Mapping[str, Any]) -> str | None:
    """The deprecation message of a deprecated entity or property, else ``None``."""
    if doc.get("status") != "DEPRECATED":
        return None
    dep = doc.get("deprecation") or {}
    message = dep.get("message") or "Deprecated."
    if dep.get("deadline"):
        message = f"{message} (removal after {dep['deadline']})"
    return message


@dataclass(frozen=True)
class Field:
    """A field of a generated object type: a property, or one side of a link."""

    name: str
    source: Document  # the property, or the link type document
    link: str | None = None  # "source" / "target": which side of the link this field is
    many: bool = False  # a link field holding many objects
    target: str | None = None  # the object type or interface rid a link field points at


class Ontology:
    """The documents of a tree, indexed for generators."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.by_rid: dict[str, Document] = {}
        self.by_kind: dict[str, list[Document]] = {}
        for doc in documents:
            self.by_rid[doc["rid"]] = doc
            self.by_kind.setdefault(doc["kind"], []).append(doc)
        for docs in self.by_kind.values():
            docs.sort(key=_order)

    def of(self, kind: str) -> list[Document]:
        return self.by_kind.get(kind, [])

    def get(self, rid: str | None, kind: str) -> Document | None:
        doc = self.by_rid.get(rid) if rid else None
        return doc if doc is not None and doc.get("kind") == kind else None

    @cached_property
    def type_names(self) -> dict[str, str]:
        """rid -> generated type name, unique across kinds and built-in names."""
        taken = set(BUILT_IN_NAMES)
        out: dict[str, str] = {}
        for kind in NAMED_KINDS:
            for doc in self.of(kind):
                base = str(doc["apiName"])
                base = base[:1].upper() + base[1:]
                name = base if base not in taken else base + _SUFFIX[kind]
                n = 2
                while name in taken:
                    name = f"{base}{_SUFFIX[kind]}{n}"
                    n += 1
                taken.add(name)
                out[doc["rid"]] = name
        return out

    def name(self, rid: str) -> str:
        return self.type_names[rid]

    def properties(self, doc: Mapping[str, Any]) -> list[tuple[str, Document]]:
        return _children(doc, "properties")

    def is_pii(self, holder: Mapping[str, Any]) -> bool:
        """A property or shared property marked PII; a property also when the shared
        property it is based on is."""
        if holder.get("pii"):
            return True
        shared = self.get(holder.get("sharedProperty"), "sharedProperty")
        return bool(shared and shared.get("pii"))

    def struct_fields(self, doc: Mapping[str, Any]) -> list[tuple[str, Document]]:
        return _children(doc, "fields")

    def link_constraints(self, doc: Mapping[str, Any]) -> list[tuple[str, Document]]:
        return _children(doc, "linkConstraints")

    def end(self, link: Mapping[str, Any], side: str) -> str | None:
        """The rid of the object type or interface at ``side`` of a link (``None``: gone)."""
        rid = link.get(side) or link.get(f"{side}Interface")
        if self.get(rid, "objectType") is None and self.get(rid, "interface") is None:
            return None
        return rid

    @cached_property
    def links_of(self) -> dict[str, list[tuple[Document, str]]]:
        """object type or interface rid -> [(link type, side)] of the links it is an end
        of, where ``side`` is the end it is on."""
        out: dict[str, list[tuple[Document, str]]] = {}
        for link in self.of("linkType"):
            source, target = self.end(link, "source"), self.end(link, "target")
            if source is None or target is None:
                continue
            out.setdefault(source, []).append((link, "source"))
            out.setdefault(target, []).append((link, "target"))
        return out

    def link_fields(self, rid: str, taken: set[str]) -> list[Field]:
        """One field per link end ``rid`` (an object type or interface) is on: the source
        side holds the target, and many only in a many-to-many link; the target side holds
        the sources, many unless one-to-one. A name already ``taken`` gets ``Link`` (then a
        number) appended."""
        out: list[Field] = []
        for link, side in self.links_of.get(rid, []):
            card = link.get("cardinality")
            if side == "source":
                label = (link.get("sourceSide") or {}).get("apiName") or link["apiName"]
                many, target = card == "MANY_TO_MANY", self.end(link, "target")
            else:
                label = (link.get("targetSide") or {}).get("apiName") or link["apiName"]
                many, target = card != "ONE_TO_ONE", self.end(link, "source")
            name = unique(str(label), taken, "Link")
            out.append(Field(name, link, side, many, target))
        return out

    def fields(self, doc: Mapping[str, Any], *, inherited: bool = False) -> list[Field]:
        """An object type's fields: its properties, then one per link end it is on
        (:meth:`link_fields`); ``inherited``: also those of the links ending on an
        interface it implements. Names are unique within the type."""
        out: list[Field] = []
        taken: set[str] = set()
        for _, prop in self.properties(doc):
            name = unique(str(prop["apiName"]), taken, "")
            out.append(Field(name, prop))
        out.extend(self.link_fields(doc["rid"], taken))
        if inherited:
            for rid in self.interfaces_of(doc):
                out.extend(self.link_fields(rid, taken))
        return out

    def implementers(self, interface: str) -> list[str]:
        """The object types implementing ``interface``, directly or through ``extends``,
        ordered by name."""
        found = [d["rid"] for d in self.of("objectType") if interface in self.interfaces_of(d)]
        return sorted(found, key=self.name)

    @cached_property
    def link_interfaces(self) -> list[str]:
        """The interfaces some link ends on, ordered by name."""
        ends = {rid for rid in self.links_of if self.get(rid, "interface") is not None}
        return sorted(ends, key=self.name)

    @cached_property
    def extends(self) -> dict[str, list[str]]:
        """interface rid -> the interfaces it extends, with cycles cut: edges are taken in
        name order and one that would close a cycle is left out."""
        edges: dict[str, set[str]] = {doc["rid"]: set() for doc in self.of("interface")}

        def reaches(start: str, goal: str) -> bool:
            stack, seen = [start], set()
            while stack:
                rid = stack.pop()
                if rid == goal:
                    return True
                if rid not in seen:
                    seen.add(rid)
                    stack.extend(edges.get(rid, ()))
            return False

        for doc in self.of("interface"):
            for parent in sorted(doc.get("extends") or {}, key=self._name_or_rid):
                if self.get(parent, "interface") is None or parent == doc["rid"]:
                    continue
                if not reaches(parent, doc["rid"]):
                    edges[doc["rid"]].add(parent)
        return {rid: sorted(parents, key=self.name) for rid, parents in edges.items()}

    def _name_or_rid(self, rid: str) -> str:
        return self.type_names.get(rid, rid)

    @cached_property
    def interface_closure(self) -> dict[str, list[str]]:
        """interface rid -> every interface it extends, directly or not, ordered by name."""
        out: dict[str, list[str]] = {}
        for rid in self.extends:
            seen: set[str] = set()
            stack = list(self.extends[rid])
            while stack:
                parent = stack.pop()
                if parent not in seen:
                    seen.add(parent)
                    stack.extend(self.extends[parent])
            out[rid] = sorted(seen, key=self.name)
        return out

    def interfaces_of(self, doc: Mapping[str, Any]) -> list[str]:
        """Every interface an object type implements, directly or through ``extends``."""
        found: set[str] = set()
        for rid in doc.get("interfaces") or {}:
            if self.get(rid, "interface") is not None:
                found.add(rid)
                found.update(self.interface_closure[rid])
        return sorted(found, key=lambda r: self.name(r))


def unique(name: str, taken: set[str], suffix: str) -> str:
    """``name``, or ``name + suffix`` (then with a number) when taken; marks it taken."""
    candidate = name
    n = 2
    if candidate in taken:
        candidate = name + suffix if suffix else f"{name}{n}"
    while candidate in taken:
        n += 1
        candidate = f"{name}{suffix}{n}"
    taken.add(candidate)
    return candidate
