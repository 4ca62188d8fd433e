"""The delivery engine: sequence committed events, claim due deliveries, send, record.

Every step is a short transaction; no lock is held while a sink is called:

1. ``sequence_pending``: under the ``OutboxCursor`` row lock, give committed events their
   feed position and create one ``Delivery`` per (event, sink).
2. ``claim``: ``SELECT ... FOR UPDATE SKIP LOCKED`` due deliveries of sinks whose breaker
   lets calls through, mark them claimed by this worker, commit.
3. ``deliver_claimed``: build each CloudEvent once, send per sink through its breaker,
   then record outcomes (only for rows this worker still owns).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pybreaker
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import breakers, conf, metrics
from .choices import DeadLetterReason, DeliveryStatus
from .envelope import to_json_bytes
from .models import DeadLetter, Delivery, OutboxCursor, OutboxEvent
from .sinks import Message, Outcome, Result, Sink, SinkUnavailable, enabled_sinks

logger = logging.getLogger(__name__)

HELD_BACK_SECONDS = 1.0


class SlowCall(Exception):
    """A batch call took longer than the breaker's slow-call threshold."""


@dataclass
class Stats:
    sequenced: int = 0
    claimed: int = 0
    by_result: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict:
        return {"sequenced": self.sequenced, "claimed": self.claimed, **self.by_result}


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempts))."""
    ceiling = min(conf.backoff_cap(), conf.backoff_base() * (2 ** min(attempts, 62)))
    return random.uniform(0, ceiling)


# --- 1. sequencing ------------------------------------------------------------------------
def sequence_pending(limit: int | None = None) -> int:
    """Number of events sequenced; -1 when another worker is sequencing right now."""
    limit = limit or conf.batch_size()
    with transaction.atomic():
        cursor = OutboxCursor.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if cursor is None:
            if OutboxCursor.objects.filter(pk=1).exists():
                return -1
            cursor, _ = OutboxCursor.objects.get_or_create(pk=1)
        events = list(
            OutboxEvent.objects.filter(position__isnull=True)
            .order_by("created_at", "id")
            .only("id", "type")[:limit]
        )
        if not events:
            return 0
        now = timezone.now()
        sinks = enabled_sinks()
        first = cursor.last_position + 1
        position = cursor.last_position + len(events)
        _assign_positions([e.id for e in events], first, now)
        deliveries = [
            Delivery(event_id=event.id, sink=name, next_attempt_at=now)
            for event in events
            for name, sink in sinks.items()
            if sink.accepts(event.type)
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
        cursor.last_position = position
        cursor.save(update_fields=["last_position"])
        return len(events)


def _assign_positions(ids: list, first: int, now) -> None:
    """One UPDATE: positions first, first+1, ... in (created_at, id) order."""
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    id_column = OutboxEvent._meta.pk
    placeholders = ", ".join(["%s"] * len(ids))
    params = [id_column.get_db_prep_value(i, connection) for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET position = numbered.pos, sequenced_at = %s "
            f"FROM (SELECT id, %s - 1 + ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos "
            f"FROM {table} WHERE id IN ({placeholders})) AS numbered "
            f"WHERE {table}.id = numbered.id",
            [
                OutboxEvent._meta.get_field("sequenced_at").get_db_prep_value(now, connection),
                first,
                *params,
            ],
        )


# --- 2. claiming --------------------------------------------------------------------------
def claim(
    worker: str, limit: int | None = None, sink_names: list[str] | None = None
) -> list[Delivery]:
    limit = limit or conf.batch_size()
    names = sink_names if sink_names is not None else list(enabled_sinks())
    blocked = [name for name in names if breakers.blocked_until(name)]
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .exclude(sink__in=blocked)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.CLAIMED, claimed_at=now, claimed_by=worker
        )
    return list(Delivery.objects.filter(pk__in=ids).select_related("event").order_by("id"))


# --- 3. sending and recording -------------------------------------------------------------
def _call_through_breaker(
    sink: Sink, messages: list[Message]
) -> tuple[dict[str, Outcome], str, bool]:
    """(outcomes, sink-wide error, breaker was open and the sink was not called)."""
    breaker = breakers.get_breaker(sink.name)
    box: dict[str, dict[str, Outcome]] = {}
    slow = conf.breaker_slow_call()

    def run() -> None:
        started = time.monotonic()
        try:
            box["outcomes"] = sink.send_batch(messages)
        except SinkUnavailable as exc:
            box["outcomes"] = exc.outcomes
            raise
        elapsed = time.monotonic() - started
        if elapsed > slow:
            raise SlowCall(f"{sink.name}: batch of {len(messages)} took {elapsed:.1f}s")

    error = ""
    try:
        breaker.call(run)
    except pybreaker.CircuitBreakerError:
        return {}, "circuit breaker open", True
    except SlowCall as exc:
        logger.warning("slow sink call", extra={"sink": sink.name, "error": str(exc)})
    except SinkUnavailable as exc:
        error = str(exc)
    except Exception as exc:  # a bug in a sink must not lose events: retry them
        logger.exception("sink failed", extra={"sink": sink.name})
        error = f"{type(exc).__name__}: {exc}"
    outcomes = dict(box.get("outcomes") or {})
    for m in messages:
        outcomes.setdefault(m.id, Outcome(Result.RETRY, error or "no outcome reported"))
    return outcomes, error, False


def _release(ids: list[int], worker: str, until, error: str = "") -> None:
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
    from .services import DEAD_LETTERED, DELIVERY_TYPES, publish

    DeadLetter.objects.create(
        delivery=delivery,
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
    if delivery.event.type not in DELIVERY_TYPES:
        publish(
            DEAD_LETTERED,
            f"events/{delivery.event_id}",
            {
                "eventId": str(delivery.event_id),
                "eventType": delivery.event.type,
                "sink": delivery.sink,
                "reason": reason,
                "error": error[:2000],
                "attempts": attempts,
            },
        )


def _record(
    deliveries: list[Delivery], outcomes: dict[str, Outcome], worker: str, stats: Stats
) -> None:
    now = timezone.now()
    delivered = [d for d in deliveries if outcomes[str(d.event_id)].result is Result.DELIVERED]
    not_sent = [d.pk for d in deliveries if outcomes[str(d.event_id)].result is Result.NOT_SENT]
    max_attempts = conf.max_attempts()
    with transaction.atomic():
        if delivered:
            Delivery.objects.filter(
                pk__in=[d.pk for d in delivered], claimed_by=worker, status=DeliveryStatus.CLAIMED
            ).update(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                attempts=F("attempts") + 1,
                claimed_at=None,
                claimed_by=None,
                last_error="",
            )
        _release(not_sent, worker, now)
        for d in deliveries:
            outcome = outcomes[str(d.event_id)]
            if outcome.result not in (Result.RETRY, Result.POISON):
                continue
            attempts = d.attempts + 1
            owned = Delivery.objects.filter(
                pk=d.pk, claimed_by=worker, status=DeliveryStatus.CLAIMED
            )
            if outcome.result is Result.POISON or attempts >= max_attempts:
                reason = (
                    DeadLetterReason.POISON
                    if outcome.result is Result.POISON
                    else DeadLetterReason.EXHAUSTED
                )
                if owned.update(
                    status=DeliveryStatus.DEAD,
                    attempts=attempts,
                    claimed_at=None,
                    claimed_by=None,
                    last_error=outcome.error,
                ):
                    _dead_letter(d, reason, outcome.error, attempts)
            else:
                owned.update(
                    status=DeliveryStatus.PENDING,
                    attempts=attempts,
                    claimed_at=None,
                    claimed_by=None,
                    last_error=outcome.error,
                    next_attempt_at=now + timedelta(seconds=backoff(attempts)),
                )
    for d in delivered:
        metrics.DELIVERY_LATENCY.labels(sink=d.sink).observe(
            max(0.0, (now - d.event.created_at).total_seconds())
        )
    for d in deliveries:
        result = outcomes[str(d.event_id)].result.value
        stats.by_result[result] += 1
        metrics.DELIVERIES.labels(sink=d.sink, result=result).inc()


def deliver_claimed(deliveries: list[Delivery], worker: str, stats: Stats | None = None) -> Stats:
    stats = stats or Stats()
    sinks = enabled_sinks()
    messages: dict[str, Message | Outcome] = {}
    for d in deliveries:
        key = str(d.event_id)
        if key not in messages:
            try:
                body = to_json_bytes(d.event)
                messages[key] = Message(key, d.event.type, d.event.subject, body)
            except Exception as exc:
                messages[key] = Outcome(
                    Result.POISON, f"cannot serialise: {type(exc).__name__}: {exc}"
                )
    by_sink: dict[str, list[Delivery]] = defaultdict(list)
    for d in deliveries:
        by_sink[d.sink].append(d)
    for name, group in by_sink.items():
        outcomes: dict[str, Outcome] = {}
        sendable: list[Message] = []
        for d in group:
            m = messages[str(d.event_id)]
            if isinstance(m, Outcome):
                outcomes[str(d.event_id)] = m
            else:
                sendable.append(m)
        sink = sinks.get(name)
        if sink is None:
            for m in sendable:
                outcomes[m.id] = Outcome(Result.POISON, f"sink {name!r} is not configured")
        elif sendable:
            sent, _error, breaker_open = _call_through_breaker(sink, sendable)
            if breaker_open:
                until = breakers.blocked_until(name) or timezone.now() + timedelta(
                    seconds=HELD_BACK_SECONDS
                )
                held = [d.pk for d in group if str(d.event_id) in {m.id for m in sendable}]
                _release(held, worker, until, "waiting: circuit breaker open")
                stats.by_result["held"] += len(held)
                group = [d for d in group if d.pk not in set(held)]
            else:
                outcomes.update(sent)
        if group:
            _record(group, outcomes, worker, stats)
    return stats


def release_claims(worker: str) -> int:
    """Give back every claim of this worker without spending an attempt."""
    return Delivery.objects.filter(claimed_by=worker, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING,
        claimed_at=None,
        claimed_by=None,
        next_attempt_at=timezone.now(),
    )


def drain(
    *,
    sequence: bool = True,
    time_budget: float | None = None,
    batch: int | None = None,
    worker: str | None = None,
) -> Stats:
    """Sequence and deliver until nothing is due or the time budget is spent."""
    worker = worker or worker_id()
    deadline = time.monotonic() + (
        time_budget if time_budget is not None else conf.drain_time_budget()
    )
    stats = Stats()
    try:
        while True:
            sequenced = sequence_pending(batch) if sequence else 0
            stats.sequenced += max(sequenced, 0)
            claimed = claim(worker, batch)
            stats.claimed += len(claimed)
            if claimed:
                deliver_claimed(claimed, worker, stats)
            if (sequenced <= 0 and not claimed) or time.monotonic() > deadline:
                break
    except BaseException:
        release_claims(worker)
        raise
    return stats


# --- maintenance --------------------------------------------------------------------------
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
            error = f"claim by {d.claimed_by} expired (worker died?)"
            if attempts >= max_attempts:
                Delivery.objects.filter(pk=d.pk).update(
                    status=DeliveryStatus.DEAD,
                    attempts=attempts,
                    claimed_at=None,
                    claimed_by=None,
                    last_error=error,
                )
                _dead_letter(d, DeadLetterReason.EXHAUSTED, error, attempts)
            else:
                Delivery.objects.filter(pk=d.pk).update(
                    status=DeliveryStatus.PENDING,
                    attempts=attempts,
                    claimed_at=None,
                    claimed_by=None,
                    last_error=error,
                    next_attempt_at=timezone.now(),
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
