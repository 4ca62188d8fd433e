"""The write side of events: publish (outbox), requeue and discard (dead letters)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import conf, registry
from .choices import DeadLetterResolution, DeliveryStatus
from .envelope import dataschema_url, to_json_bytes
from .exceptions import EventTooLarge, InvalidEvent
from .models import DeadLetter, Delivery, OutboxEvent

logger = logging.getLogger(__name__)

DEAD_LETTERED = "com.oms.events.event.dead_lettered.v1"
REQUEUED = "com.oms.events.event.requeued.v1"
DISCARDED = "com.oms.events.event.discarded.v1"
DELIVERY_TYPES = (DEAD_LETTERED, REQUEUED, DISCARDED)


def publish(
    type: str,
    subject: str,
    data: dict[str, Any],
    *,
    branch: str | None = None,
    commit: str | None = None,
) -> OutboxEvent:
    """Write one outbox row in the caller's transaction; nothing else.

    The drain task is scheduled on commit, so a rolled-back change publishes nothing.
    Raises ``InvalidEvent`` for a malformed type, an empty subject, or data that does not
    match the registered JSON Schema of the type; ``EventTooLarge`` (413) for an event over
    ``OMS_EVENTS_MAX_EVENT_BYTES``.
    """
    event = _event(type, subject, data, branch=branch, commit=commit)
    event.save(force_insert=True)
    schedule_drain()
    return event


def publish_many(items: Iterable[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> int:
    """:func:`publish` for many events at once, ``(type, subject, data, {branch, commit})``
    each: every one checked as ``publish`` checks it before any is written, then one
    insert per batch (a bulk import's thousands of change events). Returns the count."""
    events = [_event(type, subject, data, **where) for type, subject, data, where in items]
    if events:
        # the sequencer reads in (created_at, id) order and one insert may stamp several
        # rows with the same microsecond: ids rising in the given order keep it (a random
        # uuid4 with its last 32 bits counting; version and variant bits untouched)
        base = uuid.uuid4().int & ~0xFFFFFFFF
        for i, event in enumerate(events):
            event.id = uuid.UUID(int=base | i)
        OutboxEvent.objects.bulk_create(events, batch_size=500)
        schedule_drain()
    return len(events)


def _event(
    type: str,
    subject: str,
    data: dict[str, Any],
    *,
    branch: str | None = None,
    commit: str | None = None,
) -> OutboxEvent:
    """The outbox row of an event, checked (not saved)."""
    try:
        registry.check_type_name(type)
    except registry.EventTypeError as exc:
        raise InvalidEvent(str(exc)) from exc
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidEvent("An event needs a non-empty subject.")
    if not isinstance(data, dict):
        raise InvalidEvent("Event data must be a JSON object (dict).")
    if registry.get(type) is None:
        if conf.require_registered_types():
            raise InvalidEvent(f"Unknown event type {type}: register it in the catalogue.")
        logger.warning("publishing unregistered event type", extra={"event_type": type})
    errors = registry.validate(type, data)
    if errors:
        raise InvalidEvent(f"{type}: data does not match its schema: {'; '.join(errors[:5])}")
    event = OutboxEvent(
        source=conf.source(),
        type=type,
        subject=subject,
        time=timezone.now(),
        dataschema=dataschema_url(type),
        data=data,
        branch=branch or None,
        commit=commit or None,
    )
    _check_size(event)
    return event


# The drain task, handed over by ``EventsConfig.ready`` (a callable passed down instead of
# an import: the tasks run the delivery engine, which publishes dead-letter events here).
_drain_task: Any = None


def set_drain_task(task: Any) -> None:
    """Register the Celery task that drains the outbox (``events.tasks.drain_outbox``)."""
    global _drain_task
    _drain_task = task


# room for the ``sequence`` extension, which the event gets once it is sequenced
SEQUENCE_ROOM = len(', "sequence": ""') + 20


def _check_size(event: OutboxEvent) -> None:
    size = len(to_json_bytes(event, upcast=False)) + SEQUENCE_ROOM
    limit = conf.max_event_bytes()
    if size > limit:
        raise EventTooLarge(
            f"The {event.type} event of this change would take {size} bytes, over the limit "
            f"of {limit} (OMS_EVENTS_MAX_EVENT_BYTES): make the change smaller."
        )


def _kick_drain() -> None:
    from django.core.cache import cache

    # Coalesce: one queued drain covers every commit made before it starts, because
    # the task deletes this key before it reads the outbox.
    try:
        if not cache.add(KICK_KEY, 1, timeout=10):
            return
    except Exception:  # the cache is an optimisation; beat drains anyway
        logger.warning("events: cache unavailable, kicking drain anyway", exc_info=True)
    if _drain_task is None:
        logger.warning("events: no drain task registered; beat will drain")
        return
    try:
        _drain_task.delay()
    except Exception:
        logger.exception("events: could not enqueue the drain task; beat will drain")


KICK_KEY = "oms:events:drain-kick"


def schedule_drain() -> None:
    """Enqueue one drain after the current transaction commits (once per transaction)."""
    if connection.in_atomic_block and any(
        func is _kick_drain for _sids, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_kick_drain, robust=True)


def _resolve_open_letters(delivery_ids: list[int], resolution: str, user: Any) -> None:
    DeadLetter.objects.filter(delivery_id__in=delivery_ids, resolved_at__isnull=True).update(
        resolved_at=timezone.now(),
        resolution=resolution,
        resolved_by=user if getattr(user, "pk", None) else None,
    )


REQUEUEABLE = (DeliveryStatus.DEAD, DeliveryStatus.DISCARDED, DeliveryStatus.PENDING)


@transaction.atomic
def requeue_deliveries(delivery_ids: Iterable[int], *, user: Any = None) -> int:
    """Send these deliveries again from scratch (attempts reset). Delivered and in-flight
    deliveries are left alone. Returns how many were requeued."""
    rows = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=list(delivery_ids), status__in=REQUEUEABLE)
        .select_related("event")
    )
    if not rows:
        return 0
    ids = [d.pk for d in rows]
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_at=None,
        claimed_by=None,
    )
    _resolve_open_letters(ids, DeadLetterResolution.REQUEUED, user)
    for d in rows:
        announce(REQUEUED, d, actor=_actor(user))
    schedule_drain()
    return len(rows)


