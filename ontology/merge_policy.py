"""The ontology's merge policy: resolution strategies and rules of a merged tree.

Pure Python over canonical documents (docs/documents.md); the versioning merge engine
calls it through :class:`versioning.domain.policy.Policy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from versioning.domain.policy import MISSING, Path, Problem, Resolution

from .rule_set import TreeGraph, Violation, validate

WIDENING_CHAINS = (("byte", "short", "integer", "long"), ("float", "double"))
_RANK = {
    t: (chain, pos) for chain, types in enumerate(WIDENING_CHAINS) for pos, t in enumerate(types)
}

BOUND_CONSTRAINTS = frozenset({"range", "length", "arraySize"})


class OntologyPolicy:
    """Type widening and constraint unions (WARN); the rule set over the merged tree (BLOCK)."""

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
        """The rule set (:mod:`ontology.rule_set`) over the merged documents and their
        neighbourhood; each violation is a BLOCK conflict naming its rule and path."""
        graph = TreeGraph(tree)
        previous = getattr(tree, "previous", lambda rid: None)
        return _problems(validate(graph, changed, previous, graph.names))


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


def _problems(violations: list[Violation]) -> list[Problem]:
    """One problem per place (rid, path, kind): a conflict's id is made of those, so the
    rules broken at one place are reported together."""
    by_place: dict[tuple[str, Path, str], list[str]] = {}
    for v in violations:
        kind = "dangling_reference" if v.dangling else "rule_violation"
        by_place.setdefault((v.rid, v.path, kind), []).append(f"{v.message} [rule {v.rule}]")
    return [
        Problem(rid, path, kind, " ".join(messages))  # type: ignore[arg-type]
        for (rid, path, kind), messages in by_place.items()
    ]
