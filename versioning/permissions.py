"""Who may write what in versioning: one function per rule.

A rule takes the user (and the branch or proposal acted on) and returns ``None`` when the
user may act, else the :class:`~versioning.exceptions.NotAllowedError` (403) to raise,
naming the permission. The write services enforce their rule themselves with
:func:`check`, so a caller that forgets (a task, a management command, a new view) cannot
skip it; the REST API asks the same rule to answer 403 before reading a body, and the
admin asks it (:func:`allowed`) to show a button or answer 403.

``user=None`` (or ``system=True`` where a service takes it) is an internal write by a
loader, a task or a test: there is no user to check. A real user is always checked.

Permissions are Django model permissions of the ``versioning`` app; those of the branch
model (``edit_branch``, ``merge_branch``, ``release_branch``, ``delete_branch``,
``change_branch``) may also be granted on one branch with django-guardian.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .exceptions import NotAllowedError
from .grants import holds
from .models import Branch, Proposal

ADD_BRANCH = "versioning.add_branch"
CHANGE_BRANCH = "versioning.change_branch"
DELETE_BRANCH = "versioning.delete_branch"
EDIT_BRANCH = "versioning.edit_branch"
ADD_COMMIT = "versioning.add_commit"
ADD_PROPOSAL = "versioning.add_proposal"
CHANGE_PROPOSAL = "versioning.change_proposal"
APPROVE_PROPOSAL = "versioning.approve_proposal"
MERGE_BRANCH = "versioning.merge_branch"
RELEASE_BRANCH = "versioning.release_branch"
OVERRIDE_COMPATIBILITY = "versioning.override_compatibility"
MANAGE_CONSUMERS = {
    "add": "versioning.add_consumer",
    "change": "versioning.change_consumer",
    "delete": "versioning.delete_consumer",
}

Refusal = NotAllowedError | None
Rule = Callable[..., Refusal]


def has_branch_perm(user: Any, perm: str, branch: Branch | None = None) -> bool:
    """Model-level ``versioning.<perm>`` (or any ``app_label.perm``) or the per-branch
    (guardian) grant: :func:`versioning.grants.holds`, one query for both."""
    full = perm if "." in perm else f"versioning.{perm}"
    return holds(user, full, branch if branch is not None and branch.pk is not None else None)


def _needs(user: Any, perm: str, branch: Branch | None = None) -> Refusal:
    if has_branch_perm(user, perm, branch):
        return None
    where = f" on branch '{branch.name}'" if branch is not None else ""
    return NotAllowedError(f"You need the '{perm}' permission{where}.", permission=perm)


def _is_author(user: Any, proposal: Proposal) -> bool:
    return (
        user is not None
        and user.is_active
        and user.pk is not None
        and user.pk == proposal.author_id
    )


# --- branches ------------------------------------------------------------------------------


def create_branch_refusal(user: Any) -> Refusal:
    """Create a branch: ``add_branch``."""
    return _needs(user, ADD_BRANCH)


def delete_branch_refusal(user: Any, branch: Branch) -> Refusal:
    """Delete a branch: ``delete_branch`` model-wide or granted on the branch."""
    return _needs(user, DELETE_BRANCH, branch)


def archive_branch_refusal(user: Any, branch: Branch) -> Refusal:
    """Archive or un-archive a branch: ``change_branch`` model-wide or granted on it."""
    return _needs(user, CHANGE_BRANCH, branch)


def describe_branch_refusal(user: Any, branch: Branch) -> Refusal:
    """Change a branch's description: ``change_branch`` model-wide or granted on it (as
    archiving). Also what the admin's change page and ``PATCH branches/{b}/`` need."""
    return _needs(user, CHANGE_BRANCH, branch)


def protect_branch_refusal(user: Any, branch: Branch) -> Refusal:
    """Protect or unprotect a branch: ``change_branch`` **model-wide** (stewards). A grant
    on the branch is not enough: protection is what keeps the branch's own grantees from
    committing to it directly (everything goes through a reviewed proposal), so they may
    not lift it."""
    if has_branch_perm(user, CHANGE_BRANCH):
        return None
    return NotAllowedError(
        f"You need the '{CHANGE_BRANCH}' permission on every branch (a grant on branch "
        f"'{branch.name}' is not enough) to protect or unprotect it.",
        permission=CHANGE_BRANCH,
    )


def edit_refusal(user: Any, branch: Branch) -> Refusal:
    """Change a branch's working copy (and discard its changes): ``edit_branch`` model-wide
    (stewards) or granted on this branch (its creator, or anyone a steward names).

    Protection is a separate question: nobody edits a protected or archived branch."""
    return _needs(user, EDIT_BRANCH, branch)


def commit_refusal(user: Any, branch: Branch) -> Refusal:
    """Commit, revert, and update a proposal's source from its target: ``add_commit`` and
    the right to edit the branch."""
    return _needs(user, ADD_COMMIT) or edit_refusal(user, branch)


def can_edit_branch(user: Any, branch: Branch) -> bool:
    return edit_refusal(user, branch) is None


