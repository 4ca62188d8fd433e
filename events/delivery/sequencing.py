"""Step 1, sequencing: under the ``OutboxCursor`` row lock, give committed events their
feed position and create one ``Delivery`` per (event, sink)."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .. import breakers, conf
from .. import sinks as sink_registry
from ..choices import DeliveryStatus
from ..models import Delivery, OutboxCursor, OutboxEvent
from ..sinks import Sink
from .claiming import claim
from .rows import UNDELIVERED, Claim, events_from_rows, prep, quoted


def sequence_pending(limit: int | None = None, *, sinks: dict[str, Sink] | None = None) -> int:
    """Number of events sequenced; -1 when another worker is sequencing right now.

    Set-based: one statement numbers the batch (positions first, first+1, ... in
    (created_at, id) order) and one ``INSERT ... SELECT`` creates the deliveries, whatever
    the batch size. Both run while this transaction holds the ``OutboxCursor`` row lock.
    """
    return _sequence(limit, sinks, None)[0]


def sequence_and_claim(
    worker: str,
    limit: int | None = None,
    *,
    sinks: dict[str, Sink] | None = None,
    chain: bool = False,
) -> tuple[int, list[Claim]]:
    """Sequence the next batch and, in the same transaction, create its deliveries already
    claimed by ``worker`` (pending for sinks whose breaker is open, or behind an undelivered
    earlier delivery of their subject). Nobody else can see those rows before the commit,
    so this is the same as claiming them right after, minus one UPDATE per row.
    PostgreSQL; elsewhere sequence, then ``claim``. ``chain``: see ``claim``."""
    sinks = sink_registry.enabled_sinks() if sinks is None else sinks
    if connection.vendor != "postgresql":
        sequenced = sequence_pending(limit, sinks=sinks)
        if sequenced <= 0:
            return sequenced, []
        return sequenced, claim(worker, limit, list(sinks), chain=chain)
    return _sequence(limit, sinks, worker, chain)


def _sequence(
    limit: int | None, sinks: dict[str, Sink] | None, worker: str | None, chain: bool = False
) -> tuple[int, list[Claim]]:
    limit = limit or conf.batch_size()
    sinks = sink_registry.enabled_sinks() if sinks is None else sinks
    blocked = {name for name in sinks if breakers.blocked_until(name)} if worker else set()
    with transaction.atomic():
        locked = OutboxCursor.objects.select_for_update(skip_locked=True).filter(pk=1)
        cursor = locked.first()
        if cursor is None:
            if OutboxCursor.objects.filter(pk=1).exists():
                return -1, []
            OutboxCursor.objects.get_or_create(pk=1)  # a first drain may race another
            cursor = locked.first()
            if cursor is None:
                return -1, []
        now = timezone.now()
        last = cursor.last_position
        events: list[OutboxEvent] = []
        if worker is not None:  # PostgreSQL only (see sequence_and_claim)
            events = _number_batch_returning(last, limit, now)
            batch = [(e.id, e.position, e.type, e.subject) for e in events]
        elif connection.vendor == "postgresql":
            batch = _number_batch_sql(last, limit, now, "o.id, o.position, o.type, o.subject")
        else:
            batch = _number_batch_orm(last, limit, now)
        if not batch:
            return 0, []
        batch.sort(key=lambda row: row[1])
        rules = [
            (type_, name, worker if worker is not None and name not in blocked else None)
            for type_ in sorted({row[2] for row in batch})
            for name, sink in sinks.items()
            if sink.accepts(type_)
        ]
        advance = (
            f"UPDATE {quoted(OutboxCursor)} SET last_position = %s WHERE id = 1",
            [last + len(batch)],
        )
        created = _create_deliveries(rules, batch, now, worker if chain else "", advance)
        if not created:  # idempotent: it may have run already
            OutboxCursor.objects.filter(pk=1).update(last_position=last + len(batch))
    if worker is None:
        return len(batch), []
    by_id = {e.id: e for e in events}
    return len(batch), [  # delivery ids follow the feed order: send in that order
        Claim(pk, event_id, sink, 0, by_id[event_id])
        for pk, event_id, sink, claimed_by in sorted(created)
        if claimed_by is not None
    ]


def _number_batch_sql(last: int, limit: int, now, returning: str) -> list:
    """PostgreSQL: pick and number the next batch in one statement.

    Bitmap scans are off for this transaction: right after a burst the planner's
    statistics are cold, and a bitmap scan of the partial index of unsequenced events
    would visit every dead entry of it on each batch, where an ordered index scan stops
    after ``limit`` live rows (and marks the dead entries it passes)."""
    table = quoted(OutboxEvent)
    with connection.cursor() as cur:
        cur.execute(  # one round trip for both statements
            f"SET LOCAL enable_bitmapscan = off; "
            f"UPDATE {table} AS o SET position = n.pos, sequenced_at = %s"
            f" FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos"
            f"       FROM (SELECT id, created_at FROM {table} WHERE position IS NULL"
            f"             ORDER BY created_at, id LIMIT %s) AS batch) AS n"
            f" WHERE o.id = n.id RETURNING {returning}",
            [prep(OutboxEvent, "sequenced_at", now), last, limit],
        )
        return cur.fetchall()


def _number_batch_returning(last: int, limit: int, now) -> list[OutboxEvent]:
    """PostgreSQL: number the next batch and return its events."""
    fields = OutboxEvent._meta.concrete_fields
    q = connection.ops.quote_name
    rows = _number_batch_sql(last, limit, now, ", ".join(f"o.{q(f.column)}" for f in fields))
    return events_from_rows(rows)


def _number_batch_orm(last: int, limit: int, now) -> list[tuple]:
    """Other databases (SQLite): read the batch, then number it with one UPDATE."""
    rows = list(
        OutboxEvent.objects.filter(position__isnull=True)
        .order_by("created_at", "id")
        .values_list("id", "type", "subject")[:limit]
    )
    if not rows:
        return []
    table = quoted(OutboxEvent)
    ids = [prep(OutboxEvent, "id", row[0]) for row in rows]
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET position = numbered.pos, sequenced_at = %s "
            f"FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos "
            f"FROM {table} WHERE id IN ({placeholders})) AS numbered "
            f"WHERE {table}.id = numbered.id",
            [prep(OutboxEvent, "sequenced_at", now), last, *ids],
        )
    return [(id_, last + n, type_, subject) for n, (id_, type_, subject) in enumerate(rows, 1)]


def _create_deliveries(
    rules: list[tuple[str, str, str | None]],
    batch: list[tuple],
    now,
    chained: str = "",
    before: tuple[str, list] | None = None,
) -> list[tuple]:
    """One ``INSERT ... SELECT``: a delivery per (event of the batch, sink whose type filter
    accepts it), given as (type, sink, claimed by) rules; claimed by a worker or pending.
    A delivery whose (sink, subject) still has an undelivered earlier delivery is created
    pending even when a worker is given: it waits for its predecessor (per-subject order),
    unless that predecessor is claimed by ``chained`` (the worker, see ``claim``).
    ``batch``: (id, position, type, subject) in position order; delivery ids follow it. On
    PostgreSQL the batch is joined in as arrays (``unnest``, no scan of the outbox), the
    rows created are returned as (id, event id, sink, claimed by), and ``before`` (a
    statement and its parameters) runs first in the same round trip. It may not have run
    when the result is empty (no rules, or not PostgreSQL): the caller runs it then."""
    if not rules:
        return []
    mapping = " UNION ALL ".join(["SELECT %s AS type, %s AS sink, %s AS worker"] * len(rules))
    stamp = prep(Delivery, "next_attempt_at", now)
    postgres = connection.vendor == "postgresql"
    table = quoted(Delivery)
    if postgres:
        source = (
            "unnest(%s::uuid[], %s::text[], %s::text[])"
            " WITH ORDINALITY AS o(id, type, subject, position)"
        )
        where: list = [[row[0] for row in batch], [row[2] for row in batch]]
        where.append([row[3] for row in batch])
        condition = ""
    else:
        source = f"{quoted(OutboxEvent)} AS o"
        where = [batch[0][1] - 1, batch[-1][1]]
        condition = "WHERE o.position > %s AND o.position <= %s "
    prefix, prefix_params = (before[0] + "; ", before[1]) if postgres and before else ("", [])
    with connection.cursor() as cur:
        cur.execute(
            f"{prefix}INSERT INTO {table} (event_id, sink, subject, status, attempts, "
            f"next_attempt_at, claimed_at, claimed_by, last_error, created_at, updated_at) "
            f"SELECT s.id, s.sink, s.subject, CASE WHEN s.worker IS NULL THEN %s ELSE %s END,"
            f" 0, %s, CASE WHEN s.worker IS NULL THEN NULL ELSE %s END, s.worker, '', %s, %s "
            f"FROM (SELECT o.id, o.position, o.subject, m.sink,"
            f"        CASE WHEN m.worker IS NOT NULL AND NOT EXISTS ("
            f"          SELECT 1 FROM {table} AS p WHERE p.sink = m.sink"
            f"          AND p.subject = o.subject AND p.status IN (%s, %s)"
            f"          AND (p.status = %s OR p.claimed_by <> %s))"
            f"        THEN m.worker END AS worker"
            f"      FROM {source} JOIN ({mapping}) AS m ON m.type = o.type {condition}) AS s "
            f"ORDER BY s.position, s.sink "
            f"ON CONFLICT DO NOTHING"
            + (" RETURNING id, event_id, sink, claimed_by" if postgres else ""),
            [
                *prefix_params,
                DeliveryStatus.PENDING.value,
                DeliveryStatus.CLAIMED.value,
                stamp,
                stamp,
                stamp,
                stamp,
                *UNDELIVERED,
                DeliveryStatus.PENDING.value,
                chained,
                *(where if postgres else []),
                *[value for rule in rules for value in rule],
                *([] if postgres else where),
            ],
        )
        return cur.fetchall() if postgres else []
