"""The admin edits one branch at a time: the steward's choice lives in the session."""

from __future__ import annotations

from django.db import models

from versioning.models import Branch


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
