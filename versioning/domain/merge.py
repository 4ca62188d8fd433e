"""Three-way merge of document trees, with conflicts classified by kind and severity.

A tree is a mapping ``{rid: document}``. Documents are never mutated; the merged tree
shares every unchanged document (and sub-dict) with its inputs, so treat them as
immutable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .policy import MISSING, Path, Policy, Resolution, Severity

ConflictKind = Literal[
    "modify_modify",
    "delete_modify",
    "add_add",
    "rename_collision",
    "dangling_reference",
    "rule_violation",
]
Tree = Mapping[str, Any]


@dataclass
class Conflict:
    """One place where the sides disagree (or agree, for INFO), with what to do about it.

    ``base``/``ours``/``theirs`` are the values at ``path`` (``None`` when absent); for an
    add/add or rename collision they are ``{"rid", "apiName"}`` of the two claimants.
    """

    id: str
    rid: str
    entity_kind: str
    api_name: str
    path: Path
    kind: ConflictKind
    severity: Severity
    base: Any = None
    ours: Any = None
    theirs: Any = None
    proposed: Resolution | None = None
    message: str = ""
    resolution: Resolution | None = None

    @property
    def resolved(self) -> bool:
        """INFO and WARN need nothing; ERROR once a resolution is given; BLOCK never."""
        if self.severity is Severity.BLOCK:
            return False
        return self.severity is not Severity.ERROR or self.resolution is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rid": self.rid,
            "entityKind": self.entity_kind,
            "apiName": self.api_name,
            "path": list(self.path),
            "kind": self.kind,
            "severity": self.severity.value,
            "base": self.base,
            "ours": self.ours,
            "theirs": self.theirs,
            "proposed": self.proposed.to_dict() if self.proposed else None,
            "message": self.message,
            "resolution": self.resolution.to_dict() if self.resolution else None,
            "resolved": self.resolved,
        }


class MergedView(Mapping[str, Any]):
    """``changes`` (``rid -> document | None``) laid over ``ours``, read lazily."""

    def __init__(self, ours: Tree, changes: Mapping[str, Any]) -> None:
        self.ours = ours
        self.changes = changes

    def __getitem__(self, rid: str) -> Any:
        doc = self.changes[rid] if rid in self.changes else self.ours[rid]
        if doc is None:
            raise KeyError(rid)
        return doc

    def get(self, rid: str, default: Any = None) -> Any:
        doc = self.changes[rid] if rid in self.changes else self.ours.get(rid)
        return default if doc is None else doc

    def prefetch(self, rids: Iterable[str]) -> None:
        """Let ``ours`` read the documents of ``rids`` it will be asked for in bulk, when
        it can (a store tree reads them in a few queries instead of one per ``get``)."""
        fetch = getattr(self.ours, "prefetch", None)
        if callable(fetch):
            fetch([rid for rid in rids if rid not in self.changes])

    def __contains__(self, rid: object) -> bool:
        if rid in self.changes:
            return self.changes[rid] is not None
        return self.ours.get(rid) is not None

    def __iter__(self) -> Iterator[str]:
        changes = self.changes
        for rid, doc in self.ours.items():
            if rid in changes:
                if changes[rid] is not None:
                    yield rid
            elif doc is not None:
                yield rid
        for rid, doc in changes.items():
            if doc is not None and self.ours.get(rid) is None:
                yield rid

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        changes = self.changes
        for rid, doc in self.ours.items():
            if rid in changes:
                doc = changes[rid]
            if doc is not None:
                yield rid, doc
        for rid, doc in changes.items():
            if doc is not None and self.ours.get(rid) is None:
                yield rid, doc

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (doc for _, doc in self.items())

    def names(self) -> dict[str, tuple[Any, Any]]:
        """``rid -> (kind, apiName)`` of every merged document, in :meth:`items` order.

        Uses ``ours.names()`` when ``ours`` has it (a store's tree answers it without
        reading the documents), so a name check need not read the whole tree."""
        own = getattr(self.ours, "names", None)
        ours = own() if callable(own) else {rid: _name_of(doc) for rid, doc in self.ours.items()}
        changes = self.changes
        out: dict[str, tuple[Any, Any]] = {}
        for rid, pair in ours.items():
            if rid in changes:
                if changes[rid] is not None:
                    out[rid] = _name_of(changes[rid])
            else:
                out[rid] = pair
        for rid, doc in changes.items():
            if doc is not None and rid not in ours:
                out[rid] = _name_of(doc)
        return out

    def previous(self, rid: str) -> Any:
        """The document as it is on ours, before the merge (``None`` if absent)."""
        return self.ours.get(rid)


def _name_of(doc: Any) -> tuple[Any, Any]:
    return doc.get("kind"), doc.get("apiName")


@dataclass
class MergeResult:
    """The delta to apply on top of ours, and every conflict found on the way."""

    tree_changes: dict[str, Any]
    conflicts: list[Conflict]
    view: MergedView
    changed: frozenset[str] = field(default_factory=frozenset)
    #: the policy's ``validate_tree`` checked the merged tree (its problems are BLOCKs)
    validated: bool = False

    @property
    def can_merge(self) -> bool:
        """No unresolved ERROR and no BLOCK."""
        return all(c.resolved for c in self.conflicts)

    def get(self, rid: str) -> Any:
        """The merged document of ``rid`` (``None`` if absent in the merged tree)."""
        return self.view.get(rid)

    def merged_tree(self) -> dict[str, Any]:
        """The whole merged tree as a new dict (costs the size of the tree)."""
        return dict(self.view.items())

    def by_severity(self, severity: Severity) -> list[Conflict]:
        return [c for c in self.conflicts if c.severity is severity]

    def to_dict(self) -> dict[str, Any]:
        counts = {s.value: 0 for s in Severity}
        for c in self.conflicts:
            counts[c.severity.value] += 1
        return {
            "canMerge": self.can_merge,
            "treeChanges": self.tree_changes,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "counts": counts,
        }


def merge3(
    base: Tree,
    ours: Tree,
    theirs: Tree,
    policy: Policy | None = None,
    *,
    changed: Iterable[str] | None = None,
    resolutions: Mapping[str, Resolution] | None = None,
    ours_only: Iterable[str] = (),
) -> MergeResult:
    """Merge ``theirs`` into ``ours`` from their common ``base``.

    Only the rids in ``changed`` are read (computed by comparing the trees when not given).
    ``ours_only``: rids of ``changed`` whose document theirs left as the base has it
    (callers holding content hashes know without reading it): the merge keeps ours'
    document without reading base's or theirs'.
    Unresolved ERROR conflicts keep ours' value provisionally; ``resolutions`` (conflict id
    -> :class:`Resolution`) settle them on a re-run. The policy's strategies turn conflicts
    into WARN and its ``validate_tree`` problems become BLOCK conflicts.
    """
    rids = _changed_rids(base, ours, theirs) if changed is None else set(changed)
    kept = frozenset(ours_only)
    merger = _Merger(policy, resolutions or {})
    merged: dict[str, Any] = {}
    for rid in sorted(rids):
        if rid in kept:  # theirs == base: what value() would return, with no conflict
            merged[rid] = _get(ours, rid)
            continue
        b, o, t = _get(base, rid), _get(ours, rid), _get(theirs, rid)
        merger.entity = _Entity(rid, b, o, t)
        merged[rid] = merger.value((), b, o, t)
    merger.collisions(_Scope((), merged, _TreeSide(ours), _TreeSide(theirs), base, top_level=True))

    tree_changes: dict[str, Any] = {}
    for rid, doc in merged.items():
        before = _get(ours, rid)
        if doc is not before and doc != before:
            tree_changes[rid] = None if doc is MISSING else doc
    view = MergedView(ours, tree_changes)
    conflicts = merger.conflicts
    if policy is not None:
        # what the merge changes on ours (the target, valid), with what refers to it
        for problem in policy.validate_tree(view, frozenset(tree_changes)):
            doc = view.get(problem.rid) or _get(ours, problem.rid) or _get(base, problem.rid)
            doc = doc or {}
            conflicts.append(
                Conflict(
                    id=f"{problem.rid}:{'.'.join(problem.path)}:{problem.kind}",
                    rid=problem.rid,
                    entity_kind=doc.get("kind", ""),
                    api_name=doc.get("apiName", ""),
                    path=problem.path,
                    kind=problem.kind,
                    severity=Severity.BLOCK,
                    message=problem.message,
                )
            )
    return MergeResult(tree_changes, conflicts, view, frozenset(rids), policy is not None)


def _get(tree: Tree, rid: str) -> Any:
    doc = tree.get(rid)
    return MISSING if doc is None else doc


def _changed_rids(base: Tree, ours: Tree, theirs: Tree) -> set[str]:
    rids: set[str] = set()
    for side in (ours, theirs):
        rids.update(rid for rid, doc in side.items() if base.get(rid) != doc)
        rids.update(rid for rid in base if side.get(rid) is None)
    return rids


def _shown(value: Any) -> Any:
    return None if value is MISSING else value


def _choose(resolution: Resolution, ours: Any, theirs: Any) -> Any:
    if resolution.choice == "ours":
        return ours
    if resolution.choice == "theirs":
        return theirs
    return resolution.value


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is MISSING:
        out.pop(key, None)
    else:
        out[key] = value


@dataclass
class _Entity:
    rid: str
    base: Any
    ours: Any
    theirs: Any

    def doc(self) -> dict[str, Any]:
        for doc in (self.ours, self.theirs, self.base):
            if isinstance(doc, dict):
                return doc
        return {}

    def label(self, path: Path) -> str:
        """The entity's apiName, dotted with the apiNames of the children on ``path``."""
        doc = self.doc()
        parts = [str(doc.get("apiName", ""))]
        node: Any = doc
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get("apiName"), str):
                parts.append(node["apiName"])
        return ".".join(parts)


