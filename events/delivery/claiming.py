"""Step 2, claiming: ``SELECT ... FOR UPDATE SKIP LOCKED`` due deliveries of sinks whose
breaker lets calls through, mark them claimed by this worker, commit."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .. import breakers, conf
from .. import sinks as sink_registry
from ..choices import DeliveryStatus
from ..models import Delivery, OutboxEvent
from .rows import UNDELIVERED, Claim, events_from_rows, prep, quoted


def claim(
    worker: str,
    limit: int | None = None,
    sink_names: list[str] | None = None,
    *,
    chain: bool = False,
) -> list[Claim]:
    """Claim due deliveries (``FOR UPDATE SKIP LOCKED``) in one short transaction; return
    them with their events, in id order.

    Per-subject order: of the due deliveries locked here (the candidates), a delivery is
    claimed only if every undelivered earlier delivery of its (sink, subject) is a
    candidate too; the others stay pending. A predecessor that is claimed, waiting for a
    retry, beyond the limit or locked by another worker's claim holds it back.

    ``chain``: a predecessor claimed by ``worker`` itself does not hold its successors
    back. Only for a caller that sends them after it, and only if it was delivered (the
    drain: its batch in flight, see ``start_batches``)."""
    limit = limit or conf.batch_size()
    names = sink_names if sink_names is not None else list(sink_registry.enabled_sinks())
    blocked = [name for name in names if breakers.blocked_until(name)]
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _claim_sql(worker, limit, blocked, now, worker if chain else "")
    with transaction.atomic():
        candidates = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .exclude(sink__in=blocked)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        waiting_for = Delivery.objects.filter(
            sink=OuterRef("sink"),
            subject=OuterRef("subject"),
            pk__lt=OuterRef("pk"),
            status__in=UNDELIVERED,
        ).exclude(pk__in=candidates)
        if chain:
            waiting_for = waiting_for.exclude(status=DeliveryStatus.CLAIMED, claimed_by=worker)
        ids = list(
            Delivery.objects.filter(pk__in=candidates)
            .exclude(Exists(waiting_for))
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.CLAIMED, claimed_at=now, claimed_by=worker
        )
    rows = Delivery.objects.filter(pk__in=ids).select_related("event").order_by("id")
    return [Claim(d.pk, d.event_id, d.sink, d.attempts, d.event) for d in rows]


def _claim_sql(worker: str, limit: int, blocked: list[str], now, chained: str) -> list[Claim]:
    """PostgreSQL: one statement locks the candidates (SKIP LOCKED), marks those with no
    undelivered predecessor outside them (``NOT EXISTS`` on the partial index of undelivered
    rows) and returns them with their events: ``WITH candidates AS (SELECT ... FOR UPDATE
    SKIP LOCKED) UPDATE ... WHERE id = ANY(ARRAY(...)) RETURNING``, joined to the outbox."""
    q = connection.ops.quote_name
    columns = ", ".join(
        ["c.id", "c.event_id", "c.sink", "c.attempts"]
        + [f"o.{q(f.column)}" for f in OutboxEvent._meta.concrete_fields]
    )
    stamp = prep(Delivery, "claimed_at", now)
    exclude, params = "", [DeliveryStatus.PENDING.value, stamp]
    if blocked:
        exclude = " AND sink NOT IN %s"
        params.append(tuple(blocked))
    table = quoted(Delivery)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"WITH candidates AS ("
            f"  SELECT id, sink, subject FROM {table}"
            f"  WHERE status = %s AND next_attempt_at <= %s{exclude}"
            f"  ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED"
            f"), claimed AS ("
            f"  UPDATE {table} SET status = %s, claimed_at = %s, claimed_by = %s"
            f"  WHERE id = ANY(ARRAY("
            f"    SELECT c.id FROM candidates AS c WHERE NOT EXISTS ("
            f"      SELECT 1 FROM {table} AS p WHERE p.sink = c.sink AND p.subject = c.subject"
            f"      AND p.id < c.id AND p.status IN (%s, %s)"
            f"      AND (p.status = %s OR p.claimed_by <> %s)"
            f"      AND p.id NOT IN (SELECT id FROM candidates))))"
            f"  RETURNING id, event_id, sink, attempts"
            f") SELECT {columns} FROM claimed AS c"
            f" JOIN {quoted(OutboxEvent)} AS o ON o.id = c.event_id ORDER BY c.id",
            [
                *params,
                limit,
                DeliveryStatus.CLAIMED.value,
                stamp,
                worker,
                *UNDELIVERED,
                DeliveryStatus.PENDING.value,
                chained,
            ],
        )
        rows = cur.fetchall()
    distinct = {row[1]: row[4:] for row in rows}
    events = dict(zip(distinct, events_from_rows(list(distinct.values())), strict=True))
    return [Claim(row[0], row[1], row[2], row[3], events[row[1]]) for row in rows]


def release_claims(worker: str) -> int:
    """Give back every claim of this worker without spending an attempt."""
    return Delivery.objects.filter(claimed_by=worker, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING,
        claimed_at=None,
        claimed_by=None,
        next_attempt_at=timezone.now(),
    )
