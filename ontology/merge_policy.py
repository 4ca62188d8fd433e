"""The ontology's merge policy: resolution strategies and rules of a merged tree.

Pure Python over canonical documents (docs/documents.md); the versioning merge engine
calls it through :class:`versioning.domain.policy.Policy`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from typing import Any

from versioning.domain.policy import MISSING, Path, Problem, Resolution

WIDENING_CHAINS = (("byte", "short", "integer", "long"), ("float", "double"))
_RANK = {
    t: (chain, pos) for chain, types in enumerate(WIDENING_CHAINS) for pos, t in enumerate(types)
}

PRIMARY_KEY_TYPES = frozenset(
    {"string", "integer", "short", "long", "date", "timestamp", "boolean", "byte"}
)
MAX_STRUCT_FIELDS = 10
BOUND_CONSTRAINTS = frozenset({"range", "length", "arraySize"})

# The kinds whose removal can leave a reference dangling, with the kinds that refer to them.
_REFERRERS = {
    "objectType": frozenset({"linkType", "interface"}),
    "interface": frozenset({"objectType", "interface"}),
    "sharedProperty": frozenset({"objectType", "interface"}),
    "valueType": frozenset({"objectType", "sharedProperty"}),
    "structType": frozenset({"objectType", "sharedProperty"}),
}
_ALL_REFERRERS = frozenset().union(*_REFERRERS.values())


class OntologyPolicy:
    """Type widening and constraint unions (WARN); referential and rule checks (BLOCK)."""

    def resolve(
        self, entity_kind: str, path: Path, base: Any, ours: Any, theirs: Any
    ) -> Resolution | None:
        if not path:
            return None
        leaf = path[-1]
        if leaf == "baseType":
            return _widest(base, ours, theirs)
        if "constraints" not in path[:-1]:
            return None
        if leaf in BOUND_CONSTRAINTS:
            return _bounds_union(ours, theirs)
        if leaf == "enum" and (ours is MISSING or theirs is MISSING):
            return Resolution("value", MISSING)  # no enum on one side: any value is allowed
        if leaf == "values" and path[-2] == "enum":
            return _enum_union(base, ours, theirs)
        return None

    def validate_tree(self, tree: Mapping[str, Any], changed: Set[str]) -> list[Problem]:
        return _Validation(tree, changed).run()


def _widest(base: Any, ours: Any, theirs: Any) -> Resolution | None:
    """Both sides widened within one chain (short -> integer -> long): take the wider."""
    b, o, t = _RANK.get(base), _RANK.get(ours), _RANK.get(theirs)
    if b is None or o is None or t is None or not b[0] == o[0] == t[0]:
        return None
    if o[1] > b[1] and t[1] > b[1]:
        return Resolution("value", ours if o[1] > t[1] else theirs)
    return None


def _bounds_union(ours: Any, theirs: Any) -> Resolution | None:
    """{min, max} bounds: the lower min and the higher max; a missing bound is unbounded."""
    if ours is MISSING or theirs is MISSING:
        return Resolution("value", MISSING)
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        return None
    union: dict[str, Any] = {}
    try:
        for key, pick in (("min", min), ("max", max)):
            a, b = ours.get(key), theirs.get(key)
            if a is not None and b is not None:
                union[key] = pick(a, b)
    except TypeError:
        return None
    return Resolution("value", union or MISSING)


def _enum_union(base: Any, ours: Any, theirs: Any) -> Resolution | None:
    """Values kept by either side in base order, then ours' additions, then theirs'."""
    if not isinstance(ours, list) or not isinstance(theirs, list):
        return None
    union = [v for v in (base if isinstance(base, list) else []) if v in ours or v in theirs]
    for side in (ours, theirs):
        union.extend(v for v in side if v not in union)
    return Resolution("value", union)


def _ref_fields(doc: dict[str, Any]) -> Iterator[tuple[Path, Any, str]]:
    """(path, referenced rid, expected kind) of every reference a document makes."""
    kind = doc.get("kind")
    if kind == "objectType":
        for rid in doc.get("interfaces") or {}:
            yield ("interfaces", rid), rid, "interface"
        for prid, prop in (doc.get("properties") or {}).items():
            # most properties refer to nothing: test the three keys before making a generator
            if (
                prop.get("valueType") is not None
                or prop.get("structType") is not None
                or prop.get("sharedProperty") is not None
            ):
                yield from _typed_refs(prop, ("properties", prid))
    elif kind == "sharedProperty":
        yield from _typed_refs(doc, ())
    elif kind == "linkType":
        yield ("source",), doc.get("source"), "objectType"
        yield ("target",), doc.get("target"), "objectType"
    elif kind == "interface":
        for rid in doc.get("extends") or {}:
            yield ("extends", rid), rid, "interface"
        for rid in doc.get("properties") or {}:
            yield ("properties", rid), rid, "sharedProperty"
        for crid, lc in (doc.get("linkConstraints") or {}).items():
            yield (
                ("linkConstraints", crid, "targetObjectType"),
                lc.get("targetObjectType"),
                ("objectType"),
            )
            yield (
                ("linkConstraints", crid, "targetInterface"),
                lc.get("targetInterface"),
                ("interface"),
            )


_TYPED = ("valueType", "structType", "sharedProperty")  # each key names the kind it refers to


def _typed_refs(holder: dict[str, Any], at: Path) -> Iterator[tuple[Path, Any, str]]:
    for key in _TYPED:
        ref = holder.get(key)
        if ref is not None:
            yield (*at, key), ref, key


class _Validation:
    """One incremental check: changed documents fully, others only where they point at
    something the merge removed (deleted entities, properties dropped from object types)."""

    def __init__(self, tree: Mapping[str, Any], changed: Set[str]) -> None:
        self.tree = tree
        self.changed = changed
        self.problems: list[Problem] = []
        self.names: dict[tuple[Any, str], list[str]] = {}  # new or renamed: (kind, name)

    def problem(self, rid: str, path: Path, kind: Any, message: str) -> None:
        self.problems.append(Problem(rid, path, kind, message))

    def run(self) -> list[Problem]:
        previous = getattr(self.tree, "previous", lambda rid: None)
        removed: dict[str, str | None] = {}  # rid -> kind (None: unknown)
        for rid in sorted(self.changed):
            doc = self.tree.get(rid)
            before = previous(rid)
            if doc is None:
                removed[rid] = before.get("kind") if before else None
                continue
            self.check_document(rid, doc, before)
            if before and doc.get("kind") == "objectType":
                for prid in (before.get("properties") or {}).keys() - doc["properties"].keys():
                    removed[prid] = "property"
        referrers: set[str] = set()
        for kind in removed.values():
            referrers |= _REFERRERS.get(kind, set()) if kind else _ALL_REFERRERS
        if "property" in removed.values():
            referrers.add("linkType")
        if referrers or self.names:
            self.scan(removed, referrers)
        return self.problems

    def check_document(self, rid: str, doc: dict[str, Any], before: Any) -> None:
        kind = doc.get("kind", "")
        for path, ref, expected in _ref_fields(doc):
            self.check_ref(rid, path, ref, expected)
        if kind == "objectType":
            self.check_object_type(rid, doc)
        elif kind == "linkType":
            self.check_foreign_key(rid, doc)
        elif kind == "structType":
            count = len(doc.get("fields") or {})
            if not 1 <= count <= MAX_STRUCT_FIELDS:
                self.problem(
                    rid,
                    ("fields",),
                    "rule_violation",
                    f"A struct type has 1 to {MAX_STRUCT_FIELDS} fields (it has {count}).",
                )
        name = doc.get("apiName")
        if isinstance(name, str) and (not before or before.get("apiName") != name):
            self.names.setdefault((kind, name.lower()), []).append(rid)

    def check_ref(self, rid: str, path: Path, ref: Any, expected: str) -> None:
        if ref is None:
            return
        target = self.tree.get(ref)
        if target is None:
            self.problem(
                rid, path, "dangling_reference", f"{path[-1]} points at {ref}, which is gone."
            )
        elif target.get("kind") != expected:
            self.problem(
                rid,
                path,
                "dangling_reference",
                f"{path[-1]} points at {ref}, a {target.get('kind')}, not a {expected}.",
            )

    def check_object_type(self, rid: str, doc: dict[str, Any]) -> None:
        props = doc.get("properties") or {}
        seen: dict[str, str] = {}
        for prid, prop in props.items():
            lowered = str(prop.get("apiName", "")).lower()
            if lowered in seen:
                self.problem(
                    rid,
                    ("properties", prid, "apiName"),
                    "rule_violation",
                    f"Property apiName '{prop.get('apiName')}' is used twice in "
                    f"{doc.get('apiName')}.",
                )
            seen[lowered] = prid
        pk = doc.get("primaryKey")
        if pk is None:
            return
        if pk not in props:
            self.problem(
                rid, ("primaryKey",), "dangling_reference", f"Primary key {pk} is not a property."
            )
        elif props[pk].get("baseType") not in PRIMARY_KEY_TYPES:
            self.problem(
                rid,
                ("primaryKey",),
                "rule_violation",
                f"A primary key cannot be of type {props[pk].get('baseType')}.",
            )

    def check_foreign_key(self, rid: str, doc: dict[str, Any]) -> None:
        fk = doc.get("foreignKeyProperty")
        source = self.tree.get(doc.get("source"))
        if fk is None or source is None:
            return
        if fk not in (source.get("properties") or {}):
            self.problem(
                rid,
                ("foreignKeyProperty",),
                "dangling_reference",
                f"Foreign key {fk} is not a property of the source object type.",
            )

    def scan(self, removed: dict[str, str | None], referrers: Set[str]) -> None:
        """One pass over the top-level documents (never their properties unless needed):
        names taken by another document, and documents of the ``referrers`` kinds that
        point at something ``removed``."""
        name_kinds = {kind for kind, _ in self.names}
        tree_names = getattr(self.tree, "names", None)
        if not referrers and callable(tree_names):
            # names only: (kind, apiName) pairs, which a store's tree gives without reading
            # every document
            for rid, (kind, name) in tree_names().items():
                if kind in name_kinds:
                    self.check_name(rid, kind, name)
            return
        for rid, doc in self.tree.items():
            kind = doc.get("kind")
            if kind in name_kinds:
                self.check_name(rid, kind, doc.get("apiName"))
            if kind in referrers and rid not in self.changed:
                self.check_referrer(rid, doc, removed)

    def check_name(self, rid: str, kind: Any, name: Any) -> None:
        for claimant in self.names.get((kind, str(name).lower()), ()):
            if claimant != rid:
                self.problem(
                    claimant, ("apiName",), "rule_violation", f"Another {kind} is named '{name}'."
                )

    def check_referrer(self, rid: str, doc: dict[str, Any], removed: Mapping[str, Any]) -> None:
        if doc["kind"] == "linkType" and not (
            doc.get("source") in removed
            or doc.get("target") in removed
            or doc.get("foreignKeyProperty") in removed
        ):
            return  # the common case, without walking the references one by one
        for path, ref, _ in _ref_fields(doc):
            if ref in removed:
                self.problem(
                    rid, path, "dangling_reference", f"{path[-1]} points at {ref}, which is gone."
                )
        fk = doc.get("foreignKeyProperty")
        if fk in removed:
            self.problem(
                rid,
                ("foreignKeyProperty",),
                "dangling_reference",
                f"Foreign key {fk} was removed from the source object type.",
            )
