"""The admin edits one branch at a time: the steward's choice lives in the session.

Whether the selected branch is editable is the rule of :func:`ontology.services.check_write`:
the branch is neither protected nor archived, and the user may edit it (model-wide
``versioning.edit_branch`` or the per-branch grant).
"""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest
from guardian.shortcuts import get_objects_for_user

from versioning.models import Branch
from versioning.permissions import EDIT_BRANCH, can_edit_branch
from versioning.writing import write_refusal


def is_editable(branch: Branch) -> bool:
    return not write_refusal(branch)


def user_may_edit(request: HttpRequest, branch: Branch) -> bool:
    """``can_edit_branch`` for the request's user, asked once per request and branch."""
    cache = request.__dict__.setdefault("_oms_may_edit", {})
    if branch.pk not in cache:
        cache[branch.pk] = can_edit_branch(request.user, branch)
    return cache[branch.pk]


def editable_branch_ids(user, branches) -> set[int]:
    """The pks of ``branches`` the user may edit (one query for the per-branch grants)."""
    open_ = [b for b in branches if is_editable(b)]
    if user.has_perm(EDIT_BRANCH):
        return {b.pk for b in open_}
    granted = set(
        get_objects_for_user(
            user, EDIT_BRANCH, klass=Branch, accept_global_perms=False
        ).values_list("pk", flat=True)
    )
    return {b.pk for b in open_ if b.pk in granted}


def read_only_reason(branch: Branch, user=None) -> str:
    """Why the ontology cannot be edited on this branch ('' when it can). With a ``user``,
    also when that user may not edit it."""
    if branch.archived:
        return f"Branch '{branch.name}' is archived: its ontology is read-only."
    if branch.protected:
        return (
            f"Branch '{branch.name}' is protected: its ontology changes only by merging a proposal."
        )
    if user is not None and not can_edit_branch(user, branch):
        return (
            f"You may not edit branch '{branch.name}' (it needs the '{EDIT_BRANCH}' permission "
            "on it; its creator and stewards have it)."
        )
    return ""


def twin(model: type[models.Model], pk, branch: Branch) -> models.Model | None:
    """The same entity (same ``rid``) as row ``pk`` of ``model``, on ``branch``."""
    row = model._default_manager.filter(pk=pk).only("rid").first()
    if row is None:
        return None
    return model._default_manager.filter(branch=branch, rid=row.rid).first()
