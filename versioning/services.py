"""Versioning services: every write to branches, commits and proposals goes through these.

Each write runs in one transaction: lock the branch row, check (protection, then the
acting user's permission with its rule from :mod:`versioning.permissions`; ``user=None``
is an internal write with no user to check), write blobs and the commit, apply documents
to the ontology rows through the registered workspace, move the head with a
compare-and-set on the expected head, and publish the event through the outbox. Admin,
API, management commands and tasks all call these functions, and none can skip the
permission check.

Reading (``resolve_ref``, ``documents_at``, ``history``, ``diff``...) never rebuilds a
whole tree unless asked for one: see :mod:`versioning.store`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm

import events

from . import metrics, permissions, store
from .changes import mark_changed_many
from .domain.diff import TreeDiff, diff_trees
from .domain.graph import merge_base
from .domain.merge import MergeResult, merge3
from .domain.policy import Resolution, Severity
from .exceptions import (
    AmbiguousRefError,
    InvalidStateError,
    NotAllowedError,
    NothingToCommitError,
    ProtectedBranchError,
    StaleHeadError,
    UnknownRefError,
    UnresolvedConflictsError,
    VersioningError,
)
from .models import (
    MAIN_BRANCH,
    Approval,
    Branch,
    Commit,
    Proposal,
    ProposalStatus,
    WorkingChange,
)
from .permissions import APPROVE_PROPOSAL, EDIT_BRANCH, check
from .workspace import get_policy, get_workspace

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
CHANGES_DISCARDED = f"{EVENT_PREFIX}.changes.discarded.v1"

MIN_PREFIX = 7
_EVENT_RIDS = 1000

#: other apps (releases) resolve their own refs: ``fn(ref) -> commit id | None``
_ref_resolvers: list[Callable[[str], str | None]] = []


def register_ref_resolver(fn: Callable[[str], str | None]) -> None:
    """Let another app name commits (a release tag -> its commit id)."""
    if fn not in _ref_resolvers:
        _ref_resolvers.append(fn)


# --- branch grants (who may do what: versioning.permissions, checked by each service) ----


def grant_edit_branch(user: Any, branch: Branch) -> None:
    """Give ``user`` the per-branch grant to edit ``branch`` (guardian)."""
    if user is not None and getattr(user, "pk", None) is not None:
        assign_perm(EDIT_BRANCH, user, branch)


def _drop_grants(branch: Branch) -> None:
    """Delete the per-object grants of a branch that is being deleted."""
    ct = ContentType.objects.get_for_model(Branch)
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=ct, object_pk=str(branch.pk)).delete()


# --- refs and reading the past ----------------------------------------------------------


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


def has_uncommitted_changes(branch: Branch) -> bool:
    return WorkingChange.objects.filter(branch=branch).exists()


# --- commits -----------------------------------------------------------------------------


def _lock_branch(branch: Branch | str) -> Branch:
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


def _check_writable(branch: Branch, *, system: bool) -> None:
    if branch.archived:
        raise ProtectedBranchError(f"Branch '{branch.name}' is archived and cannot change.")
    if branch.protected and not system:
        raise ProtectedBranchError(
            f"Branch '{branch.name}' is protected: change it on another branch and merge a "
            "proposal."
        )


def _check_head(branch: Branch, expected_head: str | None) -> None:
    if expected_head is not None and branch.head_id != expected_head:
        raise StaleHeadError(branch.name, expected_head, branch.head_id)


def _publish(type: str, subject: str, data: dict[str, Any], **kwargs: Any) -> None:
    events.publish(type, subject, data, **kwargs)


def _write(
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
    _publish(
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
            "rids": rids[:_EVENT_RIDS],
            "truncated": len(rids) > _EVENT_RIDS,
        },
        branch=branch.name,
        commit=commit.id,
    )
    return commit


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
        locked = _lock_branch(branch)
        _check_writable(locked, system=system)
        check(permissions.commit_refusal, user, locked, system=system)
        _check_head(locked, expected_head)
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
        commit = _write(locked, changes=pending, user=user, message=message, encoded=encoded)
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


# --- discarding working changes ---------------------------------------------------------


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
        locked = _lock_branch(branch)
        _check_writable(locked, system=False)
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
        _publish(
            CHANGES_DISCARDED,
            f"branches/{locked.name}/changes",
            {
                "branch": locked.name,
                "head": locked.head_id,
                "actor": _actor(user),
                "discarded": len(changed),
                "rids": changed[:_EVENT_RIDS],
                "truncated": len(changed) > _EVENT_RIDS,
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


# --- branches ----------------------------------------------------------------------------


def create_branch(name: str, from_ref: str, user: Any, *, description: str = "") -> Branch:
    """A new branch from a branch (set-based copy of its rows, same head, same dirty set)
    or from a commit / release (a set-based copy of the rows of the branch closest to that
    commit, then that commit's documents for the rids where they differ; see
    :func:`_materialise`). Needs ``add_branch`` (403)."""
    check(permissions.create_branch_refusal, user)
    with transaction.atomic():
        _one_snapshot()
        source = Branch.objects.filter(name=from_ref).first()
        head_id = source.head_id if source else commit_id_of(from_ref)
        branch = Branch(
            name=name,
            head_id=head_id,
            created_from=str(from_ref)[:120],
            created_by=user,
            description=description,
        )
        branch.full_clean()
        branch.save()
        grant_edit_branch(user, branch)
        workspace = get_workspace()
        if source is not None:
            workspace.copy_rows(source, branch)
            marks = WorkingChange.objects.filter(branch=source).values_list("rid", "kind")
            mark_changed_many(branch.pk, marks)
        else:
            _materialise(branch, head_id)
        _publish(
            BRANCH_CREATED,
            f"branches/{branch.name}",
            {
                "branch": branch.name,
                "from": str(from_ref),
                "head": head_id,
                "actor": _actor(user),
            },
            branch=branch.name,
            commit=head_id,
        )
    return branch


def _one_snapshot() -> None:
    """Let the outermost transaction on PostgreSQL read in one snapshot (REPEATABLE READ).

    A branch copy is a statement per table: read committed, an edit committed between two
    of them (an object type and its new properties) would be half copied. The copy writes
    only the new branch's rows, so it cannot meet a serialisation failure. Inside an outer
    transaction (tests, a caller's atomic block) the isolation is already set: left alone.
    """
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


# a donor whose rows differ from the commit's tree in more than this share of its rids is
# not used: writing those documents costs more than writing the whole tree would
_DONOR_MAX_SHARE = 0.6


def _materialise(branch: Branch, commit_id: str | None) -> None:
    """Write the tree of ``commit_id`` onto the empty ``branch``'s rows.

    Documents are written row by row (about 2.5 ms per object type with 20 properties), so
    the whole tree of a large ontology would take seconds. Instead the rows of the branch
    closest to the commit are copied set-based, as a branch from a branch is, and only the
    rids where they may differ are written from the commit's documents: those the commits
    between the donor's head and ``commit_id`` changed, and the donor's uncommitted ones.
    """
    if commit_id is None:
        return
    workspace = get_workspace()
    donor, rids = _closest_rows(commit_id, besides=branch)
    if donor is None:
        workspace.apply(branch, store.documents_at(commit_id))
        return
    workspace.copy_rows(donor, branch)
    if rids:
        docs = store.documents_at(commit_id, rids)
        workspace.apply(branch, {rid: docs.get(rid) for rid in sorted(rids)})


def _closest_rows(commit_id: str, *, besides: Branch) -> tuple[Branch | None, set[str]]:
    """The branch whose rows are closest to ``commit_id``'s tree (among ``main``, the
    branch the commit was made on and branches whose head it is) and the rids in which
    they may differ; ``(None, ...)`` when none is close enough to be worth copying."""
    made_on = Commit.objects.filter(pk=commit_id).values_list("branch_name", flat=True).first()
    names = {MAIN_BRANCH, *([made_on] if made_on else [])}
    candidates = list(
        Branch.objects.filter(head__isnull=False)
        .filter(Q(head_id=commit_id) | Q(name__in=names))
        .exclude(pk=besides.pk)
        .order_by("pk")
    )
    if not candidates:
        return None, set()
    marks: dict[int, set[str]] = {c.pk: set() for c in candidates}
    for branch_id, rid in WorkingChange.objects.filter(branch__in=candidates).values_list(
        "branch_id", "rid"
    ):
        marks[branch_id].add(str(rid))
    graph = store.Graph()
    best: tuple[Branch, set[str]] | None = None
    for candidate in candidates:
        rids = marks[candidate.pk]
        if candidate.head_id != commit_id:
            rids |= store.changed_rids(graph, candidate.head_id, commit_id)
        if best is None or len(rids) < len(best[1]):
            best = (candidate, rids)
        if not rids:
            return best  # its rows are the commit's tree: nothing to write
    total = len(store.hashes_at(commit_id)) or 1
    if len(best[1]) > _DONOR_MAX_SHARE * total:
        return None, set()
    return best


def _active_proposals(branch: Branch):
    return Proposal.objects.filter(
        Q(source=branch) | Q(target=branch), status__in=Proposal.ACTIVE
    ).order_by("pk")


def delete_branch(branch: Branch, user: Any) -> None:
    """Delete a branch with its working copy. Refuses main and protected branches (403), a
    user without ``delete_branch`` on it (403) and branches that open proposals use (409):
    close those proposals first."""
    with transaction.atomic():
        locked = _lock_branch(branch)
        if locked.name == MAIN_BRANCH or locked.protected:
            raise ProtectedBranchError(
                f"Branch '{locked.name}' is protected and cannot be deleted."
            )
        check(permissions.delete_branch_refusal, user, locked)
        active = list(_active_proposals(locked).values_list("pk", flat=True))
        if active:
            raise InvalidStateError(
                f"Branch '{locked.name}' is used by open proposals "
                f"{', '.join(f'#{pk}' for pk in active)}: close them first.",
                extra={"proposals": active},
            )
        name, head = locked.name, locked.head_id
        _drop_rows(locked)
        _drop_grants(locked)
        locked.delete()
        _publish(
            BRANCH_DELETED,
            f"branches/{name}",
            {"branch": name, "head": head, "actor": _actor(user)},
            branch=name,
            commit=head,
        )


def _drop_rows(branch: Branch) -> None:
    """Delete the branch's working copy (set-based, by the workspace)."""
    get_workspace().drop_rows(branch)


