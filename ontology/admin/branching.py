"""The admin edits one branch at a time: the steward's choice lives in the session."""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from versioning.models import MAIN_BRANCH, Branch

SESSION_KEY = "oms_admin_branch"


def current_branch(request: HttpRequest) -> Branch:
    """The branch the admin shows and edits for this request (``main`` by default)."""
    cached = getattr(request, "_oms_branch", None)
    if cached is not None:
        return cached
    name = request.session.get(SESSION_KEY, MAIN_BRANCH) if hasattr(request, "session") else None
    branch = Branch.objects.filter(name=name or MAIN_BRANCH).first()
    if branch is None:
        branch = Branch.objects.get(name=MAIN_BRANCH)
    request._oms_branch = branch
    return branch


def select_branch(request: HttpRequest, branch: Branch) -> None:
    request.session[SESSION_KEY] = branch.name
    request._oms_branch = branch


def is_editable(branch: Branch) -> bool:
    return not (branch.protected or branch.archived)


def read_only_reason(branch: Branch) -> str:
    """Why the ontology cannot be edited on this branch ('' when it can)."""
    if branch.archived:
        return f"Branch '{branch.name}' is archived: its ontology is read-only."
    if branch.protected:
        return (
            f"Branch '{branch.name}' is protected: its ontology changes only by merging a proposal."
        )
    return ""


def twin(model: type[models.Model], pk, branch: Branch) -> models.Model | None:
    """The same entity (same ``rid``) as row ``pk`` of ``model``, on ``branch``."""
    row = model._default_manager.filter(pk=pk).only("rid").first()
    if row is None:
        return None
    return model._default_manager.filter(branch=branch, rid=row.rid).first()