class _TreeSide:
    """Uniform access to one side's entries: a children dict or a whole tree."""

    def __init__(self, entries: Mapping[str, Any]) -> None:
        self.entries = entries

    def name(self, key: str) -> str | None:
        entry = self.entries.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("apiName"), str):
            return entry["apiName"]
        return None


@dataclass
class _Scope:
    """A dict whose entries (children by rid, or a whole tree) may claim the same apiName."""

    path: Path
    out: dict[str, Any]
    ours: _TreeSide
    theirs: _TreeSide
    base: Mapping[str, Any]
    top_level: bool

    def yield_claim(self, key: str, side: _TreeSide) -> None:
        """``key`` takes ``side``'s apiName for it, or leaves the merge if ``side`` lacks it."""
        name = side.name(key)
        if name is not None:
            self.out[key] = {**self.out[key], "apiName": name}
        elif self.top_level:
            self.out[key] = MISSING
        else:
            del self.out[key]


class _Merger:
    def __init__(self, policy: Policy | None, resolutions: Mapping[str, Resolution]) -> None:
        self.policy = policy
        self.resolutions = resolutions
        self.conflicts: list[Conflict] = []
        self.entity = _Entity("", MISSING, MISSING, MISSING)

    def add(
        self,
        path: Path,
        kind: ConflictKind,
        severity: Severity,
        values: tuple[Any, Any, Any],
        message: str,
        *,
        cid: str | None = None,
        rid: str | None = None,
        proposed: Resolution | None = None,
        resolution: Resolution | None = None,
    ) -> None:
        entity = self.entity
        rid = rid or entity.rid
        doc = entity.doc()
        self.conflicts.append(
            Conflict(
                id=cid or f"{rid}:{'.'.join(path)}",
                rid=rid,
                entity_kind=doc.get("kind", ""),
                api_name=entity.label(path),
                path=path,
                kind=kind,
                severity=severity,
                base=_shown(values[0]),
                ours=_shown(values[1]),
                theirs=_shown(values[2]),
                proposed=proposed,
                message=message,
                resolution=resolution,
            )
        )

    def value(self, path: Path, b: Any, o: Any, t: Any) -> Any:
        """The merged value at ``path``; records conflicts on the way."""
        if o == t:
            if o != b:
                self.add(path, "modify_modify", Severity.INFO, (b, o, t), "Same change on both.")
            return o
        if o == b:
            return t
        if t == b:
            return o
        cid = f"{self.entity.rid}:{'.'.join(path)}"
        chosen = self.resolutions.get(cid)
        if self.policy is not None:
            proposed = self.policy.resolve(self.entity.doc().get("kind", ""), path, b, o, t)
            if proposed is not None:
                self.add(
                    path,
                    "modify_modify",
                    Severity.WARN,
                    (b, o, t),
                    "Resolved by a merge strategy.",
                    proposed=proposed,
                    resolution=chosen,
                )
                return _choose(chosen or proposed, o, t)
        if isinstance(o, dict) and isinstance(t, dict):
            return self.dict(path, b if isinstance(b, dict) else {}, o, t)
        if o is MISSING or t is MISSING:
            kind: ConflictKind = "delete_modify"
            message = "Deleted on one side, changed on the other."
        else:
            kind, message = "modify_modify", "Changed differently on both sides."
        self.add(path, kind, Severity.ERROR, (b, o, t), message, resolution=chosen)
        return _choose(chosen, o, t) if chosen else o

    def dict(self, path: Path, b: dict, o: dict, t: dict) -> dict:
        out = dict(o)
        keys = list(o)
        keys.extend(k for k in t if k not in o)
        keys.extend(k for k in b if k not in o and k not in t)
        for key in keys:
            bv, ov, tv = b.get(key, MISSING), o.get(key, MISSING), t.get(key, MISSING)
            if tv == bv:
                continue
            if ov == bv:
                _put(out, key, tv)
            else:
                _put(out, key, self.value((*path, key), bv, ov, tv))
        if len(out) > 1 and all(isinstance(v, dict) and "apiName" in v for v in out.values()):
            self.collisions(_Scope(path, out, _TreeSide(o), _TreeSide(t), b, top_level=False))
        return out

    def collisions(self, scope: _Scope) -> None:
        """Two entries of ``scope.out`` that end with the same apiName (case-insensitively).

        Every pair of one group claimed by different sides is a conflict, judged on the
        entries as merged *before* any of the group's collisions is settled: settling one pair
        (dropping or renaming an entry) must not hide another pair, or the conflicts would
        depend on which side an entry came from (merge would not be symmetric).

        ``ours`` for an unresolved one: the incoming claim is dropped, so the provisional
        merged tree stays free of duplicates.
        """
        groups: dict[tuple[str, str], list[str]] = {}
        for key, entry in scope.out.items():
            if isinstance(entry, dict) and isinstance(entry.get("apiName"), str):
                kind = entry.get("kind", "") if scope.top_level else ""
                groups.setdefault((kind, entry["apiName"].lower()), []).append(key)
        for (_, lowered), keys in groups.items():
            if len(keys) < 2:
                continue
            keys.sort()
            entries = {key: scope.out[key] for key in keys}
            for i, x in enumerate(keys):
                for y in keys[i + 1 :]:
                    self.collision(scope, lowered, entries, x, y)

    def collision(
        self, scope: _Scope, lowered: str, entries: Mapping[str, Any], x: str, y: str
    ) -> None:
        """The pair ``x``, ``y`` of a group whose merged ``entries`` share ``lowered``."""
        out, ours, theirs = scope.out, scope.ours, scope.theirs

        def claims(side: _TreeSide, key: str) -> bool:
            name = side.name(key)
            return name is not None and name.lower() == lowered

        if (claims(ours, x) and claims(ours, y)) or (claims(theirs, x) and claims(theirs, y)):
            return  # already so on one side: a rule violation of that side, not of the merge
        if claims(ours, x) or (not claims(ours, y) and claims(theirs, y)):
            a, b = x, y
        else:
            a, b = y, x
        added = a not in scope.base and b not in scope.base
        lo, hi = sorted((x, y))
        if scope.top_level:
            rid, where = lo, ("apiName",)
            self.entity = _Entity(lo, MISSING, entries[lo], MISSING)
        else:
            rid, where = self.entity.rid, (*scope.path, lo, "apiName")
        cid = f"{rid}:{'.'.join(where)}~{hi}"
        chosen = self.resolutions.get(cid)
        self.add(
            where,
            "add_add" if added else "rename_collision",
            Severity.ERROR,
            (
                MISSING,
                {"rid": a, "apiName": entries[a]["apiName"]},
                {"rid": b, "apiName": entries[b]["apiName"]},
            ),
            "The same apiName was added on both sides."
            if added
            else "Two entities end up with the same apiName.",
            cid=cid,
            rid=rid,
            resolution=chosen,
        )
        if chosen is not None and chosen.choice == "theirs":
            loser = a
        elif chosen is not None and chosen.choice == "value":
            if isinstance(out.get(b), dict):
                out[b] = {**out[b], "apiName": chosen.value}
            return
        else:
            loser = b
        name = out[loser].get("apiName") if isinstance(out.get(loser), dict) else None
        if isinstance(name, str) and name.lower() == lowered:
            # not yet settled by another pair of the group (each settles it the same way)
            scope.yield_claim(loser, theirs if loser == a else ours)
