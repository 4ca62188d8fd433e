"""Step 4, recording: outcomes of a batch, only for rows this worker still owns; retries
with backoff, dead letters."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .. import conf, metrics
from ..choices import DeadLetterReason, DeliveryStatus
from ..models import DeadLetter, Delivery
from ..services import DEAD_LETTERED, announce
from ..sinks import Outcome, Result
from .rows import Stats, prep, quoted

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempts))."""
    ceiling = min(conf.backoff_cap(), conf.backoff_base() * (2 ** min(attempts, 62)))
    return random.uniform(0, ceiling)


def release(ids: list[int], worker: str, until, error: str = "") -> None:
    if ids:
        values = {
            "status": DeliveryStatus.PENDING,
            "claimed_at": None,
            "claimed_by": None,
            "next_attempt_at": until,
        }
        if error:
            values["last_error"] = error
        Delivery.objects.filter(
            pk__in=ids, claimed_by=worker, status=DeliveryStatus.CLAIMED
        ).update(**values)


def _dead_letter(delivery: Delivery, reason: str, error: str, attempts: int) -> None:
    DeadLetter.objects.create(
        delivery_id=delivery.pk,
        event_id=delivery.event_id,
        sink=delivery.sink,
        reason=reason,
        error=error,
        attempts=attempts,
    )
    metrics.DEAD_LETTERED.labels(sink=delivery.sink, reason=reason).inc()
    logger.error(
        "event dead-lettered",
        extra={
            "event_id": str(delivery.event_id),
            "sink": delivery.sink,
            "reason": reason,
            "error": error[:500],
        },
    )
    announce(DEAD_LETTERED, delivery, reason=reason, error=error[:2000], attempts=attempts)


def spend_attempt(owned, delivery, attempts: int, error: str, dead_reason, retry_at) -> None:
    """Record a failed attempt of a claimed delivery: dead-letter it for ``dead_reason``,
    or (no reason) make it pending again at ``retry_at``. ``owned`` selects the delivery
    row if this worker may still change it."""
    released = {"attempts": attempts, "claimed_at": None, "claimed_by": None, "last_error": error}
    if dead_reason is None:
        owned.update(status=DeliveryStatus.PENDING, next_attempt_at=retry_at, **released)
    elif owned.update(status=DeliveryStatus.DEAD, **released):
        _dead_letter(delivery, dead_reason, error, attempts)


def _mark_delivered(ids: list[int], worker: str, now) -> None:
    """One UPDATE for the batch, only rows this worker still owns. On PostgreSQL the ids
    are joined in as ``unnest(array)`` and found by primary key, also when the planner's
    statistics are cold: a ``status = 'claimed'`` condition would let it pick a partial
    index (of undelivered rows) and read every dead entry in it, a cost that grows with
    every batch until the next ANALYZE; and a sequential scan is off for the statement.
    Owning a row is ``claimed_by = worker`` alone: every change out of ``claimed`` clears
    ``claimed_by``.

    The same round trip sets ``synchronous_commit = off`` for the recording transaction:
    its commit returns before its WAL reaches the disk. If the server crashes within the
    WAL writer's delay (well under a second), the outcomes recorded are lost, the
    deliveries are still claimed, and the reaper sends them again — a duplicate
    (at-least-once; JetStream drops it within its duplicate window), never a loss. Claims
    and sequencing commit synchronously, which flushes this commit first, so nothing
    claimed on the strength of a recorded outcome outlives it."""
    if connection.vendor != "postgresql":
        Delivery.objects.filter(
            pk__in=ids, claimed_by=worker, status=DeliveryStatus.CLAIMED
        ).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            claimed_at=None,
            claimed_by=None,
            last_error="",
        )
        return
    with connection.cursor() as cur:
        cur.execute(
            f"SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off; "
            f"UPDATE {quoted(Delivery)} AS d SET status = %s, delivered_at = %s, "
            f"attempts = d.attempts + 1, claimed_at = NULL, claimed_by = NULL, last_error = '' "
            f"FROM unnest(%s::bigint[]) AS ids(id) "
            f"WHERE d.id = ids.id AND d.claimed_by = %s; "
            f"SET LOCAL enable_seqscan = on",
            [
                DeliveryStatus.DELIVERED.value,
                prep(Delivery, "delivered_at", now),
                ids,
                worker,
            ],
        )


def record(deliveries: list, outcomes: dict[str, Outcome], worker: str, stats: Stats) -> None:
    now = timezone.now()
    delivered = [d for d in deliveries if outcomes[d.key].result is Result.DELIVERED]
    not_sent = [d.pk for d in deliveries if outcomes[d.key].result is Result.NOT_SENT]
    max_attempts = conf.max_attempts()
    with transaction.atomic():
        if delivered:
            _mark_delivered([d.pk for d in delivered], worker, now)
        release(not_sent, worker, now)
        for d in deliveries:
            outcome = outcomes[d.key]
            if outcome.result not in (Result.RETRY, Result.POISON):
                continue
            attempts = d.attempts + 1
            if outcome.result is Result.POISON:
                reason = DeadLetterReason.POISON
            elif attempts >= max_attempts:
                reason = DeadLetterReason.EXHAUSTED
            else:
                reason = None
            spend_attempt(
                Delivery.objects.filter(pk=d.pk, claimed_by=worker, status=DeliveryStatus.CLAIMED),
                d,
                attempts,
                outcome.error,
                reason,
                None if reason else now + timedelta(seconds=backoff(attempts)),
            )
    latency: dict[str, object] = {}
    for d in delivered:
        histogram = latency.get(d.sink)
        if histogram is None:
            histogram = latency[d.sink] = metrics.DELIVERY_LATENCY.labels(sink=d.sink)
        histogram.observe(max(0.0, (now - d.event.created_at).total_seconds()))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for d in deliveries:
        counts[d.sink, outcomes[d.key].result.value] += 1
    for (sink, result), n in counts.items():
        stats.by_result[result] += n
        metrics.DELIVERIES.labels(sink=sink, result=result).inc(n)
