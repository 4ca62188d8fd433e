"""Commits on a branch: committing its working changes, discarding them, reverting a
commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

import events

from .. import permissions, store
from ..exceptions import InvalidStateError, NothingToCommitError, VersioningError
from ..merging import land, merge_trees
from ..models import Branch, Commit, WorkingChange
from ..permissions import check
from ..workspace import get_workspace
from ..writing import (
    CHANGES_DISCARDED,
    EVENT_RIDS,
    Document,
    actor,
    check_clean,
    check_head,
    check_writable,
    lock_branch,
    write_commit,
)
from .reading import resolve_ref


def commit_changes(
    branch: Branch,
    user: Any,
    message: str,
    *,
    expected_head: str | None = None,
    system: bool = False,
    allow_empty: bool = False,
) -> Commit | None:
    """Commit the branch's working changes and advance its head.

    Reads only the dirty set's documents (the whole working copy for a branch's first
    commit), drops changes whose document is unchanged, and moves the head with a
    compare-and-set on ``expected_head`` (``None``: the head read under the lock).
    A protected branch takes commits only with ``system=True`` (merges, loaders).
    An acting ``user`` needs ``add_commit`` and the right to edit the branch (403).
    With ``allow_empty`` a commit with nothing to commit returns the head instead of
    raising :class:`NothingToCommitError`.
    """
    message = (message or "").strip()
    if not message:
        raise VersioningError("A commit needs a message.", field="message")
    with transaction.atomic():
        locked = lock_branch(branch)
        check_writable(locked, system=system)
        check(permissions.commit_refusal, user, locked, system=system)
        check_head(locked, expected_head)
        marks = list(
            WorkingChange.objects.filter(branch=locked).values_list("pk", "rid", "changed_at")
        )
        workspace = get_workspace()
        if locked.head_id is None:
            current: Mapping[str, Document | None] = workspace.all_documents(locked)
            before: dict[str, str] = {}
        else:
            rids = [str(rid) for _, rid, _ in marks]
            current = workspace.documents(locked, rids)
            before = store.hashes_at(locked.head_id, rids)
        encoded = {rid: store.encode(doc) for rid, doc in current.items() if doc is not None}
        pending = {
            rid: doc
            for rid, doc in current.items()
            if (encoded[rid][0] if doc is not None else None) != before.get(rid)
        }
        if not pending:
            if allow_empty:
                _clear_marks(marks)
                branch.head = locked.head
                return locked.head
            raise NothingToCommitError(f"Branch '{locked.name}' has nothing to commit.")
        commit = write_commit(locked, changes=pending, user=user, message=message, encoded=encoded)
        _clear_marks(marks)
    branch.head = commit
    return commit


def _clear_marks(marks: list[tuple[int, Any, Any]]) -> None:
    """Delete the marks that were read, unless an edit touched them again since.

    The marks are locked and re-read first (an edit's upsert of one waits for this
    transaction), so comparing ``changed_at`` in Python is exact, and the DELETE is a plain
    ``pk IN (...)`` rather than one OR-ed condition per mark."""
    read = {pk: changed_at for pk, _, changed_at in marks}
    pks = list(read)
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        now = WorkingChange.objects.select_for_update().filter(pk__in=chunk)
        same = [pk for pk, at in now.values_list("pk", "changed_at") if at == read[pk]]
        if same:
            WorkingChange.objects.filter(pk__in=same).delete()


def discard_changes(branch: Branch, user: Any, rids: Iterable[str] | None = None) -> list[str]:
    """Throw away the branch's uncommitted changes (all, or those of ``rids``): each changed
    entity gets back its document at the head — an entity deleted since is re-created, one
    created since is deleted, one updated is restored — and its working-change mark goes.

    One transaction under the branch lock (a commit or another discard waits). Refuses a
    protected or archived branch and, with an acting ``user``, a user who may not edit the
    branch (403); a branch without commits has nothing to go back to (409); a restore that
    would break what stays (a kept change still uses an entity being removed, a name taken
    meanwhile) is refused with 409 and changes nothing. Rids without an uncommitted change
    are skipped. Returns the rids discarded (sorted)."""
    wanted = None if rids is None else {str(r) for r in rids}
    with transaction.atomic():
        locked = lock_branch(branch)
        check_writable(locked, system=False)
        check(permissions.edit_refusal, user, locked)
        if locked.head_id is None:
            raise InvalidStateError(
                f"Branch '{locked.name}' has no commit to go back to: delete it instead."
            )
        marks = WorkingChange.objects.filter(branch=locked)
        if wanted is not None:
            marks = marks.filter(rid__in=wanted)
        marks = list(marks.values_list("pk", "rid", "changed_at"))
        if not marks:
            return []
        changed = sorted(str(rid) for _, rid, _ in marks)
        head = store.documents_at(locked.head_id, changed)
        restore = {rid: head.get(rid) for rid in changed}
        try:
            with transaction.atomic():
                get_workspace().apply(locked, restore)
        except (ValueError, ProtectedError, RestrictedError, IntegrityError) as exc:
            raise InvalidStateError(
                f"The changes cannot be discarded on their own: {_discard_reason(exc)} "
                "Discard the changes that depend on them too, or all of them."
            ) from exc
        _clear_marks(marks)
        events.publish(
            CHANGES_DISCARDED,
            f"branches/{locked.name}/changes",
            {
                "branch": locked.name,
                "head": locked.head_id,
                "actor": actor(user),
                "discarded": len(changed),
                "rids": changed[:EVENT_RIDS],
                "truncated": len(changed) > EVENT_RIDS,
            },
            branch=locked.name,
            commit=locked.head_id,
        )
    return changed


def _discard_reason(exc: Exception) -> str:
    if isinstance(exc, ProtectedError | RestrictedError):
        objs = getattr(exc, "protected_objects", None) or exc.restricted_objects
        return f"still used by {', '.join(sorted({str(o) for o in objs})[:10])}."
    if isinstance(exc, IntegrityError):
        return "a restored name or key is taken by an entity that stays."
    return f"{exc}."


def revert_commit(
    branch: Branch,
    commit: Commit | str,
    user: Any,
    *,
    expected_head: str | None = None,
    system: bool = False,
) -> Commit:
    """A new commit on ``branch`` undoing ``commit``'s delta (against its first parent),
    merged three-way with what the branch did since; conflicts are refused (409).
    An acting ``user`` needs ``add_commit`` and the right to edit the branch (403)."""
    with transaction.atomic():
        locked = lock_branch(branch)
        check_writable(locked, system=system)
        check(permissions.commit_refusal, user, locked, system=system)
        check_head(locked, expected_head)
        check_clean(locked)
        target = commit if isinstance(commit, Commit) else resolve_ref(commit)
        rids = set(target.delta)
        cache = store.BlobCache()
        trees = [
            store.TreeView(cid, cache) for cid in (target.id, locked.head_id, target.parent_id)
        ]
        result = merge_trees(*trees, rids)
        first_line = target.message.splitlines()[0] if target.message else target.id[:12]
        reverted = land(
            locked,
            result,
            trees[1],
            trees[2],
            user=user,
            message=f'Revert "{first_line}"\n\nThis reverts commit {target.id}.',
            conflicts=f"Reverting {target.id[:12]} conflicts with later changes.",
            nothing=f"Nothing of {target.id[:12]} is left to revert.",
        )
    branch.head = reverted
    return reverted
