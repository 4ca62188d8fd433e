"""Marking a branch's working changes (the dirty set), called by the ontology's services."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from .models import WorkingChange


def mark_changed_many(branch_id: int, marks: Iterable[tuple], *, batch_size: int = 1000) -> None:
    """Record that the top-level entities ``(rid, kind)`` changed on the branch since its
    head: one upsert per batch, so a bulk load marks thousands of entities cheaply."""
    now = timezone.now()
    WorkingChange.objects.bulk_create(
        [
            WorkingChange(branch_id=branch_id, rid=rid, kind=kind, changed_at=now)
            for rid, kind in marks
        ],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["branch", "rid"],
        update_fields=["kind", "changed_at"],
    )


def mark_changed(branch_id: int, rid, kind: str) -> None:
    """Record that the top-level entity ``rid`` changed on the branch since its head."""
    mark_changed_many(branch_id, [(rid, kind)])
