"""Branches: creating (copying rows set-based), deleting, their settings, and the
per-branch edit grant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm

import events

from .. import permissions, store
from ..changes import mark_changed_many
from ..domain.modes import Mode
from ..exceptions import InvalidStateError, ProtectedBranchError, VersioningError
from ..models import MAIN_BRANCH, Branch, Commit, Proposal, WorkingChange
from ..permissions import EDIT_BRANCH, check
from ..workspace import get_workspace
from ..writing import BRANCH_CREATED, BRANCH_DELETED, BRANCH_UPDATED, actor, lock_branch
from .reading import commit_id_of


def grant_edit_branch(user: Any, branch: Branch) -> None:
    """Give ``user`` the per-branch grant to edit ``branch`` (guardian)."""
    if user is not None and getattr(user, "pk", None) is not None:
        assign_perm(EDIT_BRANCH, user, branch)


def _drop_grants(branch: Branch) -> None:
    """Delete the per-object grants of a branch that is being deleted."""
    ct = ContentType.objects.get_for_model(Branch)
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=ct, object_pk=str(branch.pk)).delete()


def create_branch(name: str, from_ref: str, user: Any, *, description: str = "") -> Branch:
    """A new branch from a branch (set-based copy of its rows, same head, same dirty set)
    or from a commit / release (a set-based copy of the rows of the branch closest to that
    commit, then that commit's documents for the rids where they differ; see
    :func:`_materialise`). Needs ``add_branch`` (403).

    It must be the outermost transaction (``durable``: calling it inside another atomic
    block is a ``RuntimeError``), so that the copy reads one snapshot."""
    check(permissions.create_branch_refusal, user)
    with transaction.atomic(durable=True):
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
            try:
                _materialise(branch, head_id)
            except ValueError as exc:  # the rule set's RuleViolation: nothing is kept
                raise InvalidStateError(
                    f"A branch cannot be made from {from_ref}: its tree breaks the ontology's "
                    f"rules. {exc}"
                ) from exc
        events.publish(
            BRANCH_CREATED,
            f"branches/{branch.name}",
            {
                "branch": branch.name,
                "from": str(from_ref),
                "head": head_id,
                "actor": actor(user),
            },
            branch=branch.name,
            commit=head_id,
        )
    return branch


def _one_snapshot() -> None:
    """Let the outermost transaction on PostgreSQL read in one snapshot (REPEATABLE READ).

    A branch copy is a statement per table: read committed, an edit committed between two
    of them (an object type and its new properties) would be half copied. The copy writes
    only the new branch's rows, so it cannot meet a serialisation failure. Inside a test
    case's transaction (the one outer block ``durable`` allows) the isolation is already
    set: left alone.
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
        locked = lock_branch(branch)
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
        events.publish(
            BRANCH_DELETED,
            f"branches/{name}",
            {"branch": name, "head": head, "actor": actor(user)},
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
    "compatibility_mode": permissions.compatibility_mode_refusal,
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
    if field == "compatibility_mode":
        if value not in {m.value for m in Mode}:
            return VersioningError(
                f"'{value}' is not a compatibility mode (one of {', '.join(Mode)}).",
                field="compatibilityMode",
            )
        return None
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
        locked = lock_branch(branch)
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
            events.publish(
                BRANCH_UPDATED,
                f"branches/{locked.name}",
                {
                    "branch": locked.name,
                    "head": locked.head_id,
                    "actor": actor(user),
                    "changes": changed,
                },
                branch=locked.name,
                commit=locked.head_id,
            )
    if isinstance(branch, Branch) and branch is not locked:
        for field in (*changed, "updated_at"):
            setattr(branch, field, getattr(locked, field))
    return locked
