"""What the delivery steps pass along: claimed rows, counters, and SQL helpers."""

from __future__ import annotations

import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from ..choices import DeliveryStatus
from ..models import OutboxEvent

# statuses of a delivery that is not done yet: it holds back later deliveries of its
# (sink, subject); delivered, dead and discarded ones do not
UNDELIVERED = (DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value)


@dataclass
class Stats:
    sequenced: int = 0
    claimed: int = 0
    by_result: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict:
        return {"sequenced": self.sequenced, "claimed": self.claimed, **self.by_result}


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def prep(model, field: str, value):
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


def events_from_rows(rows) -> list[OutboxEvent]:
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