def archive_branch(branch: Branch, user: Any, *, archived: bool = True) -> Branch:
    """Archive (read-only; old commits may be compacted) or un-archive a branch: the
    ``archived`` setting of :func:`update_branch` (main is refused, 403; needs
    ``change_branch`` on the branch, 403)."""
    return update_branch(branch, user, archived=archived)


#: what :func:`update_branch` changes, each with its rule; a branch's name never changes
BRANCH_SETTINGS: dict[str, permissions.Rule] = {
    "description": permissions.describe_branch_refusal,
    "archived": permissions.archive_branch_refusal,
    "protected": permissions.protect_branch_refusal,
}
NOT_A_SETTING = f"Not a setting of a branch (one of {', '.join(BRANCH_SETTINGS)})."
NAME_IS_FIXED = (
    "A branch's name cannot change: URLs, events, commits and proposals refer to the branch "
    "by its name. Create a branch from this one under the new name instead."
)


def _setting_refusal(branch: Branch, field: str, value: Any) -> VersioningError | None:
    """What the branch's state refuses, whoever asks: a rename, a wrong type, main."""
    if field == "name":
        return VersioningError(NAME_IS_FIXED, field="name")
    if field not in BRANCH_SETTINGS:
        return VersioningError(NOT_A_SETTING, field=field)
    kind = str if field == "description" else bool
    if not isinstance(value, kind):
        return VersioningError(
            f"{field} must be {'text' if kind is str else 'true or false'}.", field=field
        )
    if branch.name == MAIN_BRANCH and field == "archived" and value:
        return ProtectedBranchError("The main branch cannot be archived.", field="archived")
    if branch.name == MAIN_BRANCH and field == "protected" and not value:
        return ProtectedBranchError(
            "The main branch stays protected: it changes only by merging proposals.",
            field="protected",
        )
    return None


