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
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from . import breakers, conf, metrics
from .choices import DeadLetterReason, DeliveryStatus
from .envelope import to_json_bytes
from .models import DeadLetter, Delivery, OutboxCursor, OutboxEvent
from .sinks import Message, Outcome, Result, Sending, Sink, SinkUnavailable, enabled_sinks

logger = logging.getLogger(__name__)

HELD_BACK_SECONDS = 1.0
SINKS_TTL_SECONDS = 1.0  # a drain reads the enabled sinks (webhooks) again after this
RETRY_CLAIM_INTERVAL_SECONDS = 1.0  # see drain
# statuses of a delivery that is not done yet: it holds back later deliveries of its
# (sink, subject); delivered, dead and discarded ones do not
UNDELIVERED = (DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value)


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
def _quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _prep(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_value(value, connection)


@dataclass(eq=False)
class Claim:
    """A delivery this worker claimed, with its event: what the claiming statement returned
    (the delivery's columns needed to send and record; no ORM instance per row)."""

    pk: int
    event_id: uuid.UUID
    sink: str
    attempts: int
    event: OutboxEvent
    key: str = field(init=False)  # str(event_id): the message id, looked up per outcome

    def __post_init__(self) -> None:
        self.key = str(self.event_id)


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
    sinks = enabled_sinks() if sinks is None else sinks
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
    sinks = enabled_sinks() if sinks is None else sinks
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
            f"UPDATE {_quoted(OutboxCursor)} SET last_position = %s WHERE id = 1",
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
    table = _quoted(OutboxEvent)
    with connection.cursor() as cur:
        cur.execute(  # one round trip for both statements
            f"SET LOCAL enable_bitmapscan = off; "
            f"UPDATE {table} AS o SET position = n.pos, sequenced_at = %s"
            f" FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos"
            f"       FROM (SELECT id, created_at FROM {table} WHERE position IS NULL"
            f"             ORDER BY created_at, id LIMIT %s) AS batch) AS n"
            f" WHERE o.id = n.id RETURNING {returning}",
            [_prep(OutboxEvent, "sequenced_at", now), last, limit],
        )
        return cur.fetchall()


def _number_batch_returning(last: int, limit: int, now) -> list[OutboxEvent]:
    """PostgreSQL: number the next batch and return its events."""
    fields = OutboxEvent._meta.concrete_fields
    q = connection.ops.quote_name
    rows = _number_batch_sql(last, limit, now, ", ".join(f"o.{q(f.column)}" for f in fields))
    return _events(rows)


def _number_batch_orm(last: int, limit: int, now) -> list[tuple]:
    """Other databases (SQLite): read the batch, then number it with one UPDATE."""
    rows = list(
        OutboxEvent.objects.filter(position__isnull=True)
        .order_by("created_at", "id")
        .values_list("id", "type", "subject")[:limit]
    )
    if not rows:
        return []
    table = _quoted(OutboxEvent)
    ids = [_prep(OutboxEvent, "id", row[0]) for row in rows]
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET position = numbered.pos, sequenced_at = %s "
            f"FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY created_at, id) AS pos "
            f"FROM {table} WHERE id IN ({placeholders})) AS numbered "
            f"WHERE {table}.id = numbered.id",
            [_prep(OutboxEvent, "sequenced_at", now), last, *ids],
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
    stamp = _prep(Delivery, "next_attempt_at", now)
    postgres = connection.vendor == "postgresql"
    table = _quoted(Delivery)
    if postgres:
        source = (
            "unnest(%s::uuid[], %s::text[], %s::text[])"
            " WITH ORDINALITY AS o(id, type, subject, position)"
        )
        where: list = [[row[0] for row in batch], [row[2] for row in batch]]
        where.append([row[3] for row in batch])
        condition = ""
    else:
        source = f"{_quoted(OutboxEvent)} AS o"
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


# --- 2. claiming --------------------------------------------------------------------------
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
    names = sink_names if sink_names is not None else list(enabled_sinks())
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
    stamp = _prep(Delivery, "claimed_at", now)
    exclude, params = "", [DeliveryStatus.PENDING.value, stamp]
    if blocked:
        exclude = " AND sink NOT IN %s"
        params.append(tuple(blocked))
    table = _quoted(Delivery)
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
            f" JOIN {_quoted(OutboxEvent)} AS o ON o.id = c.event_id ORDER BY c.id",
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
    events = dict(zip(distinct, _events(list(distinct.values())), strict=True))
    return [Claim(row[0], row[1], row[2], row[3], events[row[1]]) for row in rows]


def _events(rows) -> list[OutboxEvent]:
    """OutboxEvent instances from rows of its concrete columns, converted as the ORM would."""
    names = [f.attname for f in OutboxEvent._meta.concrete_fields]
    converters = _converters(OutboxEvent)
    db = connection.alias
    events = []
    for row in rows:
        values = list(row)
        for index, col, funcs in converters:
            value = values[index]
            for func in funcs:
                value = func(value, col, connection)
            values[index] = value
        events.append(OutboxEvent.from_db(db, names, values))
    return events


def _converters(model) -> list[tuple]:
    """(column index, column, converters) for each concrete field that has converters:
    those the ORM would apply to a value read from the database (backend ones, then the
    field's), as the SQL compiler does."""
    table = model._meta.db_table
    result = []
    for index, f in enumerate(model._meta.concrete_fields):
        col = f.get_col(table)
        funcs = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
        if funcs:
            result.append((index, col, funcs))
    return result


# --- 3. sending and recording -------------------------------------------------------------
def _call_through_breaker(
    sink: Sink, messages: list[Message], sending: Sending | None = None
) -> tuple[dict[str, Outcome], bool]:
    """(outcomes, breaker was open and its outcomes are not to be used).

    ``sending``: a batch already started in the background (see ``Sink.start_batch``);
    the breaker then wraps waiting for it. If the breaker refuses the call meanwhile (it
    was opened by another worker), a batch that did reach the sink is still recorded."""
    breaker = breakers.get_breaker(sink.name)
    box: dict[str, dict[str, Outcome]] = {}
    slow = conf.breaker_slow_call()
    sending = sending or in_order(sink, messages, start=False)

    def run() -> None:
        started = sending.since
        try:
            box["outcomes"] = sending.result()
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
        if not sending.started:
            return {}, True
        try:
            reached = sending.result()
        except Exception:
            return {}, True
        if not any(o.result is Result.DELIVERED for o in reached.values()):
            return {}, True
        box["outcomes"] = reached
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
    return outcomes, False


def _rounds(messages: list[Message]) -> list[list[Message]]:
    """Round k holds the k-th message of each subject (messages in feed order)."""
    rounds: list[list[Message]] = []
    seen: dict[str, int] = defaultdict(int)
    for m in messages:
        k = seen[m.subject]
        seen[m.subject] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(m)
    return rounds


def in_order(sink: Sink, messages: list[Message], *, start: bool = True) -> Sending:
    """Send a batch keeping per-subject order: when it holds several messages of a subject,
    the second goes out only once the first is acknowledged, and so on (rounds). A message
    whose predecessor in the batch was not delivered is not sent (``NOT_SENT``: released,
    no attempt spent). With ``start`` the first round begins now (``Sink.start_batch``)."""
    rounds = _rounds(messages)
    first = rounds[0] if rounds else []
    if start:
        head = sink.start_batch(first)
    else:
        head = Sending(lambda: sink.send_batch(first), started=False)
    if len(rounds) <= 1:
        return head

    def result() -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        stopped: set[str] = set()  # subjects with a message not delivered
        sending = head
        for k, round_ in enumerate(rounds):
            if k:
                todo = [m for m in round_ if m.subject not in stopped]
                for m in round_:
                    if m.subject in stopped:
                        outcomes[m.id] = Outcome(Result.NOT_SENT)
                if not todo:
                    continue
                sending = sink.start_batch(todo)
            try:
                outcomes.update(sending.result())
            except SinkUnavailable as exc:  # later rounds were not sent: no attempt spent
                outcomes.update(exc.outcomes)
                for later in rounds[k + 1 :]:
                    outcomes.update({m.id: Outcome(Result.NOT_SENT) for m in later})
                raise SinkUnavailable(str(exc), outcomes) from exc
            for m in round_:
                outcome = outcomes.get(m.id)
                if outcome is None or outcome.result is not Result.DELIVERED:
                    stopped.add(m.subject)
        return outcomes

    return Sending(result, started=head.started)


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
    from .services import DEAD_LETTERED, announce

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


def _spend_attempt(owned, delivery, attempts: int, error: str, dead_reason, retry_at) -> None:
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
            f"UPDATE {_quoted(Delivery)} AS d SET status = %s, delivered_at = %s, "
            f"attempts = d.attempts + 1, claimed_at = NULL, claimed_by = NULL, last_error = '' "
            f"FROM unnest(%s::bigint[]) AS ids(id) "
            f"WHERE d.id = ids.id AND d.claimed_by = %s; "
            f"SET LOCAL enable_seqscan = on",
            [
                DeliveryStatus.DELIVERED.value,
                _prep(Delivery, "delivered_at", now),
                ids,
                worker,
            ],
        )


