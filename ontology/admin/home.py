"""The admin's home page for a steward: what awaits their review, their branches, the open
proposals, the latest release of main, overdue deprecations on the selected branch and the
dead letters waiting for someone. Reads only; every panel links to where to act."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from events.models import DeadLetter
from versioning import releases, services
from versioning.models import MAIN_BRANCH, Branch, Proposal
from versioning.selection import current_branch

from ..choices import Status
from ..models import StatusFields

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
    """Deprecated entities (and properties) of ``branch`` whose deadline has passed."""
    today = timezone.localdate()
    rows = []
    for model in apps.get_app_config("ontology").get_models():
        if not issubclass(model, StatusFields):
            continue
        found = model.objects.filter(
            branch=branch, status=Status.DEPRECATED, deprecation_deadline__lt=today
        ).order_by("deprecation_deadline")[:PANEL_ROWS]
        for row in found:
            try:
                url = reverse(f"admin:ontology_{model._meta.model_name}_change", args=[row.pk])
            except NoReverseMatch:
                url = ""
            rows.append(
                {
                    "kind": model._meta.verbose_name,
                    "name": str(row),
                    "deadline": row.deprecation_deadline,
                    "days": (today - row.deprecation_deadline).days,
                    "message": row.deprecation_message,
                    "url": url,
                }
            )
    return sorted(rows, key=lambda r: r["deadline"])[:PANEL_ROWS]


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
