"""Celery tasks of the events app. They take no objects; each re-reads the database.

Celery retries are for the task itself, not for deliveries (a failed delivery is a
``Delivery`` row with its attempts and backoff): a task that hits a transient database
error (connection lost, deadlock, serialisation failure — ``OperationalError`` or
``InterfaceError``) runs again up to ``max_retries`` (3) times, after random delays of at
most 1, 2 and 4 seconds (exponential backoff, full jitter). Every task is idempotent
(claims with SKIP LOCKED, work re-read from the database), and beat runs each one again
on its schedule anyway.
Any other exception is a bug: it is logged by Celery and not retried.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from . import delivery
from .services import KICK_KEY

logger = logging.getLogger(__name__)

RETRIED = {
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 1,
    "retry_backoff_max": 8,
    "retry_jitter": True,
    "ignore_result": True,
}


@shared_task(
    name="events.drain_outbox",
    **RETRIED,
    soft_time_limit=90,
    time_limit=120,
)
def drain_outbox() -> dict:
    """Sequence committed events and deliver every due delivery (run on commit and by beat)."""
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
    **RETRIED,
    soft_time_limit=90,
    time_limit=120,
)
def retry_due_deliveries() -> dict:
    """Deliver deliveries whose backoff has elapsed (beat)."""
    try:
        return delivery.drain(sequence=False).as_dict()
    except SoftTimeLimitExceeded:
        return {}


@shared_task(
    name="events.reap_stale_claims",
    **RETRIED,
    soft_time_limit=60,
    time_limit=90,
)
def reap_stale_claims() -> int:
    """Return claims held by workers that died mid-batch (beat)."""
    return delivery.reap_stale_claims()


@shared_task(
    name="events.purge_delivered",
    **RETRIED,
    soft_time_limit=600,
    time_limit=660,
)
def purge_delivered() -> int:
    """Delete finished events older than the retention period (beat)."""
    return delivery.purge_delivered()