def _record(deliveries: list, outcomes: dict[str, Outcome], worker: str, stats: Stats) -> None:
    now = timezone.now()
    delivered = [d for d in deliveries if outcomes[d.key].result is Result.DELIVERED]
    not_sent = [d.pk for d in deliveries if outcomes[d.key].result is Result.NOT_SENT]
    max_attempts = conf.max_attempts()
    with transaction.atomic():
        if delivered:
            _mark_delivered([d.pk for d in delivered], worker, now)
        _release(not_sent, worker, now)
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
            _spend_attempt(
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


@dataclass
class _Batch:
    """Claimed deliveries of one sink on their way: pre-decided outcomes (poison), the
    messages to send and, once started, the sending. ``successor``: the next batch of the
    same sink, whose sends wait for this one's outcomes (it has subjects in common)."""

    name: str
    group: list
    outcomes: dict[str, Outcome]
    sendable: list[Message]
    sending: Sending | None = None
    successor: _Batch | None = None


def deliver_claimed(
    deliveries: list[Claim],
    worker: str,
    stats: Stats | None = None,
    *,
    sinks: dict[str, Sink] | None = None,
) -> Stats:
    """Send claimed deliveries (each event serialised once) and record the outcomes."""
    stats = stats or Stats()
    sinks = enabled_sinks() if sinks is None else sinks
    finish_batches(start_batches(deliveries, sinks), worker, stats, sinks)
    return stats


def start_batches(
    deliveries: list, sinks: dict[str, Sink], after: list[_Batch] | None = None
) -> list[_Batch]:
    """Serialise, group by sink and start the sends that can run in the background.
    A sink whose breaker is open is not started (``finish_batches`` holds its batch).

    ``after``: the batches still in flight. A sink's batch that shares subjects with that
    sink's batch in flight is not started now: ``finish_batches`` starts it as soon as the
    outcomes in flight are known, without the messages whose predecessor was not
    delivered (per-subject order)."""
    previous = {b.name: b for b in after or ()}
    messages: dict[str, Message | Outcome] = {}
    for d in deliveries:
        key = d.key
        if key not in messages:
            try:
                body = to_json_bytes(d.event)
                messages[key] = Message(key, d.event.type, d.event.subject, body)
            except Exception as exc:
                messages[key] = Outcome(
                    Result.POISON, f"cannot serialise: {type(exc).__name__}: {exc}"
                )
    by_sink: dict[str, list] = defaultdict(list)
    for d in deliveries:
        by_sink[d.sink].append(d)
    batches = []
    for name, group in by_sink.items():
        batch = _Batch(name, group, {}, [])
        for d in group:
            m = messages[d.key]
            if isinstance(m, Outcome):
                batch.outcomes[d.key] = m
            else:
                batch.sendable.append(m)
        sink = sinks.get(name)
        if sink is None:
            for m in batch.sendable:
                batch.outcomes[m.id] = Outcome(Result.POISON, f"sink {name!r} is not configured")
            batch.sendable = []
        elif batch.sendable:
            before = previous.get(name)
            if before is not None and {m.subject for m in before.sendable} & {
                m.subject for m in batch.sendable
            }:
                before.successor = batch
            elif not breakers.blocked_until(name):
                batch.sending = in_order(sink, batch.sendable)
        batches.append(batch)
    return batches


def _start_successor(batch: _Batch, failed: set[str], sinks: dict[str, Sink]) -> None:
    """Start a batch that waited for the one before it; ``failed``: subjects whose message
    in that batch was not delivered (their messages here are not sent)."""
    keep = []
    for m in batch.sendable:
        if m.subject in failed:
            batch.outcomes[m.id] = Outcome(Result.NOT_SENT)
        else:
            keep.append(m)
    batch.sendable = keep
    if keep and not breakers.blocked_until(batch.name):
        batch.sending = in_order(sinks[batch.name], keep)


def finish_batches(
    batches: list[_Batch], worker: str, stats: Stats, sinks: dict[str, Sink]
) -> None:
    """Wait for each sink's outcomes through its breaker and record them."""
    for batch in batches:
        group, outcomes, name = batch.group, batch.outcomes, batch.name
        failed = {m.subject for m in batch.sendable}
        if batch.sendable:
            sink = sinks[name]
            sent, breaker_open = _call_through_breaker(sink, batch.sendable, batch.sending)
            if breaker_open:
                until = breakers.blocked_until(name) or timezone.now() + timedelta(
                    seconds=HELD_BACK_SECONDS
                )
                waiting = {m.id for m in batch.sendable}
                held = [d.pk for d in group if d.key in waiting]
                _release(held, worker, until, "waiting: circuit breaker open")
                stats.by_result["held"] += len(held)
                group = [d for d in group if d.key not in waiting]
            else:
                outcomes.update(sent)
                failed = {
                    m.subject for m in batch.sendable if sent[m.id].result is not Result.DELIVERED
                }
        if batch.successor is not None:  # its sends overlap recording this batch
            _start_successor(batch.successor, failed, sinks)
        if group:
            _record(group, outcomes, worker, stats)


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
    size = batch or conf.batch_size()
    stats = Stats()
    # One batch in flight: while a batch's acknowledgements come back (a sink that sends
    # in the background: NATS), the next one is claimed, serialised and started.
    in_flight: tuple[list[_Batch], dict[str, Sink]] | None = None
    sinks: dict[str, Sink] = {}
    read_at, retried_at = -SINKS_TTL_SECONDS, -RETRY_CLAIM_INTERVAL_SECONDS
    retries_found = True

    def retries() -> list[Claim]:
        # successors of this worker's batch in flight may be claimed: their sends wait for
        # its outcomes (start_batches)
        nonlocal retried_at, retries_found
        found = claim(worker, size, sink_names=list(sinks), chain=True)
        retried_at, retries_found = time.monotonic(), bool(found)
        return found

    try:
        while True:
            if time.monotonic() - read_at >= SINKS_TTL_SECONDS:  # webhooks change in the admin
                sinks, read_at = enabled_sinks(), time.monotonic()
            # due retries first — while new events keep coming, looked for at most once a
            # second unless the last look found some (one statement less per batch)
            looked = (
                not sequence
                or retries_found
                or time.monotonic() - retried_at >= RETRY_CLAIM_INTERVAL_SECONDS
            )
            claimed = retries() if looked else []
            sequenced = 0
            if sequence and len(claimed) < size:
                sequenced, fresh = sequence_and_claim(
                    worker, size - len(claimed), sinks=sinks, chain=True
                )
                claimed += fresh
            if not claimed and not looked:  # nothing new: the retries decide if we are done
                claimed = retries()
            stats.sequenced += max(sequenced, 0)
            stats.claimed += len(claimed)
            after = in_flight[0] if in_flight is not None else None
            started = (start_batches(claimed, sinks, after), sinks) if claimed else None
            finished = in_flight is not None
            if finished:  # recording may publish (dead letters): look again after it
                finish_batches(in_flight[0], worker, stats, in_flight[1])
            in_flight = started
            if (sequenced <= 0 and not claimed and not finished) or time.monotonic() > deadline:
                break
        if in_flight is not None:
            finish_batches(in_flight[0], worker, stats, in_flight[1])
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
            exhausted = attempts >= max_attempts
            _spend_attempt(
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
