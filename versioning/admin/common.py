"""What every versioning admin page shares: the steward's branch, whether a button applies
(the rules are ``versioning.permissions``', the services enforce them), a refusal as an
error message, and the URLs of the pages.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from .. import permissions, services
from ..exceptions import VersioningError
from ..models import Branch, Commit, Proposal, ProposalStatus
from ..selection import current_branch
from ..writing import write_refusal
from .display import conflict_label


def selected_branch(request: HttpRequest) -> Branch:
    """The branch picked in the admin header (main by default)."""
    return current_branch(request)


def writable(branch: Branch) -> bool:
    return not write_refusal(branch)


# The rules are versioning.permissions' (the services enforce them); these add what the
# page needs to show a button: the branch or proposal is in a state the action fits.


def can_commit(user: Any, branch: Branch) -> bool:
    """Commit (and revert, update from target) on ``branch``: not protected or archived,
    and ``permissions.commit_refusal`` lets the user."""
    return writable(branch) and permissions.allowed(permissions.commit_refusal, user, branch)


def can_discard(user: Any, branch: Branch) -> bool:
    """Discard working changes: not protected or archived, and the right to edit."""
    return writable(branch) and permissions.allowed(permissions.edit_refusal, user, branch)


def can_approve(user: Any, proposal: Proposal) -> bool:
    """Active, ``permissions.approve_refusal`` lets the user, and they have not approved
    the source as it is now."""
    return (
        proposal.is_active
        and permissions.allowed(permissions.approve_refusal, user, proposal)
        and not services.current_approvals(proposal).filter(user=user).exists()
    )


def can_comment(user: Any, proposal: Proposal) -> bool:
    return permissions.allowed(permissions.comment_refusal, user, proposal)


def can_request_changes(user: Any, proposal: Proposal) -> bool:
    """Active, and the user may review it (the rule of approving)."""
    return proposal.is_active and permissions.allowed(permissions.approve_refusal, user, proposal)


def can_merge(user: Any, proposal: Proposal) -> bool:
    return (
        proposal.is_active
        and proposal.target is not None
        and permissions.allowed(permissions.merge_refusal, user, proposal)
    )


def can_override(user: Any, proposal: Proposal) -> bool:
    """Whether the merge form offers "merge despite compatibility findings"."""
    return can_merge(user, proposal) and permissions.allowed(
        permissions.override_compatibility_refusal, user, proposal.target
    )


def can_close(user: Any, proposal: Proposal) -> bool:
    """Close: the author, or anyone who may change proposals."""
    return proposal.is_active and permissions.allowed(permissions.close_refusal, user, proposal)


def can_resolve(user: Any, proposal: Proposal) -> bool:
    """Resolve conflicts: the author, ``change_proposal`` or ``merge_branch`` on the target."""
    return proposal.is_active and permissions.allowed(permissions.resolve_refusal, user, proposal)


def can_update(user: Any, proposal: Proposal) -> bool:
    return proposal.is_active and proposal.source is not None and can_commit(user, proposal.source)


def refused(request: HttpRequest, exc: VersioningError) -> None:
    """A service's refusal as an admin error message (with its HTTP meaning)."""
    conflicts = getattr(exc, "conflicts", None) or []
    names = ", ".join(conflict_label(c) for c in conflicts[:5])
    detail = f" ({names}{', …' if len(conflicts) > 5 else ''})" if names else ""
    messages.error(request, f"{exc}{detail}")


# --- URLs and small helpers --------------------------------------------------------------


def changes_url(branch: str) -> str:
    return f"{reverse('admin:versioning_changes')}?{urlencode({'branch': branch})}"


def commit_url(commit_id: str) -> str:
    return reverse("admin:versioning_commit_change", args=[commit_id])


def proposal_url(pk: int) -> str:
    return reverse("admin:versioning_proposal_change", args=[pk])


def read_only_reason(branch: Branch) -> str:
    if branch.archived:
        return f"'{branch.name}' is archived."
    if branch.protected:
        return f"'{branch.name}' is protected: it changes only by merging a proposal."
    return ""


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def ref_choices() -> list[str]:
    """Branch names and the newest commit ids, for the ref pickers."""
    names = list(Branch.objects.filter(archived=False).values_list("name", flat=True))
    return names + [c[:12] for c in Commit.objects.values_list("id", flat=True)[:20]]


# --- Proposal admin: the proposal page and its actions --------------------------------------


def status_badge(status: str, label: str) -> str:
    css = {
        ProposalStatus.OPEN: "oms-badge-info",
        ProposalStatus.APPROVED: "oms-badge-ok",
        ProposalStatus.MERGED: "oms-badge-ok",
        ProposalStatus.CLOSED: "",
    }.get(status, "")
    return format_html('<span class="oms-badge {}">{}</span>', css, label)
