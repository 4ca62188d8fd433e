"""Celery tasks of the events app. They take no objects; each re-reads the database."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache

from . import delivery

logger = logging.getLogger(__name__)


@shared_task(
    name="events.drain_outbox",
    max_retries=3,
    soft_time_limit=90,
    time_limit=120,
    ignore_result=True,
)
def drain_outbox() -> dict:
    """Sequence committed events and deliver every due delivery (run on commit and by beat)."""
    from .services import KICK_KEY

    try:
        cache.delete(KICK_KEY)  # commits from now on enqueue a new drain
    except Exception:
        logger.warning("events: cache unavailable", exc_info=True)
    try:
        return delivery.drain().as_dict()
    except SoftTimeLimitExceeded:
        logger.warning("drain stopped by its soft time limit; claims released")
        return {}


@shared_task(
    name="events.retry_due_deliveries",
    max_retries=3,
    soft_time_limit=90,
    time_limit=120,
    ignore_result=True,
)
def retry_due_deliveries() -> dict:
    """Deliver deliveries whose backoff has elapsed (beat)."""
    try:
        return delivery.drain(sequence=False).as_dict()
    except SoftTimeLimitExceeded:
        return {}


@shared_task(
    name="events.reap_stale_claims",
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def reap_stale_claims() -> int:
    """Return claims held by workers that died mid-batch (beat)."""
    return delivery.reap_stale_claims()


@shared_task(
    name="events.purge_delivered",
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def purge_delivered() -> int:
    """Delete finished events older than the retention period (beat)."""
    return delivery.purge_delivered()
