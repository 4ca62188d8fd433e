"""The one rule set over documents: every door that writes an ontology ends here.

:func:`validate` checks a set of changed documents together with their neighbourhood:
what they refer to (read by the checks themselves) and what refers to them (re-checked
when a change could matter to it). The same function serves

* the merge (:meth:`ontology.merge_policy.OntologyPolicy.validate_tree`, over the merged
  tree: a violation is a BLOCK conflict naming the rule and the path);
* every write of rows: the services (admin and API saves) and ``workspace.apply`` (merge,
  update from target, revert, discard, branch from a commit) validate what they wrote
  with :func:`ontology.rule_set.rows.validate_branch`.

Its cost follows the changed set: a changed document is checked in full; the documents
that refer to it are looked up (and checked) only when the change touches more than its
texts (descriptions and display names), since those are all that others never read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..kinds import KINDS, REFERRER_KINDS, Reference, outside_references, referenced
from .checks import Doc, Graph, Violation, check_document

__all__ = ["Graph", "TreeGraph", "Violation", "validate"]

#: keys no other document's rules read: a change to them alone re-checks no neighbour
_TEXTS = frozenset({"description", "displayName", "pluralDisplayName", "icon", "examples"})
_ALL_REFERRERS = frozenset().union(*REFERRER_KINDS.values())


def _same_facet(doc: Doc, before: Doc) -> bool:
    """Whether ``doc`` and ``before`` agree once their texts (children's included) are
    left out: what neighbours may read. Compared in place, without copies."""
    kind = KINDS.get(doc.get("kind"))  # type: ignore[arg-type]
    child_keys = _CHILD_KEYS.get(kind.name, ()) if kind else ()
    for key in doc.keys() | before.keys():
        if key in _TEXTS:
            continue
        value, old = doc.get(key, _ABSENT), before.get(key, _ABSENT)
        if value is old or value == old:
            continue
        if not (key in child_keys and isinstance(value, Mapping) and isinstance(old, Mapping)):
            return False
        if value.keys() != old.keys():
            return False
        for crid, child in value.items():
            was = old[crid]
            if child == was:
                continue
            if not (isinstance(child, Mapping) and isinstance(was, Mapping)):
                return False
            for k in child.keys() | was.keys():
                if k not in _TEXTS and child.get(k, _ABSENT) != was.get(k, _ABSENT):
                    return False
    return True


_ABSENT = object()
_CHILD_KEYS = {name: frozenset(c.key for c in k.children) for name, k in KINDS.items()}


def _matters(doc: Doc | None, before: Doc | None) -> bool:
    """Whether the change from ``before`` to ``doc`` can matter to another document."""
    if doc is None or before is None:
        return True
    return doc is not before and not _same_facet(doc, before)


def validate(
    graph: Graph,
    changed: Iterable[str],
    previous: Callable[[str], Doc | None] = lambda rid: None,
    names: Callable[[str, set[str]], Mapping[str, list[str]]] | None = None,
) -> list[Violation]:
    """Violations of the documents ``changed`` and of those whose rules read them.

    ``previous(rid)``: the document before the change (``None``: new, or unknown, which
    re-checks every kind that could refer to it). ``names(kind, lowered names)``: for each
    name, the rids of that kind's documents holding it (case-insensitively); ``None``
    leaves name uniqueness to the caller (rows have a unique index for it)."""
    changed = set(changed)
    scope: set[str] = set()
    renamed: dict[str, set[str]] = {}  # kind -> new or renamed names (lowered)
    claimants: set[str] = set()  # the documents that took those names
    mattering: list[Doc] = []  # documents (now or before) whose change others may read
    unknown = False  # a rid gone without a known document: any kind may refer to it
    for rid in changed:
        doc, before = graph.get(rid), previous(rid)
        if doc is not None:
            scope.add(rid)
            name = doc.get("apiName")
            if isinstance(name, str) and (before is None or before.get("apiName") != name):
                renamed.setdefault(doc.get("kind"), set()).add(name.lower())
                claimants.add(rid)
        if _matters(doc, before):
            found = [d for d in (doc, before) if d is not None]
            mattering.extend(found)
            unknown = unknown or not found
    if mattering or unknown:
        scope |= _dependents(graph, changed, mattering, unknown)
    _prefetch_scope(graph, scope)
    out: list[Violation] = []
    for rid in sorted(scope):
        doc = graph.get(rid)
        if doc is not None:
            out.extend(check_document(graph, rid, doc))
    if names is not None:
        for kind, wanted in sorted(renamed.items(), key=lambda item: str(item[0])):
            for lowered, holders in names(kind, wanted).items():
                if len(set(holders)) > 1:
                    for claimant in sorted(set(holders) & claimants):
                        doc = graph.get(claimant) or {}
                        out.append(
                            Violation(
                                claimant,
                                ("apiName",),
                                "unique-name",
                                f"Another {kind} is named '{doc.get('apiName', lowered)}'.",
                                kind,
                                str(doc.get("apiName")),
                            )
                        )
    return out


def _prefetch_scope(graph: Graph, scope: set[str]) -> None:
    """Let a graph that reads documents from storage read the checked documents and those
    they refer to in bulk (a few queries, not one per reference followed by the rules)."""
    fetch = getattr(graph, "prefetch", None)
    if not callable(fetch) or not scope:
        return
    fetch(sorted(scope))
    refs: dict[str, str] = {}
    for rid in scope:
        for _, ref, spec in outside_references(graph.get(rid) or {}):
            if isinstance(ref, str):
                refs[ref] = spec.target
    if refs:
        fetch(sorted(refs), kinds=set(refs.values()))


def _dependents(graph: Graph, rids: set[str], docs: list[Doc], unknown: bool) -> set[str]:
    """The documents whose rules read the changed ``rids`` (``docs``: their documents now
    and before, where the change matters), found in one batch per step.

    A link type that names a property as foreign key also names that property's object
    type as source, so looking up the object types' referrers finds it."""
    kinds = {d.get("kind") for d in docs}
    referrer_kinds = (
        _ALL_REFERRERS
        if unknown
        else frozenset().union(*(REFERRER_KINDS.get(k, frozenset()) for k in kinds))
    )
    found = graph.referrers(rids, referrer_kinds) if referrer_kinds else set()
    fetch = getattr(graph, "prefetch", None)
    if callable(fetch) and found:
        fetch(sorted(found))  # read below (a link's ends, an interface's heirs): in bulk
    out = set(found)
    links = [d for d in docs if d.get("kind") == "linkType"]
    if kinds & {"objectType", "interface"} or unknown:  # ... and what it links to theirs
        links += [
            link
            for lrid in found
            if (link := graph.get(lrid)) is not None and link.get("kind") == "linkType"
        ]
    # a link may fulfil its ends' interface link constraints: the object types at its
    # ends, and every implementer of an interface at an end
    out |= {link.get(end) for link in links for end in ("source", "target")} - {None}
    ends = {link.get(f"{end}Interface") for link in links for end in ("source", "target")}
    if ends - {None}:
        out |= _implementers(graph, ends - {None})
    if "interface" in kinds or unknown:  # what extends it inherits its requirements
        seen = set(rids)
        frontier = {r for r in found if (graph.get(r) or {}).get("kind") == "interface"}
        while frontier - seen:
            frontier -= seen
            seen |= frontier
            more = graph.referrers(frontier, REFERRER_KINDS["interface"])
            out |= more
            frontier = {r for r in more if (graph.get(r) or {}).get("kind") == "interface"}
    return out


def _implementers(graph: Graph, interfaces: set[str]) -> set[str]:
    """The object types implementing any of ``interfaces`` or an interface extending one."""
    seen: set[str] = set()
    frontier = set(interfaces)
    while frontier - seen:
        frontier -= seen
        seen |= frontier
        frontier = {
            r
            for r in graph.referrers(frontier, frozenset({"interface"}))
            if (graph.get(r) or {}).get("kind") == "interface"
        }
    return {
        r
        for r in graph.referrers(seen, frozenset({"objectType"}))
        if (graph.get(r) or {}).get("kind") == "objectType"
    }


def _layers(tree: Mapping[str, Doc]) -> tuple[Any, Mapping[str, Doc | None]]:
    """``(a commit's tree, the changes laid over it)`` when ``tree`` is a store's tree of
    a commit (``commit_id``), alone or under a merge's changes; else ``(None, {})``."""
    ours, changes = getattr(tree, "ours", None), getattr(tree, "changes", None)
    if getattr(ours, "commit_id", None) and isinstance(changes, Mapping):
        return ours, changes
    if getattr(tree, "commit_id", None):
        return tree, {}
    return None, {}


#: (commit id, referring kind, reference path) -> referenced rid -> referring rids
_COMMIT_INDEXES: OrderedDict[tuple[str, str, tuple[str, ...]], dict[str, set[str]]] = OrderedDict()
_COMMIT_INDEX_LIMIT = 64
_COMMIT_INDEX_LOCK = threading.Lock()  # gthread workers share the process's indexes


def _reference_index(
    tree: Mapping[str, Doc], rids: Iterable[str], ref: Reference
) -> dict[str, set[str]]:
    """referenced rid -> those of ``rids`` whose documents refer to it through ``ref``."""
    index: dict[str, set[str]] = {}
    for rid in rids:
        for _, target, _ in referenced(tree.get(rid) or {}, ref):
            if target is not None:
                index.setdefault(target, set()).add(rid)
    return index


def _commit_index(tree: Any, kind: str, ref: Reference) -> dict[str, set[str]]:
    """Who of ``kind`` refers to whom through ``ref`` in the tree of ``tree.commit_id``,
    kept for the process (a commit is content-addressed: its tree never changes); the
    least recently used of :data:`_COMMIT_INDEX_LIMIT` indexes is dropped first."""
    key = (tree.commit_id, kind, ref.path)
    with _COMMIT_INDEX_LOCK:
        index = _COMMIT_INDEXES.get(key)
        if index is not None:
            _COMMIT_INDEXES.move_to_end(key)
            return index
    of_kind = [rid for rid, (k, _) in tree.names().items() if k == kind]
    tree.prefetch(of_kind)
    index = _reference_index(tree, of_kind, ref)
    with _COMMIT_INDEX_LOCK:
        _COMMIT_INDEXES[key] = index
        while len(_COMMIT_INDEXES) > _COMMIT_INDEX_LIMIT:
            _COMMIT_INDEXES.popitem(last=False)
    return index


class TreeGraph:
    """A :class:`Graph` over a mapping ``rid -> document`` (a merged tree, a branch's
    tree). Who refers to whom is indexed on first use, per referring kind, from the
    documents of that kind only (a store tree's ``names()`` tells the kinds without
    reading the documents)."""

    def __init__(self, tree: Mapping[str, Doc]) -> None:
        self.tree = tree
        self._kinds: dict[str, list[str]] | None = None
        #: (referring kind, reference path) -> referenced rid -> referring rids
        self._index: dict[tuple[str, tuple[str, ...]], dict[str, set[str]]] = {}
        self._fetched: set[str] = set()  # kinds whose documents were read in bulk
        self._names: dict[tuple[Any, str], list[str]] | None = None
        self._base, self._changes = _layers(tree)

    def get(self, rid: Any) -> Doc | None:
        if not isinstance(rid, str):
            return None
        return self.tree.get(rid)

    def prefetch(self, rids: Iterable[str], kinds: Iterable[str] | None = None) -> None:
        """Read the documents of ``rids`` in bulk when the tree can (a store's tree, or a
        merge's changes over one); a plain mapping holds them already."""
        fetch = getattr(self.tree, "prefetch", None)
        if callable(fetch):
            fetch(list(rids))

    def _rids_by_kind(self) -> dict[str, list[str]]:
        if self._kinds is None:
            self._kinds = {}
            for rid, (kind, _) in self._pairs().items():
                self._kinds.setdefault(kind, []).append(rid)
        return self._kinds

    def _pairs(self) -> dict[str, tuple[Any, Any]]:
        names = getattr(self.tree, "names", None)
        if callable(names):
            return names()
        return {rid: (doc.get("kind"), doc.get("apiName")) for rid, doc in self.tree.items()}

    def referrers(self, rids: set[str], kinds: frozenset[str]) -> set[str]:
        """The documents of ``kinds`` that refer to any of ``rids``. Only the references
        that can point at the rids' kinds are indexed (a change of object types reads
        the object types' ``replacedBy``, not their 40,000 properties' value types); a
        rid of no known kind (gone, or a child) is looked for through every reference.

        Over a commit's tree (alone or under a merge's changes) the index of the commit
        is kept per process (:func:`_commit_index`: a commit's tree never changes) and the
        changed documents are laid over it."""
        targets = {(self.get(rid) or {}).get("kind") for rid in rids}
        wanted = None if None in targets else targets
        out: set[str] = set()
        for kind in sorted(kinds):
            for ref in KINDS[kind].references:
                if wanted is not None and ref.target not in wanted:
                    continue
                if self._base is None:
                    index = self._index.get((kind, ref.path))
                    if index is None:
                        index = self._index[(kind, ref.path)] = self._indexed(kind, ref)
                    for rid in rids:
                        out |= index.get(rid, set())
                    continue
                changes = self._changes
                index = _commit_index(self._base, kind, ref)
                for rid in rids:
                    out |= {r for r in index.get(rid, ()) if r not in changes}
                for crid, doc in changes.items():
                    if (
                        doc is not None
                        and doc.get("kind") == kind
                        and any(target in rids for _, target, _ in referenced(doc, ref))
                    ):
                        out.add(crid)
        return out

    def _indexed(self, kind: str, ref: Reference) -> dict[str, set[str]]:
        """referenced rid -> the documents of ``kind`` referring to it through ``ref``."""
        of_kind = self._rids_by_kind().get(kind, ())
        if of_kind and kind not in self._fetched:
            self._fetched.add(kind)
            fetch = getattr(self.tree, "prefetch", None)
            if callable(fetch):  # a store tree: every document of the kind in bulk, once
                fetch(of_kind)
        return _reference_index(self.tree, of_kind, ref)

    def names(self, kind: str, wanted: set[str]) -> dict[str, list[str]]:
        if self._names is None:
            self._names = {}
            for rid, (k, name) in self._pairs().items():
                self._names.setdefault((k, str(name).lower()), []).append(rid)
        return {name: self._names.get((kind, name), []) for name in wanted}