@transaction.atomic
def discard_deliveries(delivery_ids: Iterable[int], *, user: Any = None) -> int:
    """Give up on these deliveries (pending or dead). Returns how many were discarded."""
    rows = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=list(delivery_ids), status__in=(DeliveryStatus.DEAD, DeliveryStatus.PENDING))
        .select_related("event")
    )
    if not rows:
        return 0
    ids = [d.pk for d in rows]
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.DISCARDED, claimed_at=None, claimed_by=None
    )
    _resolve_open_letters(ids, DeadLetterResolution.DISCARDED, user)
    for d in rows:
        announce(DISCARDED, d, actor=_actor(user))
    return len(rows)


def deliveries_of_events(event_ids: Iterable[Any]) -> list[int]:
    return list(
        Delivery.objects.filter(event_id__in=list(event_ids))
        .filter(~Q(status=DeliveryStatus.DELIVERED))
        .values_list("pk", flat=True)
    )


def announce(type: str, delivery: Delivery, **fields: Any) -> None:
    """Publish a delivery event (dead-lettered, requeued, discarded) about ``delivery``."""
    if delivery.event.type in DELIVERY_TYPES:
        return  # no events about events about events
    publish(
        type,
        f"events/{delivery.event_id}",
        {
            "eventId": str(delivery.event_id),
            "eventType": delivery.event.type,
            "sink": delivery.sink,
            **fields,
        },
    )


def _actor(user: Any) -> str | None:
    return getattr(user, "username", None) or None
