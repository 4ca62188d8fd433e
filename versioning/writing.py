"""How a commit lands on a branch: the branch lock, the writable and head checks, and the
one writer of a commit (blobs, commit row, compare-and-set on the head, the event).

Every service that moves a head (commit, merge, update from target, revert, releases)
uses these; :mod:`versioning.merging` and :mod:`versioning.services` build on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

import events

from . import metrics, store
from .exceptions import InvalidStateError, ProtectedBranchError, StaleHeadError, UnknownRefError
from .models import Branch, Commit, WorkingChange

Document = dict[str, Any]


EVENT_PREFIX = "com.oms.versioning"

COMMIT_CREATED = f"{EVENT_PREFIX}.commit.created.v1"

BRANCH_CREATED = f"{EVENT_PREFIX}.branch.created.v1"

BRANCH_DELETED = f"{EVENT_PREFIX}.branch.deleted.v1"

BRANCH_UPDATED = f"{EVENT_PREFIX}.branch.updated.v1"

PROPOSAL_OPENED = f"{EVENT_PREFIX}.proposal.opened.v1"

PROPOSAL_APPROVED = f"{EVENT_PREFIX}.proposal.approved.v1"

PROPOSAL_MERGED = f"{EVENT_PREFIX}.proposal.merged.v1"

PROPOSAL_CLOSED = f"{EVENT_PREFIX}.proposal.closed.v1"

PROPOSAL_RESOLVED = f"{EVENT_PREFIX}.proposal.resolved.v1"

PROPOSAL_COMMENTED = f"{EVENT_PREFIX}.proposal.commented.v1"

CHANGES_DISCARDED = f"{EVENT_PREFIX}.changes.discarded.v1"

EVENT_RIDS = 1000


def actor(user: Any) -> str | None:
    return getattr(user, "username", None) or None


def has_uncommitted_changes(branch: Branch) -> bool:
    return WorkingChange.objects.filter(branch=branch).exists()


def lock_branch(branch: Branch | str) -> Branch:
    """Re-read the branch row under a lock that serialises writers of this branch (but not
    the ontology's edits, which take only a key-share lock on it)."""
    # no join: after waiting for the lock, PostgreSQL re-reads only the locked row, so a
    # joined head committed meanwhile would read as NULL; the head is loaded afterwards
    qs = Branch.objects.select_for_update(no_key=True)
    pk = branch.pk if isinstance(branch, Branch) else None
    found = qs.filter(pk=pk).first() if pk else qs.filter(name=branch).first()
    if found is None:
        raise UnknownRefError(f"No branch '{branch}'.", field="branch")
    return found


def write_refusal(branch: Branch, *, system: bool = False) -> str:
    """The one rule for "may this branch change" ('' when it may): never when archived;
    when protected, only by a ``system`` write (a merge, a loader). Commits, merges,
    reverts, discards and the ontology's row edits ask it through :func:`check_writable`;
    the admin asks it to show or hide its edit controls."""
    if branch.archived:
        return f"Branch '{branch.name}' is archived and cannot change."
    if branch.protected and not system:
        return (
            f"Branch '{branch.name}' is protected: change it on another branch and merge a "
            "proposal."
        )
    return ""


def check_writable(branch: Branch, *, system: bool = False) -> None:
    """:func:`write_refusal` as a 403 (:class:`ProtectedBranchError`)."""
    refusal = write_refusal(branch, system=system)
    if refusal:
        raise ProtectedBranchError(refusal)


def check_head(branch: Branch, expected_head: str | None) -> None:
    if expected_head is not None and branch.head_id != expected_head:
        raise StaleHeadError(branch.name, expected_head, branch.head_id)


def check_clean(branch: Branch) -> None:
    if has_uncommitted_changes(branch):
        raise InvalidStateError(
            f"Branch '{branch.name}' has uncommitted changes: commit or discard them first."
        )


def write_commit(
    branch: Branch,
    *,
    changes: Mapping[str, Document | None],
    user: Any,
    message: str,
    merge_parent: Commit | None = None,
    encoded: Mapping[str, tuple[str, bytes | None]] | None = None,
) -> Commit:
    """Store blobs and the commit, move the head by compare-and-set, publish the event.

    ``encoded``: ``rid -> (hash, canonical bytes)`` the caller already computed (bytes
    ``None``: a document read from the store, see :func:`store.write_blobs`)."""
    parent = branch.head
    hashes = store.write_blobs(changes, encoded=encoded)
    delta = {rid: hashes[rid] for rid in sorted(changes)}
    commit = store.new_commit(
        parent=parent,
        merge_parent=merge_parent,
        delta=delta,
        user=user,
        message=message,
        branch_name=branch.name,
    )
    moved = Branch.objects.filter(pk=branch.pk, head_id=parent.id if parent else None).update(
        head=commit, updated_at=timezone.now()
    )
    if not moved:
        actual = Branch.objects.filter(pk=branch.pk).values_list("head_id", flat=True).first()
        raise StaleHeadError(branch.name, parent.id if parent else None, actual)
    branch.head = commit
    metrics.COMMITS.labels("merge" if merge_parent else "commit").inc()
    rids = sorted(delta)
    events.publish(
        COMMIT_CREATED,
        f"branches/{branch.name}/commits/{commit.id}",
        {
            "branch": branch.name,
            "commit": commit.id,
            "parents": commit.parent_ids,
            "author": commit.author_name,
            "message": message,
            "changed": len(rids),
            "deleted": sum(1 for h in delta.values() if h is None),
            "rids": rids[:EVENT_RIDS],
            "truncated": len(rids) > EVENT_RIDS,
        },
        branch=branch.name,
        commit=commit.id,
    )
    return commit