def branch_update_refusals(
    branch: Branch, user: Any, changes: Mapping[str, Any]
) -> dict[str, VersioningError]:
    """Why :func:`update_branch` would refuse each of ``changes`` (``field -> error``, in
    the order of ``BRANCH_SETTINGS``; empty: it would not): the branch's state first (main
    is never archived nor unprotected, 403; a rename or a value of the wrong type, 400),
    then the field's rule for an acting ``user`` (403). The admin's change form asks it to
    show each refusal on its field; ``update_branch`` asks it again under the branch lock."""
    order = [*BRANCH_SETTINGS, *sorted(set(changes) - set(BRANCH_SETTINGS))]
    refusals = {}
    for field in (f for f in order if f in changes):
        refusal = _setting_refusal(branch, field, changes[field])
        if refusal is None and user is not None:
            refusal = BRANCH_SETTINGS[field](user, branch)
        if refusal is not None:
            refusals[field] = refusal
    return refusals


def update_branch(branch: Branch, user: Any, **changes: Any) -> Branch:
    """Change a branch's settings (``description``, ``archived``, ``protected``) in one
    transaction under the branch lock, and publish one ``branch.updated.v1`` event with
    what changed (``{field: {old, new}}``; nothing changed: no write, no event).

    Every field given is checked, changed or not (see :func:`branch_update_refusals`):
    ``description`` and ``archived`` need ``change_branch`` model-wide or granted on the
    branch, ``protected`` needs it model-wide; main can be neither archived nor
    unprotected; the name never changes. The first refusal is raised; nothing is written.
    """
    with transaction.atomic():
        locked = _lock_branch(branch)
        refusals = branch_update_refusals(locked, user, changes)
        if refusals:
            raise next(iter(refusals.values()))
        changed = {
            field: {"old": getattr(locked, field), "new": changes[field]}
            for field in BRANCH_SETTINGS
            if field in changes and getattr(locked, field) != changes[field]
        }
        if changed:
            for field, change in changed.items():
                setattr(locked, field, change["new"])
            locked.save(update_fields=[*changed, "updated_at"])
            _publish(
                BRANCH_UPDATED,
                f"branches/{locked.name}",
                {
                    "branch": locked.name,
                    "head": locked.head_id,
                    "actor": _actor(user),
                    "changes": changed,
                },
                branch=locked.name,
                commit=locked.head_id,
            )
    if isinstance(branch, Branch) and branch is not locked:
        for field in (*changed, "updated_at"):
            setattr(branch, field, getattr(locked, field))
    return locked