def can_commit(user: Any, branch: Branch) -> bool:
    return commit_refusal(user, branch) is None


# --- proposals -----------------------------------------------------------------------------


def open_proposal_refusal(user: Any) -> Refusal:
    """Open a proposal: ``add_proposal``."""
    return _needs(user, ADD_PROPOSAL)


def approve_refusal(user: Any, proposal: Proposal) -> Refusal:
    """Approve: ``approve_proposal``, never the author. (A permission of proposals, so it
    is model-wide: guardian cannot grant it on a branch.)"""
    if _is_author(user, proposal):
        return NotAllowedError(
            "The author of a proposal cannot approve it.", permission=APPROVE_PROPOSAL
        )
    return _needs(user, APPROVE_PROPOSAL)


def comment_refusal(user: Any, proposal: Proposal) -> Refusal:
    """Comment on a proposal: its author, or whoever may open proposals (``add_proposal``)
    or approve them (``approve_proposal``). Requesting changes is a reviewer's verdict:
    ``approve_refusal``."""
    if (
        _is_author(user, proposal)
        or has_branch_perm(user, ADD_PROPOSAL)
        or has_branch_perm(user, APPROVE_PROPOSAL)
    ):
        return None
    return NotAllowedError(
        f"Only its author or a user with the '{ADD_PROPOSAL}' or '{APPROVE_PROPOSAL}' "
        f"permission may comment on proposal #{proposal.pk}.",
        permission=ADD_PROPOSAL,
    )


REVIEWERS_MESSAGE = (
    f"Every reviewer must be an active user with the '{APPROVE_PROPOSAL}' permission."
)


def eligible_reviewers(usernames: Iterable[str]) -> list[Any]:
    """The users of ``usernames`` who may be asked to review: active, may approve."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(username__in=set(usernames), is_active=True)
    return [u for u in users if has_branch_perm(u, APPROVE_PROPOSAL)]


def merge_refusal(user: Any, proposal: Proposal) -> Refusal:
    """Merge: ``merge_branch`` model-wide or granted on the target."""
    return _needs(user, MERGE_BRANCH, proposal.target)


def close_refusal(user: Any, proposal: Proposal) -> Refusal:
    """Close: the author, or ``change_proposal``."""
    if _is_author(user, proposal) or has_branch_perm(user, CHANGE_PROPOSAL):
        return None
    return NotAllowedError(
        f"Only its author or a user with the '{CHANGE_PROPOSAL}' permission may close "
        f"proposal #{proposal.pk}.",
        permission=CHANGE_PROPOSAL,
    )


def resolve_refusal(user: Any, proposal: Proposal) -> Refusal:
    """Resolve a conflict: the author, ``change_proposal``, or whoever may merge it
    (``merge_branch`` on the target)."""
    if (
        _is_author(user, proposal)
        or has_branch_perm(user, CHANGE_PROPOSAL)
        or has_branch_perm(user, MERGE_BRANCH, proposal.target)
    ):
        return None
    return NotAllowedError(
        f"Only its author, a user with the '{CHANGE_PROPOSAL}' permission or one who may "
        f"merge it ('{MERGE_BRANCH}' on '{proposal.target_name}') may resolve conflicts of "
        f"proposal #{proposal.pk}.",
        permission=CHANGE_PROPOSAL,
    )


# --- releases ------------------------------------------------------------------------------


def release_refusal(user: Any, branch: Branch) -> Refusal:
    """Publish a release: ``release_branch`` model-wide or granted on the branch."""
    return _needs(user, RELEASE_BRANCH, branch)


def override_compatibility_refusal(user: Any, branch: Branch) -> Refusal:
    """Merge into or release from a branch despite its compatibility findings:
    ``override_compatibility`` model-wide or granted on the branch."""
    return _needs(user, OVERRIDE_COMPATIBILITY, branch)


def compatibility_mode_refusal(user: Any, branch: Branch) -> Refusal:
    """Set a branch's compatibility mode: ``change_branch`` **model-wide** (stewards), as
    protection: the mode guards the branch's consumers from its own grantees."""
    if has_branch_perm(user, CHANGE_BRANCH):
        return None
    return NotAllowedError(
        f"You need the '{CHANGE_BRANCH}' permission on every branch (a grant on branch "
        f"'{branch.name}' is not enough) to set its compatibility mode.",
        permission=CHANGE_BRANCH,
    )


def consumer_refusal(user: Any, action: str) -> Refusal:
    """Register, change or remove a consumer: ``add``/``change``/``delete_consumer``."""
    return _needs(user, MANAGE_CONSUMERS[action])


# --- asking and enforcing ------------------------------------------------------------------


def allowed(rule: Rule, user: Any, *args: Any) -> bool:
    """Whether the rule lets ``user`` act (the admin's buttons and 403s)."""
    return rule(user, *args) is None


def check(rule: Rule, user: Any, *args: Any, system: bool = False) -> None:
    """Raise the rule's refusal (403) for an acting user; ``user=None`` or ``system`` is an
    internal write with no user to check."""
    if user is None or system:
        return
    refusal = rule(user, *args)
    if refusal is not None:
        raise refusal
