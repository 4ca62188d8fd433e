"""Reading refs and the past: refs to commits, trees and documents at a commit, history,
diffs between commits and of a branch's working copy. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import store
from ..domain.diff import TreeDiff, diff_trees
from ..exceptions import AmbiguousRefError, UnknownRefError
from ..models import Branch, Commit, WorkingChange
from ..workspace import get_workspace
from ..writing import Document

MIN_PREFIX = 7


#: other apps (releases) resolve their own refs: ``fn(ref) -> commit id | None``
_ref_resolvers: list[Callable[[str], str | None]] = []


def register_ref_resolver(fn: Callable[[str], str | None]) -> None:
    """Let another app name commits (a release tag -> its commit id)."""
    if fn not in _ref_resolvers:
        _ref_resolvers.append(fn)


def get_branch(name: str) -> Branch:
    branch = Branch.objects.filter(name=name).select_related("head").first()
    if branch is None:
        raise UnknownRefError(f"No branch '{name}'.", field="branch")
    return branch


def commit_id_of(ref: str) -> str | None:
    """The commit a ref names; ``None`` for a branch without commits."""
    ref = str(ref or "").strip()
    if not ref:
        raise UnknownRefError("An empty ref names nothing.", field="ref")
    branch = Branch.objects.filter(name=ref).values_list("head_id", flat=True)
    for head in branch:
        return head
    for resolver in _ref_resolvers:
        found = resolver(ref)
        if found:
            return found
    lowered = ref.lower()
    if len(lowered) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in lowered):
        ids = list(Commit.objects.filter(id__startswith=lowered).values_list("id", flat=True)[:2])
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise AmbiguousRefError(f"'{ref}' names more than one commit.", field="ref")
    raise UnknownRefError(f"No branch, commit or release '{ref}'.", field="ref")


def resolve_ref(ref: str) -> Commit:
    """The commit named by a branch, a release, a commit id or a unique prefix (≥ 7)."""
    cid = commit_id_of(ref)
    if cid is None:
        raise UnknownRefError(f"Branch '{ref}' has no commits yet.", field="ref")
    return Commit.objects.get(id=cid)


def tree_at(commit: Commit | str) -> dict[str, str]:
    """The full tree ``rid -> blob hash`` of a commit."""
    return store.hashes_at(commit if isinstance(commit, str) else commit.id)


def documents_at(ref: str, rids: Iterable[str] | None = None) -> dict[str, Document]:
    """Documents at a ref (committed state), keyed by rid; absent rids are left out."""
    return store.documents_at(commit_id_of(ref), None if rids is None else [str(r) for r in rids])


def history(ref: str, *, limit: int = 50, after: str | None = None) -> list[Commit]:
    """First-parent history of a ref, newest first; ``after`` = the last commit of the
    previous page."""
    start = commit_id_of(ref)
    if after:
        parent = Commit.objects.filter(id=after).values_list("parent_id", flat=True).first()
        start = parent
    if start is None:
        return []
    ids = [n.id for n in store.first_parent_chain(start, limit=max(1, limit))]
    found = Commit.objects.in_bulk(ids)
    return [found[i] for i in ids]


def entity_history(ref: str, rid: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Commits on the first-parent line of ``ref`` whose delta touches ``rid``, newest first:
    who changed the entity, when, why, and how (added / modified / renamed / deleted)."""
    rid = str(rid)
    start = commit_id_of(ref)
    rows: list[Commit] = []
    while start and len(rows) < limit:
        chain = store.first_parent_chain(start, limit=500)
        ids = [n.id for n in chain]
        hits = Commit.objects.in_bulk(
            Commit.objects.filter(id__in=ids, delta__has_key=rid).values_list("id", flat=True)
        )
        rows.extend(hits[i] for i in ids if i in hits)
        last = chain[-1]
        start = last.parents[0] if last.parents and len(chain) == 500 else None
    rows = rows[:limit]
    out = []
    for commit in rows:
        new_hash = commit.delta.get(rid)
        old_hash = store.hashes_at(commit.parent_id, [rid]).get(rid)
        docs = store.blobs(h for h in (old_hash, new_hash) if h)
        new, old = docs.get(new_hash), docs.get(old_hash)
        if new is None:
            change = "removed"
        elif old is None:
            change = "added"
        elif old.get("apiName") != new.get("apiName"):
            change = "renamed"
        else:
            change = "modified"
        out.append(
            {
                "commit": commit,
                "change": change,
                "apiName": (new or old or {}).get("apiName", ""),
                "oldApiName": old.get("apiName") if change == "renamed" else None,
                "hash": new_hash,
            }
        )
    return out


@dataclass(frozen=True)
class Comparison:
    """A diff with the documents it compared (of the rids that differ), for pages that show
    them side by side without reading them again."""

    diff: TreeDiff
    old: dict[str, Document]
    new: dict[str, Document]


def diff(ref_a: str, ref_b: str) -> TreeDiff:
    """Entity- and field-level changes from ``ref_a`` to ``ref_b`` (committed states)."""
    return compare_commits(commit_id_of(ref_a), commit_id_of(ref_b)).diff


def compare_commits(a: str | None, b: str | None) -> Comparison:
    """The diff from commit ``a`` to commit ``b`` (``None``: the empty tree), reading only
    the documents of the rids either side changed since they diverged."""
    if a == b:
        return Comparison(TreeDiff([]), {}, {})
    rids = list(store.changed_rids(store.Graph(), a, b))
    ha, hb = store.hashes_at(a, rids), store.hashes_at(b, rids)
    differ = [rid for rid in rids if ha.get(rid) != hb.get(rid)]
    docs = store.blobs([ha[r] for r in differ if r in ha] + [hb[r] for r in differ if r in hb])
    old = {r: docs[ha[r]] for r in differ if r in ha}
    new = {r: docs[hb[r]] for r in differ if r in hb}
    return Comparison(diff_trees(old, new, changed=differ), old, new)


def changes(branch: Branch) -> TreeDiff:
    """The branch's uncommitted changes: its dirty set against its head."""
    return compare_working_copy(branch).diff


def compare_working_copy(branch: Branch) -> Comparison:
    """The branch's uncommitted changes with the documents at its head and in its rows."""
    if branch.head_id is None:
        current = get_workspace().all_documents(branch)
        return Comparison(diff_trees({}, current), {}, current)
    rids = [
        str(r) for r in WorkingChange.objects.filter(branch=branch).values_list("rid", flat=True)
    ]
    now = get_workspace().documents(branch, rids)
    before = store.documents_at(branch.head_id, rids)
    current = {rid: doc for rid, doc in now.items() if doc is not None}
    return Comparison(diff_trees(before, current, changed=rids), before, current)