# --- merging -------------------------------------------------------------------------------


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

    def unresolved(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.result.conflicts if not c.resolved]


def _resolutions(stored: Mapping[str, Any], *, flip: bool = False) -> dict[str, Resolution]:
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
    result = _merge_trees(*trees, changed, resolutions)
    return Merge(base, ours, theirs, result, *trees, theirs_changed)


def _merge_trees(
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


def _stored(result: MergeResult, theirs: store.TreeView) -> dict[str, tuple[str, None]]:
    """``rid -> (hash, None)`` of the merged documents that are theirs' as stored (the same
    object, read from its blob): the merge commit need not encode and hash them again."""
    return {
        rid: (h, None)
        for rid, doc in result.tree_changes.items()
        if doc is not None and (h := theirs.hash_of(rid)) is not None and doc is theirs.get(rid)
    }


def _apply(
    branch: Branch, changes: Mapping[str, Document | None], head: Mapping[str, Document]
) -> None:
    """Write ``changes`` onto a clean branch's rows; ``head`` (its head tree) tells the
    workspace what the rows hold, so it skips children that did not change."""
    before = {rid: head.get(rid) for rid in changes}
    try:
        get_workspace().apply(branch, changes, before)
    except ValueError as exc:
        raise InvalidStateError(f"The merged ontology cannot be written: {exc}") from exc


def _check_clean(branch: Branch) -> None:
    if has_uncommitted_changes(branch):
        raise InvalidStateError(
            f"Branch '{branch.name}' has uncommitted changes: commit or discard them first."
        )


# --- proposals -----------------------------------------------------------------------------


def _actor(user: Any) -> str | None:
    return getattr(user, "username", None) or None


def _proposal_event(type: str, proposal: Proposal, user: Any, **extra: Any) -> None:
    _publish(
        type,
        f"proposals/{proposal.pk}",
        {
            "proposal": proposal.pk,
            "title": proposal.title,
            "source": proposal.source_name,
            "target": proposal.target_name,
            "status": proposal.status,
            "actor": _actor(user),
            **extra,
        },
        branch=proposal.target_name,
        commit=extra.get("mergeCommit"),
    )


def open_proposal(
    source: Branch,
    target: Branch,
    title: str,
    user: Any,
    *,
    description: str = "",
    reviewers: Iterable[Any] = (),
) -> Proposal:
    """Propose merging ``source`` into ``target``. Needs ``add_proposal`` (403)."""
    check(permissions.open_proposal_refusal, user)
    if source.pk == target.pk:
        raise VersioningError("A proposal merges one branch into another.", field="target")
    if not (title or "").strip():
        raise VersioningError("A proposal needs a title.", field="title")
    if target.archived:
        raise ProtectedBranchError(f"Branch '{target.name}' is archived.")
    with transaction.atomic():
        existing = Proposal.objects.filter(
            source=source, target=target, status__in=Proposal.ACTIVE
        ).first()
        if existing is not None:
            raise InvalidStateError(
                f"Proposal #{existing.pk} already merges '{source.name}' into '{target.name}'.",
                extra={"proposal": existing.pk},
            )
        proposal = Proposal.objects.create(
            source=source,
            target=target,
            source_name=source.name,
            target_name=target.name,
            title=title.strip(),
            description=description,
            author=user,
        )
        if reviewers:
            proposal.reviewers.set(reviewers)
        _proposal_event(PROPOSAL_OPENED, proposal, user)
    return proposal


def _branches_of(proposal: Proposal) -> tuple[Branch, Branch]:
    if proposal.source_id is None or proposal.target_id is None:
        raise InvalidStateError(f"A branch of proposal #{proposal.pk} was deleted.")
    return proposal.source, proposal.target


def _source_head(proposal: Proposal) -> str:
    """The proposal's source head as an approval records it (``""``: no commit yet)."""
    head = Branch.objects.filter(pk=proposal.source_id).values_list("head_id", flat=True)
    return head.first() or ""


def current_approvals(proposal: Proposal, source_head: str | None = None):
    """Approvals given to the source as it is now: new commits on the source after an
    approval need a new one (a reviewer approves what they saw, not what came later)."""
    if source_head is None:
        source_head = _source_head(proposal)
    return proposal.approvals.filter(source_head=source_head or "")


def approved_by_other(proposal: Proposal, source_head: str | None = None) -> bool:
    return current_approvals(proposal, source_head).exclude(user_id=proposal.author_id).exists()


def dry_run(proposal: Proposal) -> dict[str, Any]:
    """What merging the proposal now would do: the source's changes, the conflicts with
    their severities and proposed resolutions (stored choices applied), and whether it can
    merge (conflicts, approvals)."""
    proposal = Proposal.objects.select_related("source", "target").get(pk=proposal.pk)
    source, target = _branches_of(proposal)
    merge = three_way(target.head_id, source.head_id, _resolutions(proposal.resolutions))
    return _dry_run_dict(proposal, source, target, merge)


def _dry_run_dict(proposal: Proposal, source: Branch, target: Branch, merge: Merge) -> dict:
    result = merge.result
    counts = {s.value: 0 for s in Severity}
    for conflict in result.conflicts:
        counts[conflict.severity.value] += 1
    needs_approval = target.protected and not approved_by_other(proposal, merge.theirs)
    source_changes = diff_trees(merge.base_tree, merge.theirs_tree, changed=merge.theirs_changed)
    merged = _merge_changes(merge, source_changes)
    return {
        "proposal": proposal.pk,
        "status": proposal.status,
        "base": merge.base,
        "targetHead": merge.ours,
        "sourceHead": merge.theirs,
        "upToDate": merge.up_to_date,
        "diff": source_changes.to_dict()["changes"],
        "mergeChanges": merged.to_dict()["changes"],
        "conflicts": [c.to_dict() for c in result.conflicts],
        "counts": counts,
        "canMerge": result.can_merge,
        "needsApproval": needs_approval,
        # approvals of the source head being merged (older ones need renewing)
        "approvals": list(
            current_approvals(proposal, merge.theirs).values_list("user__username", flat=True)
        ),
        "sourceHasUncommittedChanges": has_uncommitted_changes(source),
        "mergeable": (
            proposal.is_active and result.can_merge and not needs_approval and not merge.up_to_date
        ),
    }


def _merge_changes(merge: Merge, source_changes: TreeDiff) -> TreeDiff:
    """What the merge changes on the target (ours -> merged). Where the target still has
    the base's document and the merge takes the source's, that is the source's change,
    already diffed: it is reused, not computed again."""
    known = source_changes.by_rid()
    reused, rest = [], []
    for rid, doc in merge.result.tree_changes.items():
        if (
            rid in known
            and merge.ours_tree.hash_of(rid) == merge.base_tree.hash_of(rid)
            and doc is merge.theirs_tree.get(rid)
        ):
            reused.append(known[rid])
        else:
            rest.append(rid)
    computed = diff_trees(merge.ours_tree, merge.result.view, changed=rest).changes
    return TreeDiff(sorted([*reused, *computed], key=lambda change: change.rid))


RESOLUTION_CHOICES = ("ours", "theirs", "value")
_SYNCED = ("status", "resolutions", "merge_commit_id", "merged_by_id", "merged_at", "updated_at")


def _lock_proposal(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)


def _sync(caller: Proposal, fresh: Proposal) -> None:
    """Let the caller's instance see what the service wrote on the locked copy."""
    if caller is not fresh:
        for name in _SYNCED:
            setattr(caller, name, getattr(fresh, name))


def resolve(
    proposal: Proposal, conflict_id: str, choice: str | None, value: Any, user: Any
) -> Proposal:
    """Store a steward's choice for one ERROR (or WARN) conflict of the current dry run;
    ``choice=None`` forgets it. *ours* is the target's side, *theirs* the source's.
    The author, ``change_proposal`` or ``merge_branch`` on the target (403)."""
    with transaction.atomic():
        caller, proposal = proposal, _lock_proposal(proposal)
        check(permissions.resolve_refusal, user, proposal)
        if not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        if choice is not None and choice not in RESOLUTION_CHOICES:
            raise VersioningError(f"Choose one of {', '.join(RESOLUTION_CHOICES)}.", field="choice")
        source, target = _branches_of(proposal)
        merge = three_way(target.head_id, source.head_id, _resolutions(proposal.resolutions))
        conflict = next((c for c in merge.result.conflicts if c.id == conflict_id), None)
        if conflict is None:
            raise VersioningError(
                f"The current dry run has no conflict '{conflict_id}'.", field="conflictId"
            )
        if conflict.severity is Severity.BLOCK:
            raise InvalidStateError(
                f"'{conflict_id}' breaks a rule of the merged ontology ({conflict.message}); "
                "fix it on a branch."
            )
        if conflict.severity is Severity.INFO:
            raise VersioningError("Both sides agree: nothing to resolve.", field="conflictId")
        resolutions = dict(proposal.resolutions or {})
        if choice is None:
            resolutions.pop(conflict_id, None)
        else:
            resolutions[conflict_id] = {
                "choice": choice,
                "value": get_workspace().stored_value(value) if choice == "value" else None,
                "by": _actor(user),
                "at": timezone.now().isoformat(),
            }
        proposal.resolutions = resolutions
        proposal.save(update_fields=["resolutions", "updated_at"])
        _proposal_event(
            PROPOSAL_RESOLVED,
            proposal,
            user,
            conflictId=conflict_id,
            severity=conflict.severity.value,
            choice=choice,
        )
    _sync(caller, proposal)
    return proposal


def approve(proposal: Proposal, user: Any) -> Approval:
    """Approve a proposal: ``approve_proposal`` on the target, not by its author (403).
    An approval records who gave it: there is no approval without a user."""
    if user is None:
        raise NotAllowedError("An approval is given by a user.", permission=APPROVE_PROPOSAL)
    with transaction.atomic():
        caller, proposal = proposal, _lock_proposal(proposal)
        check(permissions.approve_refusal, user, proposal)
        if not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        approval, _ = Approval.objects.update_or_create(
            proposal=proposal, user=user, defaults={"source_head": _source_head(proposal)}
        )
        if proposal.status == ProposalStatus.OPEN:
            proposal.status = ProposalStatus.APPROVED
            proposal.save(update_fields=["status", "updated_at"])
        _proposal_event(PROPOSAL_APPROVED, proposal, user)
    _sync(caller, proposal)
    return approval


def merge_proposal(proposal: Proposal, user: Any) -> Commit:
    """Merge the proposal in one transaction: lock the proposal and the target, dry-run with
    the stored resolutions, refuse (409) unresolved ERROR and any BLOCK conflicts, apply
    the merged documents to the target's rows, write one merge commit with two parents and
    move the target's head by compare-and-set. Needs ``merge_branch`` on the target (403)."""
    with transaction.atomic():
        caller, proposal = proposal, _lock_proposal(proposal)
        check(permissions.merge_refusal, user, proposal)
        if proposal.status == ProposalStatus.MERGED:
            raise InvalidStateError(
                f"Proposal #{proposal.pk} is already merged.",
                extra={"mergeCommit": proposal.merge_commit_id},
            )
        if not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        source, _ = _branches_of(proposal)
        target = _lock_branch(proposal.target)
        _check_writable(target, system=True)
        _check_clean(target)
        source = Branch.objects.select_related("head").get(pk=source.pk)
        if target.protected and not approved_by_other(proposal, source.head_id):
            raise InvalidStateError(
                f"'{target.name}' is protected: the proposal needs an approval of the "
                "source's latest commit from someone other than its author."
            )
        merge = three_way(
            target.head_id,
            source.head_id,
            _resolutions(proposal.resolutions),
            operation="merge",
        )
        if merge.up_to_date:
            raise InvalidStateError(f"'{target.name}' already has every commit of '{source.name}'.")
        unresolved = merge.unresolved()
        if unresolved:
            raise UnresolvedConflictsError(
                f"{len(unresolved)} conflict(s) must be resolved before merging.", unresolved
            )
        changes = merge.result.tree_changes
        _apply(target, changes, merge.ours_tree)
        commit = _write(
            target,
            changes=changes,
            user=user,
            message=f"Merge proposal #{proposal.pk}: {proposal.title}\n\n"
            f"Merge '{source.name}' into '{target.name}'.",
            merge_parent=source.head,
            encoded=_stored(merge.result, merge.theirs_tree),
        )
        proposal.status = ProposalStatus.MERGED
        proposal.merge_commit = commit
        proposal.merged_by = user
        proposal.merged_at = timezone.now()
        proposal.save(
            update_fields=["status", "merge_commit", "merged_by", "merged_at", "updated_at"]
        )
        _proposal_event(PROPOSAL_MERGED, proposal, user, mergeCommit=commit.id)
    _sync(caller, proposal)
    return commit


def update_from_target(proposal: Proposal, user: Any) -> Commit:
    """Bring the target's new commits into the source branch (a merge commit on the
    source), with the proposal's stored resolutions. The source must have no uncommitted
    changes; the user needs to be allowed to commit on it (403)."""
    with transaction.atomic():
        proposal = _lock_proposal(proposal)
        if not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        _, target = _branches_of(proposal)
        source = _lock_branch(proposal.source)
        _check_writable(source, system=False)
        check(permissions.commit_refusal, user, source)
        _check_clean(source)
        target = Branch.objects.select_related("head").get(pk=target.pk)
        merge = three_way(
            source.head_id,
            target.head_id,
            _resolutions(proposal.resolutions, flip=True),
            operation="update_from_target",
        )
        if merge.up_to_date:
            raise InvalidStateError(f"'{source.name}' is already up to date with '{target.name}'.")
        unresolved = merge.unresolved()
        if unresolved:
            raise UnresolvedConflictsError(
                f"{len(unresolved)} conflict(s) must be resolved first.", unresolved
            )
        changes = merge.result.tree_changes
        _apply(source, changes, merge.ours_tree)
        return _write(
            source,
            changes=changes,
            user=user,
            message=f"Update '{source.name}' from '{target.name}' (proposal #{proposal.pk}).",
            merge_parent=target.head,
            encoded=_stored(merge.result, merge.theirs_tree),
        )


def close_proposal(proposal: Proposal, user: Any) -> Proposal:
    """Close an active proposal: its author, or ``change_proposal`` (403)."""
    with transaction.atomic():
        caller, proposal = proposal, _lock_proposal(proposal)
        check(permissions.close_refusal, user, proposal)
        if not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        proposal.status = ProposalStatus.CLOSED
        proposal.save(update_fields=["status", "updated_at"])
        _proposal_event(PROPOSAL_CLOSED, proposal, user)
    _sync(caller, proposal)
    return proposal


# --- revert --------------------------------------------------------------------------------


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
        locked = _lock_branch(branch)
        _check_writable(locked, system=system)
        check(permissions.commit_refusal, user, locked, system=system)
        _check_head(locked, expected_head)
        _check_clean(locked)
        target = commit if isinstance(commit, Commit) else resolve_ref(commit)
        rids = set(target.delta)
        cache = store.BlobCache()
        trees = [
            store.TreeView(cid, cache) for cid in (target.id, locked.head_id, target.parent_id)
        ]
        result = _merge_trees(*trees, rids)
        unresolved = [c.to_dict() for c in result.conflicts if not c.resolved]
        if unresolved:
            raise UnresolvedConflictsError(
                f"Reverting {target.id[:12]} conflicts with later changes.", unresolved
            )
        if not result.tree_changes:
            raise NothingToCommitError(f"Nothing of {target.id[:12]} is left to revert.")
        _apply(locked, result.tree_changes, trees[1])
        first_line = target.message.splitlines()[0] if target.message else target.id[:12]
        reverted = _write(
            locked,
            changes=result.tree_changes,
            user=user,
            message=f'Revert "{first_line}"\n\nThis reverts commit {target.id}.',
            encoded=_stored(result, trees[2]),
        )
    branch.head = reverted
    return reverted
