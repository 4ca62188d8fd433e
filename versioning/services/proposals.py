"""Proposals (merge requests): open, dry run, resolve conflicts, approve, merge, update
the source from the target, close."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

import events

from .. import compat_modes, permissions, resolutions
from ..domain.diff import TreeDiff, diff_trees
from ..domain.policy import Severity
from ..exceptions import InvalidStateError, NotAllowedError, ProtectedBranchError, VersioningError
from ..merging import Merge, land, resolutions_from, three_way
from ..models import Approval, Branch, Commit, Proposal, ProposalComment, ProposalStatus
from ..permissions import APPROVE_PROPOSAL, check
from ..workspace import get_workspace
from ..writing import (
    PROPOSAL_APPROVED,
    PROPOSAL_CLOSED,
    PROPOSAL_MERGED,
    PROPOSAL_OPENED,
    PROPOSAL_RESOLVED,
    actor,
    check_clean,
    check_writable,
    has_uncommitted_changes,
    lock_branch,
)


def _proposal_event(type: str, proposal: Proposal, user: Any, **extra: Any) -> None:
    events.publish(
        type,
        f"proposals/{proposal.pk}",
        {
            "proposal": proposal.pk,
            "title": proposal.title,
            "source": proposal.source_name,
            "target": proposal.target_name,
            "status": proposal.status,
            "actor": actor(user),
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


def changes_requested(proposal: Proposal) -> list[str]:
    """The reviewers whose request for changes stands: they asked for changes and have
    not approved since (requesting changes withdraws one's approval)."""
    approvers = Approval.objects.filter(proposal_id=proposal.pk).values("user_id")
    names = (
        ProposalComment.objects.filter(proposal_id=proposal.pk, requests_changes=True)
        .exclude(author=None)
        .exclude(author_id__in=approvers)
        .values_list("author_name", flat=True)
    )
    return sorted(set(names))


def dry_run(proposal: Proposal) -> dict[str, Any]:
    """What merging the proposal now would do: the source's changes, the conflicts with
    their severities and proposed resolutions (stored choices applied), and whether it can
    merge (conflicts, approvals)."""
    proposal = Proposal.objects.select_related("source", "target").get(pk=proposal.pk)
    source, target = _branches_of(proposal)
    merge, remembered = resolutions.with_memory(
        lambda chosen: three_way(target.head_id, source.head_id, chosen),
        resolutions_from(proposal.resolutions),
    )
    out = _dry_run_dict(proposal, source, target, merge)
    resolutions.annotate(out["conflicts"], remembered)
    report, sections = compat_modes.dry_run_sections(target, merge)
    out.update(sections)
    out["mergeable"] = out["mergeable"] and not report.findings
    return out


def _dry_run_dict(proposal: Proposal, source: Branch, target: Branch, merge: Merge) -> dict:
    result = merge.result
    counts = {s.value: 0 for s in Severity}
    for conflict in result.conflicts:
        counts[conflict.severity.value] += 1
    needs_approval = target.protected and not approved_by_other(proposal, merge.theirs)
    waiting = changes_requested(proposal)
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
        "changesRequested": waiting,
        "sourceHasUncommittedChanges": has_uncommitted_changes(source),
        "mergeable": (
            proposal.is_active
            and result.can_merge
            and not needs_approval
            and not waiting
            and not merge.up_to_date
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
        merge = three_way(target.head_id, source.head_id, resolutions_from(proposal.resolutions))
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
        stored = dict(proposal.resolutions or {})
        if choice is None:
            stored.pop(conflict_id, None)
        else:
            stored[conflict_id] = {
                "choice": choice,
                "value": get_workspace().stored_value(value) if choice == "value" else None,
                "by": actor(user),
                "at": timezone.now().isoformat(),
            }
        proposal.resolutions = stored
        proposal.save(update_fields=["resolutions", "updated_at"])
        chosen = stored.get(conflict_id, {})
        resolutions.remember(conflict, choice, chosen.get("value"), user, proposal.pk)
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


def merge_proposal(proposal: Proposal, user: Any, *, override: bool = False) -> Commit:
    """Merge the proposal in one transaction: lock the proposal and the target, dry-run with
    the stored resolutions (and remembered ones), refuse (409) unresolved ERROR and any
    BLOCK conflicts, and the findings of the target's compatibility mode unless
    ``override`` (needs ``override_compatibility``, recorded on the commit and the event),
    apply the merged documents to the target's rows, write one merge commit with two
    parents and move the target's head by compare-and-set. Needs ``merge_branch`` on the
    target (403)."""
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
        target = lock_branch(proposal.target)
        check_writable(target, system=True)
        check_clean(target)
        source = Branch.objects.select_related("head").get(pk=source.pk)
        if target.protected and not approved_by_other(proposal, source.head_id):
            raise InvalidStateError(
                f"'{target.name}' is protected: the proposal needs an approval of the "
                "source's latest commit from someone other than its author."
            )
        waiting = changes_requested(proposal)
        if waiting:
            raise InvalidStateError(
                f"{', '.join(waiting)} requested changes: the merge waits for their approval."
            )
        merge, _ = resolutions.with_memory(
            lambda chosen: three_way(target.head_id, source.head_id, chosen, operation="merge"),
            resolutions_from(proposal.resolutions),
        )
        if merge.up_to_date:
            raise InvalidStateError(f"'{target.name}' already has every commit of '{source.name}'.")
        overridden = None
        if merge.result.can_merge:
            report = compat_modes.check_merge(target, merge)
            overridden = compat_modes.enforce(
                target, report.findings, user, override=override, action="merge"
            )
        trailer = f"\n\n{compat_modes.override_trailer(overridden)}" if overridden else ""
        commit = land(
            target,
            merge.result,
            merge.ours_tree,
            merge.theirs_tree,
            user=user,
            message=f"Merge proposal #{proposal.pk}: {proposal.title}\n\n"
            f"Merge '{source.name}' into '{target.name}'.{trailer}",
            conflicts="{count} conflict(s) must be resolved before merging.",
            merge_parent=source.head,
        )
        proposal.status = ProposalStatus.MERGED
        proposal.merge_commit = commit
        proposal.merged_by = user
        proposal.merged_at = timezone.now()
        proposal.save(
            update_fields=["status", "merge_commit", "merged_by", "merged_at", "updated_at"]
        )
        extra = {"compatibilityOverride": overridden} if overridden else {}
        _proposal_event(PROPOSAL_MERGED, proposal, user, mergeCommit=commit.id, **extra)
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
        source = lock_branch(proposal.source)
        check_writable(source, system=False)
        check(permissions.commit_refusal, user, source)
        check_clean(source)
        target = Branch.objects.select_related("head").get(pk=target.pk)
        merge, _ = resolutions.with_memory(
            lambda chosen: three_way(
                source.head_id, target.head_id, chosen, operation="update_from_target"
            ),
            resolutions_from(proposal.resolutions, flip=True),
            flip=True,
        )
        if merge.up_to_date:
            raise InvalidStateError(f"'{source.name}' is already up to date with '{target.name}'.")
        return land(
            source,
            merge.result,
            merge.ours_tree,
            merge.theirs_tree,
            user=user,
            message=f"Update '{source.name}' from '{target.name}' (proposal #{proposal.pk}).",
            conflicts="{count} conflict(s) must be resolved first.",
            merge_parent=target.head,
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
