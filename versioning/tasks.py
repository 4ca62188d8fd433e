"""Celery tasks of versioning (scheduled by django-celery-beat; tune them in the admin)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import compaction, metrics

logger = logging.getLogger(__name__)


@shared_task(
    name="versioning.compact",
    max_retries=3,
    soft_time_limit=1800,
    time_limit=1900,
    acks_late=True,  # idempotent: every step re-checks what it deletes
)
def compact(older_than_days: int = 30, grace_minutes: int = 60) -> dict[str, int]:
    """Write missing checkpoints, collapse old runs on archived branches, delete
    unreachable commits and unreferenced blobs older than the grace period."""
    try:
        report = compaction.run(
            older_than=timedelta(days=older_than_days), grace=timedelta(minutes=grace_minutes)
        )
    except SoftTimeLimitExceeded:
        metrics.COMPACTION_RUNS.labels("timeout").inc()
        logger.warning("versioning compaction stopped at its time limit; the next run goes on")
        return {}
    metrics.COMPACTION_RUNS.labels("ok").inc()
    return report.as_dict()


@shared_task(name="versioning.clean_orphan_grants", acks_late=True)
def clean_orphan_grants() -> int:
    """Delete per-object grants (django-guardian) whose object no longer exists.

    ``delete_branch`` deletes a branch's grants with it; this catches rows deleted any
    other way (a bulk delete in the shell, a restored backup)."""
    from guardian.utils import clean_orphan_obj_perms

    removed = clean_orphan_obj_perms()
    logger.info("orphan object permissions removed", extra={"removed": removed})
    return removed
