"""Read queries the ORM builds and compiles once per process, then runs with other values.

Building and compiling a query costs Django about a millisecond of CPU (more with
``Cast`` columns), several times what PostgreSQL takes to answer it, and a single-entity
read runs several. :func:`rows` and :func:`instances` keep each query's SQL, compiled by
the ORM from the very queryset the caller would run, and fill in the parameters:

- ``build(*args)`` returns the queryset; ``args`` are the values that change between
  calls: ints or strings, or lists of them (an ``__in``). A *shape* is a key and the
  lengths of the list arguments (at most :data:`MAX_LIST`; longer runs through the ORM).
- The first call of a shape runs the ORM, as without this module, and answers with its
  rows. Beside it the queryset is built again with a sentinel for each value and
  compiled; where each sentinel lands among the SQL's parameters is noted. The shape is
  kept only if, with the real values put in those places, its SQL and parameters are
  exactly those the ORM just compiled for the call: no extra query, and a Django upgrade
  that changes the SQL cannot make a shape answer otherwise than the ORM.
- Never kept: a query whose columns have converters (on SQLite dates, decimals, JSON;
  on PostgreSQL JSON); a sentinel transformed on its way (``%x%`` of ``icontains``, a
  ``lower()`` in ``build``: pass the value lowered instead), sent twice or not at all;
  ``select_related``, prefetch, annotated or deferred model reads. Those always run
  through the ORM, as does every shape past :data:`MAX_SHAPES`.
- A value the shape's place does not take (a non-uuid string where a uuid was) runs
  through the ORM, which refuses or converts it as it always did; so does a
  ``select_for_update`` outside a transaction (the ORM's error).

The query still goes through Django's cursor (query logging, metrics, test capture).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable

MAX_SHAPES = 2048  # per process
MAX_LIST = 100  # a longer list argument (a bulk read) runs through the ORM: its SQL is not kept

_SENTINEL_INT = 1_987_650_001  # within a 32-bit column's range: the ORM skips out-of-range
_SENTINEL_UUID = uuid.UUID("5e471ae1-0000-4000-8000-000000000000").int

Place = tuple[int, "int | None", type]  # (argument, list index or None, kind of value)


@dataclass(frozen=True)
class _Shape:
    alias: str
    sql: str
    params: tuple  # as compiled for the sentinels
    slots: tuple[tuple[int, int, int | None, type], ...]  # (param index, *Place)
    width: int
    model: type | None  # instances of it (``from_db``), else plain rows
    init_list: tuple[str, ...]  # the attribute names of the columns, for ``from_db``
    for_update: bool

    def params_for(self, args: Sequence[Any]) -> list | None:
        """The parameters for ``args``, or ``None`` if a value does not fit its place."""
        params = list(self.params)
        for index, arg, item, kind in self.slots:
            value = args[arg] if item is None else args[arg][item]
            if not _fits(value, kind):
                return None
            params[index] = str(value) if kind is uuid.UUID else value
        return params


_shapes: dict[tuple, _Shape | None] = {}
_lock = threading.Lock()


def rows(key: str, build: Callable[..., QuerySet], *args: Any) -> list[tuple]:
    """``list(build(*args))`` of a ``values_list`` queryset, compiled once per shape."""
    return _run(key, build, args, ValuesListIterable)


def instances(key: str, build: Callable[..., QuerySet], *args: Any) -> list:
    """``list(build(*args))`` of a plain queryset of model instances, compiled once per
    shape."""
    return _run(key, build, args, ModelIterable)


def _run(key: str, build: Callable[..., QuerySet], args: Sequence[Any], iterable: type):
    signature = (key, *(len(a) if isinstance(a, list | tuple) else -1 for a in args))
    if max(signature[1:], default=-1) > MAX_LIST:
        return list(build(*args))
    shape = _shapes.get(signature, False)
    if shape is False:
        return _first(signature, build, args, iterable)
    params = shape.params_for(args) if shape is not None else None
    if params is None:
        return list(build(*args))
    connection = connections[shape.alias]
    if shape.for_update and connection.get_autocommit():
        return list(build(*args))  # the ORM raises TransactionManagementError
    with connection.cursor() as cursor:
        cursor.execute(shape.sql, params)
        found = cursor.fetchall()
    if found and len(found[0]) != shape.width:
        found = [row[: shape.width] for row in found]
    if shape.model is not None:
        make, names = shape.model.from_db, shape.init_list
        return [make(shape.alias, names, row) for row in found]
    return found


def _first(signature: tuple, build: Callable[..., QuerySet], args: Sequence[Any], iterable):
    """The ORM's answer; beside it, the shape, kept if it compiles to the ORM's query."""
    queryset = build(*args)
    answer = list(queryset)
    try:
        fakes, places = _sentinels(args)
    except TypeError:  # a value of another type: the ORM, every time
        shape = None
    else:
        shape = _compile(build(*fakes), places, iterable)
        if shape is not None and not _same_query(shape, queryset, args):
            shape = None
    with _lock:
        if len(_shapes) < MAX_SHAPES:
            _shapes[signature] = shape
    return answer


def _same_query(shape: _Shape, queryset: QuerySet, args: Sequence[Any]) -> bool:
    """Whether the shape, given ``args``, sends what the ORM sends for them."""
    params = shape.params_for(args)
    if params is None:
        return False
    try:
        sql, expected = queryset.query.get_compiler(queryset.db).as_sql()
    except Exception:
        return False
    return sql == shape.sql and [str(p) for p in expected] == [str(p) for p in params]


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is uuid.UUID:
        return isinstance(value, uuid.UUID) or (isinstance(value, str) and is_uuid_text(value))
    return isinstance(value, str)


def is_uuid_text(value: str) -> bool:
    """Whether ``value`` is a uuid in its canonical 36-character text (a rid in a URL)."""
    try:
        return len(value) == 36 and uuid.UUID(value) is not None
    except ValueError:
        return False


def _sentinels(args: Sequence[Any]) -> tuple[list[Any], dict[str, Place]]:
    """A distinct value per argument (and list item) of the argument's own kind, and
    where each one belongs."""
    made: dict[str, Place] = {}
    counter = iter(range(1_000_000))

    def one(value: Any, arg: int, item: int | None) -> Any:
        n = next(counter)
        if isinstance(value, bool) or not isinstance(value, int | str | uuid.UUID):
            raise TypeError(type(value).__name__)
        if isinstance(value, int):
            fake, kind = _SENTINEL_INT + n, int
        elif isinstance(value, uuid.UUID) or is_uuid_text(value):
            fake, kind = str(uuid.UUID(int=_SENTINEL_UUID + n)), uuid.UUID
        else:
            fake, kind = f"\x01Oms-Prepared-{n}", str  # mixed case: a lower() is seen
        made[str(fake)] = (arg, item, kind)
        return fake

    values = [
        [one(v, i, j) for j, v in enumerate(a)] if isinstance(a, list | tuple) else one(a, i, None)
        for i, a in enumerate(args)
    ]
    return values, made


def _compile(qs: QuerySet, places: dict[str, Place], iterable: type) -> _Shape | None:
    if qs._iterable_class is not iterable or qs._prefetch_related_lookups:
        return None
    if qs._known_related_objects or qs.query.deferred_loading != (frozenset(), True):
        return None
    compiler = qs.query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet and the like: not a query to keep
        return None
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        return None
    model, init_list = None, ()
    if iterable is ModelIterable:
        info = compiler.klass_info
        if not info or info.get("related_klass_infos") or compiler.annotation_col_map:
            return None
        selected = info["select_fields"]
        if selected != list(range(compiler.col_count)):
            return None
        model = info["model"]
        init_list = tuple(f[0].target.attname for f in compiler.select[: compiler.col_count])
    slots = []
    for index, param in enumerate(params):
        place = places.get(str(param))
        if place is not None:
            slots.append((index, *place))
    if len(slots) != len(places) or len({s[1:3] for s in slots}) != len(places):
        return None  # a sentinel transformed, sent twice or not at all: the ORM knows best
    return _Shape(
        qs.db,
        sql,
        tuple(params),
        tuple(slots),
        compiler.col_count,
        model,
        init_list,
        bool(qs.query.select_for_update),
    )


def clear() -> None:
    """Forget every shape (tests)."""
    with _lock:
        _shapes.clear()


def _the_first(build: Callable[..., QuerySet]) -> Callable[..., QuerySet]:
    """``build`` narrowed as ``QuerySet.first()`` narrows: its first row in its order (by
    primary key when it has none)."""

    def one(*values: Any) -> QuerySet:
        qs = build(*values)
        return (qs if qs.ordered else qs.order_by("pk"))[:1]

    return one


def first(key: str, build: Callable[..., QuerySet], *args: Any):
    """``build(*args).first()`` of model instances, compiled once per shape, or ``None``."""
    found = instances(key, _the_first(build), *args)
    return found[0] if found else None


def first_row(key: str, build: Callable[..., QuerySet], *args: Any) -> tuple | None:
    """``build(*args).first()`` of a ``values_list``, compiled once per shape, or ``None``."""
    found = rows(key, _the_first(build), *args)
    return found[0] if found else None
