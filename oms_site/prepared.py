"""Read queries the ORM builds and compiles once per process, then runs with other values.

Building and compiling a ``values_list`` query costs Django about a millisecond of CPU
(more with ``Cast`` columns), several times what PostgreSQL takes to answer it; a
single-entity read runs five of them. :func:`rows` keeps each query's SQL, compiled by
the ORM from the same queryset a caller would run, and fills in the parameters itself:

- ``build(*args)`` returns the queryset (a ``values_list``); ``args`` are the values
  that change between calls: scalars (ints or strings) or lists of them (an ``__in``).
  It is called once per shape (the key and the lengths of the list arguments, at most
  :data:`MAX_LIST` long) with sentinel values, and the position of each sentinel among
  the compiled parameters is noted; the other parameters are kept as compiled.
- A query the ORM would post-process is never taken over: one whose columns have
  converters (on SQLite: dates, decimals, JSON), a sentinel the ORM transformed (``%x%``
  of ``icontains``) or found twice or not at all, a queryset of model instances. Those
  run through the ORM as before, as does every shape past :data:`MAX_SHAPES`.
- The first run of a shape in a process runs the ORM too, answers with the ORM's rows
  and compares: a difference drops the shape for good (logged), so a Django upgrade
  cannot make it answer wrong.

The query still goes through Django's cursor (query logging, metrics, test capture).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable

logger = logging.getLogger(__name__)

MAX_SHAPES = 2048  # per process; a shape is one key and the lengths of its list arguments
MAX_LIST = 100  # a longer list argument (a bulk read) runs through the ORM: its SQL is not kept

_SENTINEL_INT = 1_987_650_001  # in range of any integer column (see below)
_SENTINEL_UUID = uuid.UUID("5e471ae1-0000-4000-8000-000000000000").int


@dataclass(frozen=True)
class _Shape:
    alias: str
    sql: str
    params: tuple  # as compiled, the sentinels' places included
    slots: tuple[tuple[int, int, int | None, type], ...]  # (param index, arg, item, kind)
    width: int


_shapes: dict[tuple, _Shape | None] = {}
_checked: set[tuple] = set()
_lock = threading.Lock()


def rows(key: str, build: Callable[..., QuerySet], *args: Any) -> list[tuple]:
    """``list(build(*args))``, with the SQL compiled once per shape (see the module)."""
    signature = (key, *(len(a) if isinstance(a, list | tuple) else -1 for a in args))
    if max(signature[1:], default=-1) > MAX_LIST:
        return list(build(*args))
    shape = _shapes.get(signature, False)
    if shape is False:
        shape = _prepare(signature, build, args)
    if shape is None:
        return list(build(*args))
    params = list(shape.params)
    for index, arg, item, kind in shape.slots:
        value = args[arg] if item is None else args[arg][item]
        if not _fits(value, kind):
            return list(build(*args))  # what the ORM would refuse or convert: let it
        params[index] = str(value) if kind is uuid.UUID else value
    with connections[shape.alias].cursor() as cursor:
        cursor.execute(shape.sql, params)
        found = cursor.fetchall()
    if len(found) and len(found[0]) != shape.width:
        found = [row[: shape.width] for row in found]
    if signature not in _checked:
        return _check(signature, found, build, args)
    return found


def _check(signature: tuple, found: list[tuple], build: Callable[..., QuerySet], args):
    """The ORM's answer; the shape is kept only if it gave the same."""
    expected = list(build(*args))
    with _lock:
        _checked.add(signature)
        if expected != found:
            _shapes[signature] = None
            logger.warning("prepared: %s answered otherwise than the ORM; not used", signature[0])
    return expected


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is uuid.UUID:
        return isinstance(value, uuid.UUID) or (isinstance(value, str) and _is_uuid(value))
    return isinstance(value, str)


def _sentinels(args: Sequence[Any]) -> tuple[list[Any], dict[str, tuple[int, int | None, type]]]:
    """A distinct value per argument (and list item) of the argument's own type, and where
    each one belongs. Integers stay within a 32-bit column's range (an out-of-range value
    makes the ORM skip the query); strings that are uuids get uuids."""
    made: dict[str, tuple[int, int | None, type]] = {}
    counter = iter(range(1_000_000))

    def one(value: Any, place: tuple[int, int | None]) -> Any:
        n = next(counter)
        if isinstance(value, bool) or not isinstance(value, int | str | uuid.UUID):
            raise TypeError(type(value).__name__)
        if isinstance(value, int):
            fake: Any = _SENTINEL_INT + n
            kind: type = int
        elif isinstance(value, uuid.UUID) or _is_uuid(value):
            fake = str(uuid.UUID(int=_SENTINEL_UUID + n))
            kind = uuid.UUID
        else:
            fake = f"\x01oms-prepared-{n}"
            kind = str
        made[str(fake)] = (*place, kind)
        return fake

    values = [
        [one(v, (i, j)) for j, v in enumerate(a)]
        if isinstance(a, list | tuple)
        else one(a, (i, None))
        for i, a in enumerate(args)
    ]
    return values, made


def _is_uuid(value: str) -> bool:
    try:
        return len(value) == 36 and uuid.UUID(value) is not None
    except ValueError:
        return False


def _prepare(signature: tuple, build: Callable[..., QuerySet], args: Sequence[Any]):
    shape = None
    try:
        fakes, places = _sentinels(args)
        shape = _compile(build(*fakes), places)
    except TypeError:
        pass  # an argument of another type: the ORM, every time
    with _lock:
        if len(_shapes) < MAX_SHAPES:
            _shapes[signature] = shape
    return shape


def _compile(qs: QuerySet, places: dict[str, tuple[int, int | None, type]]) -> _Shape | None:
    if qs._iterable_class is not ValuesListIterable:
        return None
    compiler = qs.query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet and the like: not a query to keep
        return None
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        return None
    slots = []
    seen = set()
    for index, param in enumerate(params):
        place = places.get(str(param))
        if place is not None:
            if place in seen:
                return None
            seen.add(place)
            slots.append((index, *place))
    if len(seen) != len(places):
        return None  # a sentinel transformed, or not sent: the ORM knows best
    return _Shape(qs.db, sql, tuple(params), tuple(slots), compiler.col_count)


def clear() -> None:
    """Forget every shape (tests)."""
    with _lock:
        _shapes.clear()
        _checked.clear()
