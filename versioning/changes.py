"""Marking a branch's working changes (the dirty set), called by the ontology's services."""

from __future__ import annotations

from django.utils import timezone

from .models import WorkingChange


def mark_changed(branch_id: int, rid, kind: str) -> None:
    """Record that the top-level entity ``rid`` changed on the branch since its head."""
    WorkingChange.objects.bulk_create(
        [WorkingChange(branch_id=branch_id, rid=rid, kind=kind, changed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["branch", "rid"],
        update_fields=["kind", "changed_at"],
    )
