"""Maintenance: return the claims of dead workers, purge finished events."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .. import conf
from ..choices import DeadLetterReason, DeliveryStatus
from ..models import DeadLetter, Delivery, OutboxEvent
from .recording import spend_attempt

logger = logging.getLogger(__name__)


def reap_stale_claims(older_than: float | None = None) -> int:
    """Return claims of dead workers. The interrupted send counts as an attempt, so an
    event that crashes every worker ends in the dead-letter table instead of looping."""
    cutoff = timezone.now() - timedelta(
        seconds=older_than if older_than is not None else conf.claim_timeout()
    )
    max_attempts = conf.max_attempts()
    with transaction.atomic():
        stale = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff)
            .select_related("event")
        )
        for d in stale:
            attempts = d.attempts + 1
            exhausted = attempts >= max_attempts
            spend_attempt(
                Delivery.objects.filter(pk=d.pk),
                d,
                attempts,
                f"claim by {d.claimed_by} expired (worker died?)",
                DeadLetterReason.EXHAUSTED if exhausted else None,
                None if exhausted else timezone.now(),
            )
    if stale:
        logger.warning("returned stale claims", extra={"count": len(stale)})
    return len(stale)


def purge_delivered(older_than_days: float | None = None, chunk: int = 1000) -> int:
    """Delete sequenced events older than the retention whose deliveries are all finished
    (delivered or discarded). Dead and pending ones are kept."""
    days = older_than_days if older_than_days is not None else conf.retention_days()
    cutoff = timezone.now() - timedelta(days=days)
    unfinished = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.DEAD)
    total = 0
    while True:
        ids = list(
            OutboxEvent.objects.filter(created_at__lt=cutoff, position__isnull=False)
            .exclude(deliveries__status__in=unfinished)
            .values_list("id", flat=True)[:chunk]
        )
        if not ids:
            return total
        DeadLetter.objects.filter(event_id__in=ids).delete()
        OutboxEvent.objects.filter(id__in=ids).delete()
        total += len(ids)
