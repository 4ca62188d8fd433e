"""A proposal's discussion: comments, and a reviewer's request for changes, which holds
the merge until that reviewer approves (:func:`.proposals.changes_requested`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .. import permissions
from ..exceptions import InvalidStateError, NotAllowedError, VersioningError
from ..models import Proposal, ProposalComment, ProposalStatus
from ..permissions import ADD_PROPOSAL, check
from ..writing import PROPOSAL_COMMENTED, actor
from .proposals import _lock_proposal, _proposal_event, _sync

#: the longest comment, in characters
MAX_COMMENT = 10_000


def comment(
    proposal: Proposal, user: Any, body: Any, *, request_changes: bool = False
) -> ProposalComment:
    """Add a comment to the proposal (its author, ``add_proposal`` or ``approve_proposal``:
    403). ``request_changes``: a reviewer's verdict (the rule of approving: not the
    author, 403) on an open or approved proposal (409); it withdraws the reviewer's
    approval, and the merge waits until they approve again. Publishes
    ``proposal.commented.v1``."""
    if user is None:
        raise NotAllowedError("A comment is written by a user.", permission=ADD_PROPOSAL)
    if not isinstance(body, str) or not body.strip():
        raise VersioningError("Write a comment: 'body' is empty.", field="body")
    body = body.strip()
    if len(body) > MAX_COMMENT:
        raise VersioningError(
            f"'body' is {len(body)} characters long; at most {MAX_COMMENT}.", field="body"
        )
    with transaction.atomic():
        caller, proposal = proposal, _lock_proposal(proposal)
        rule = permissions.approve_refusal if request_changes else permissions.comment_refusal
        check(rule, user, proposal)
        if request_changes and not proposal.is_active:
            raise InvalidStateError(f"Proposal #{proposal.pk} is {proposal.status}.")
        row = ProposalComment.objects.create(
            proposal=proposal,
            author=user,
            author_name=actor(user) or "",
            body=body,
            requests_changes=request_changes,
        )
        if request_changes:
            proposal.approvals.filter(user=user).delete()
            if proposal.status == ProposalStatus.APPROVED and not proposal.approvals.exists():
                proposal.status = ProposalStatus.OPEN
                proposal.save(update_fields=["status", "updated_at"])
        _proposal_event(
            PROPOSAL_COMMENTED, proposal, user, comment=row.pk, requestsChanges=request_changes
        )
    _sync(caller, proposal)
    return row
