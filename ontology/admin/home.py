"""The admin's home page for a steward: what awaits their review, their branches, the open
proposals, the latest release of main, overdue deprecations on the selected branch and the
dead letters waiting for someone. Reads only; every panel links to where to act."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from events.models import DeadLetter
from versioning import releases, services
from versioning.models import MAIN_BRANCH, Branch, Proposal
from versioning.selection import current_branch

from .. import deprecation
from ..kinds import KIND_MODEL
from ..models import Property

#: rows listed per panel; the panel links to the full list
PANEL_ROWS = 10


def _proposal_row(proposal: Proposal) -> dict[str, Any]:
    return {
        "proposal": proposal,
        "url": reverse("admin:versioning_proposal_change", args=[proposal.pk]),
    }


def awaiting_review(user: Any) -> list[dict[str, Any]]:
    """Active proposals naming the user as reviewer, without their approval of the source
    as it is now."""
    rows = []
    mine = Proposal.objects.filter(status__in=Proposal.ACTIVE, reviewers=user).select_related(
        "author", "source"
    )
    for proposal in mine.order_by("-created_at")[:PANEL_ROWS]:
        if not services.current_approvals(proposal).filter(user=user).exists():
            rows.append(_proposal_row(proposal))
    return rows


def overdue_deprecations(branch: Branch) -> list[dict[str, Any]]:
    """Deprecated entities (and properties) of ``branch`` whose deadline has passed, most
    overdue first (:func:`ontology.deprecation.overdue`, the daily report's rule)."""
    rows = []
    for item in deprecation.overdue(timezone.localdate(), branch=branch, limit=PANEL_ROWS):
        model = Property if item["entityKind"] == "property" else KIND_MODEL[item["entityKind"]]
        try:
            url = reverse(f"admin:ontology_{model._meta.model_name}_change", args=[item["pk"]])
        except NoReverseMatch:
            url = ""
        rows.append(
            {
                "kind": item["kind"],
                "name": item["entity"],
                "deadline": date.fromisoformat(item["deadline"]),
                "days": item["daysOverdue"],
                "message": item["message"],
                "url": url,
            }
        )
    return rows


def home_context(request) -> dict[str, Any]:
    user = request.user
    branch = current_branch(request)
    open_proposals = (
        Proposal.objects.filter(status__in=Proposal.ACTIVE)
        .select_related("author")
        .order_by("-created_at")
    )
    dead = DeadLetter.objects.filter(resolved_at__isnull=True)
    return {
        "home_branch": branch,
        "awaiting_review": awaiting_review(user),
        "my_branches": Branch.objects.filter(created_by=user, archived=False)
        .select_related("head")
        .order_by("name")[:PANEL_ROWS],
        "open_proposals": [_proposal_row(p) for p in open_proposals[:PANEL_ROWS]],
        "open_proposal_count": open_proposals.count(),
        "latest_release": releases.latest_release(MAIN_BRANCH),
        "overdue": overdue_deprecations(branch),
        "dead_letters": dead.count(),
        "can_see_dead_letters": user.has_perm("events.view_deadletter"),
    }
