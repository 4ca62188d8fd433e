"""Celery tasks of the ontology (scheduled by django-celery-beat; tune them in the admin)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from . import deprecation

logger = logging.getLogger(__name__)


@shared_task(
    name="ontology.report_overdue_deprecations",
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def report_overdue_deprecations() -> int:
    """Deprecations past their deadline on protected branches: the gauge and an event per
    branch (``com.oms.ontology.deprecation.overdue.v1``). Returns how many."""
    with transaction.atomic():
        items = deprecation.report()
    logger.info("overdue deprecations reported", extra={"overdue": len(items)})
    return len(items)
