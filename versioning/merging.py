"""The merge sequence that merging a proposal, updating a source from its target and
reverting a commit share: three-way merge of the changed rids (:func:`three_way`, or
:func:`merge_trees` over given trees), then :func:`land` — refuse unresolved conflicts,
write the merged documents onto the branch's rows, write the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import metrics, store
from .domain.graph import merge_base
from .domain.merge import MergeResult, merge3
from .domain.policy import Resolution
from .exceptions import InvalidStateError, NothingToCommitError, UnresolvedConflictsError
from .models import Branch, Commit
from .workspace import get_policy, get_workspace
from .writing import Document, write_commit


@dataclass
class Merge:
    """One three-way merge of ``theirs`` into ``ours`` and what it read."""

    base: str | None
    ours: str | None
    theirs: str | None
    result: MergeResult
    base_tree: store.TreeView
    ours_tree: store.TreeView
    theirs_tree: store.TreeView
    theirs_changed: set[str]

    @property
    def up_to_date(self) -> bool:
        """Nothing to bring in: ``theirs`` is already part of ``ours``."""
        return self.theirs is None or self.base == self.theirs


def resolutions_from(stored: Mapping[str, Any], *, flip: bool = False) -> dict[str, Resolution]:
    swap = {"ours": "theirs", "theirs": "ours"}
    out = {}
    for cid, item in (stored or {}).items():
        choice = item.get("choice")
        if flip:
            choice = swap.get(choice, choice)
        out[cid] = Resolution(choice, item.get("value"))
    return out


def three_way(
    ours: str | None,
    theirs: str | None,
    resolutions: Mapping[str, Resolution] | None = None,
    *,
    operation: str = "dry_run",
) -> Merge:
    """Merge commit ``theirs`` into commit ``ours`` from their merge base, reading only
    the documents of rids changed on either side."""
    with metrics.MERGE_SECONDS.labels(operation).time():
        return _three_way(ours, theirs, resolutions)


def _three_way(
    ours: str | None, theirs: str | None, resolutions: Mapping[str, Resolution] | None
) -> Merge:
    graph = store.Graph()
    base = merge_base(ours, theirs, graph) if ours and theirs else None
    ours_changed = store.changed_rids(graph, base, ours) if ours != base else set()
    theirs_changed = store.changed_rids(graph, base, theirs) if theirs != base else set()
    changed = ours_changed | theirs_changed
    cache = store.BlobCache()
    trees = [store.TreeView(cid, cache) for cid in (base, ours, theirs)]
    result = merge_trees(*trees, changed, resolutions)
    return Merge(base, ours, theirs, result, *trees, theirs_changed)


def merge_trees(
    base: store.TreeView,
    ours: store.TreeView,
    theirs: store.TreeView,
    changed: set[str],
    resolutions: Mapping[str, Resolution] | None = None,
) -> MergeResult:
    """``merge3`` over the ``changed`` rids, their hashes and blobs read together first; a
    rid whose hash theirs left as the base's is merged without decoding either document."""
    store.prefetch_trees([base, ours, theirs], changed)
    ours_only = [rid for rid in changed if theirs.hash_of(rid) == base.hash_of(rid)]
    return merge3(
        base,
        ours,
        theirs,
        get_policy(),
        changed=changed,
        resolutions=resolutions,
        ours_only=ours_only,
    )


def stored_encoding(result: MergeResult, theirs: store.TreeView) -> dict[str, tuple[str, None]]:
    """``rid -> (hash, None)`` of the merged documents that are theirs' as stored (the same
    object, read from its blob): the merge commit need not encode and hash them again."""
    return {
        rid: (h, None)
        for rid, doc in result.tree_changes.items()
        if doc is not None and (h := theirs.hash_of(rid)) is not None and doc is theirs.get(rid)
    }


def apply_merged(
    branch: Branch,
    changes: Mapping[str, Document | None],
    head: Mapping[str, Document],
    *,
    checked: bool = False,
) -> None:
    """Write ``changes`` onto a clean branch's rows; ``head`` (its head tree) tells the
    workspace what the rows hold, so it skips children that did not change. ``checked``:
    the rule set has passed the tree these changes make (see :func:`land`)."""
    before = {rid: head.get(rid) for rid in changes}
    try:
        get_workspace().apply(branch, changes, before, checked=checked)
    except ValueError as exc:
        raise InvalidStateError(f"The merged ontology cannot be written: {exc}") from exc


def land(
    branch: Branch,
    result: MergeResult,
    ours: store.TreeView,
    theirs: store.TreeView,
    *,
    user: Any,
    message: str,
    conflicts: str,
    merge_parent: Commit | None = None,
    nothing: str | None = None,
) -> Commit:
    """Land a merge on the locked, clean ``branch`` whose head tree is ``ours``.

    Refuses (409) unresolved ERROR and any BLOCK conflicts (``conflicts`` is the message,
    ``{count}`` their number) and, when ``nothing`` is given, a merge that changes nothing
    (:class:`NothingToCommitError` with that message); then writes the merged documents
    onto the branch's rows and the commit (a merge commit when ``merge_parent`` is given).
    Documents taken from ``theirs`` as stored are not encoded and hashed again.

    The rule set is not run a second time over the rows: a merge validated by the policy
    (``result.validated``) checked the very tree written here (the branch is clean and
    locked, so its rows are ``ours``), and any violation was a BLOCK refused above."""
    unresolved = [c.to_dict() for c in result.conflicts if not c.resolved]
    if unresolved:
        raise UnresolvedConflictsError(
            conflicts.replace("{count}", str(len(unresolved))), unresolved
        )
    if nothing is not None and not result.tree_changes:
        raise NothingToCommitError(nothing)
    apply_merged(branch, result.tree_changes, ours, checked=result.validated)
    return write_commit(
        branch,
        changes=result.tree_changes,
        user=user,
        message=message,
        merge_parent=merge_parent,
        encoded=stored_encoding(result, theirs),
    )
