"""Bulk statements over one model's rows from plain values (part of the workspace's write,
:mod:`ontology.workspace_write`): rows are read as values and written from values, one
statement per batch, without a model instance per row (an import writes 40,000
properties; building, preparing and re-reading model instances cost more than the
statements themselves).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

#: rows per INSERT or UPDATE statement
BATCH = 500
#: new rows of one model from which PostgreSQL is sent them by COPY
COPY_AT = 1000


class Row:
    """A row read as plain values (``values()``): attribute access like a model instance,
    without building one per row (a merge reads thousands of properties)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def rows_by_rid(qs: models.QuerySet) -> dict[str, Row]:
    """``rid -> row`` with every concrete field under its attribute name (``*_id``)."""
    names = [f.attname for f in qs.model._meta.concrete_fields]
    return {str(values["rid"]): Row(values) for values in qs.order_by().values(*names)}


#: Python types a column of each internal type takes as they are (``None`` always): any
#: other value goes through the field's ``get_db_prep_save``, as a model instance's would
_AS_IS = {
    "CharField": (str,),
    "TextField": (str,),
    "BooleanField": (bool,),
    "IntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "SmallIntegerField": (int,),
    "BigIntegerField": (int,),
    "ForeignKey": (int,),
}


@cache
def _columns(model: type[models.Model]) -> tuple[tuple[models.Field, frozenset[type]], ...]:
    """The model's concrete fields but its primary key, each with the value types it
    writes as they are."""
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        kinds = _AS_IS.get(field.get_internal_type(), ())
        if field.get_internal_type() == "UUIDField" and connection.features.has_native_uuid_field:
            kinds = (uuid.UUID,)
        out.append((field, frozenset((*kinds, type(None)))))
    return tuple(out)


def _prepared(field: models.Field, as_is: frozenset[type], value: Any) -> Any:
    return value if type(value) in as_is else field.get_db_prep_save(value, connection)


def _to_param(field: models.Field, as_is: frozenset[type]) -> Callable[[Any], Any]:
    """A column's value as a query parameter, as a model instance's would be."""
    return lambda value: _prepared(field, as_is, value)


#: backslash, newline, carriage return and tab as COPY's text format writes them
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_format(value: Any) -> str:
    """A prepared value as COPY's text format writes it (the column parses it as it
    would an INSERT's literal)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _to_copy_text(field: models.Field, as_is: frozenset[type]) -> Callable[[Any], str]:
    """A column's value in COPY's text format (the usual types without a detour)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: (
            "\\N" if value is None else json.dumps(value, cls=encoder).translate(_COPY_ESCAPES)
        )
    if str in as_is:
        return lambda value: (
            value.translate(_COPY_ESCAPES)
            if type(value) is str
            else _copy_format(_prepared(field, as_is, value))
        )
    if int in as_is:
        return lambda value: (
            str(value) if type(value) is int else _copy_format(_prepared(field, as_is, value))
        )
    return lambda value: _copy_format(_prepared(field, as_is, value))


def _full_rows(
    model: type[models.Model], branch_id: int, items: Mapping[str, dict[str, Any]], now
) -> tuple[list[tuple[str, dict[str, Any]]], set[str]]:
    """``(rid, every column's value by attribute name)`` of each new row: the values
    given, else the field's default; the branch, the rid, and ``now`` as the times. And
    the names of the columns every row has the same value in (the branch and the times)."""
    fixed: dict[str, Any] = {"branch_id": branch_id}
    for field, _ in _columns(model):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fixed[field.attname] = now
    defaulted = [(f.attname, f) for f, _ in _columns(model) if f.attname not in fixed]
    rows = []
    for rid, values in items.items():
        full = {**values, **fixed, "rid": uuid.UUID(rid)}
        for name, field in defaulted:
            if name not in full:
                full[name] = field.get_default()
        rows.append((rid, full))
    return rows, set(fixed)


def _converted(model, rows, same: set[str], converter) -> Iterator[list[Any]]:
    """Each row's column values through ``converter(field, as_is)``, made once per
    column; the columns ``same`` in every row converted once."""
    first = rows[0][1]
    columns: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
    for field, as_is in _columns(model):
        convert, name = converter(field, as_is), field.attname
        if name in same:
            columns.append((name, None, convert(first[name])))
        else:
            columns.append((name, convert, None))
    for _, full in rows:
        yield [once if convert is None else convert(full[name]) for name, convert, once in columns]


def insert_rows(
    model: type[models.Model], branch_id: int, items: Mapping[str, dict[str, Any]], now=None
) -> dict[str, Row]:
    """INSERT one row per ``rid -> field values`` (by attribute name; a field not given
    takes its default, ``created_at``/``updated_at`` the time ``now``). Returns ``rid ->
    row`` with every column's value and the new id.

    One ``INSERT ... RETURNING`` per batch; on PostgreSQL, from ``COPY_AT`` rows, one
    ``COPY`` and one read of the new ids (a bulk import's 40,000 properties: the server
    parses and plans no statement of 11,000 parameters)."""
    if not items:
        return {}
    rows, same = _full_rows(model, branch_id, items, now or timezone.now())
    if connection.vendor == "postgresql" and len(rows) >= COPY_AT:
        ids = _copy(model, branch_id, rows, same)
    else:
        ids = _insert(model, rows, same)
    pk = model._meta.pk.attname
    out: dict[str, Row] = {}
    for rid, full in rows:
        full[pk] = ids[full["rid"]]
        out[rid] = Row(full)
    return out


def _insert(model: type[models.Model], rows: list[tuple[str, dict[str, Any]]], same) -> dict:
    """rid (UUID) -> new id, by one ``INSERT ... RETURNING`` per batch."""
    columns = _columns(model)
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f, _ in columns)}) VALUES "
    )
    returning = f" RETURNING {quote(model._meta.pk.column)}, {quote('rid')}"
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    size = min(BATCH, max(1, connection.ops.bulk_batch_size([f for f, _ in columns], rows)))
    ids = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params = [p for row in _converted(model, chunk, same, _to_param) for p in row]
            cursor.execute(head + ", ".join([placeholder] * len(chunk)) + returning, params)
            ids.update((uuid.UUID(str(rid)), pk) for pk, rid in cursor.fetchall())
    return ids


def _copy(model: type[models.Model], branch_id: int, rows: list[tuple[str, dict]], same):
    """rid (UUID) -> new id, by one ``COPY`` and one read of the ids (PostgreSQL)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    text = "".join("\t".join(row) + "\n" for row in _converted(model, rows, same, _to_copy_text))
    names = ", ".join(quote(f.column) for f, _ in _columns(model))
    with connection.cursor() as cursor:
        with connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", io.StringIO(text))
        cursor.execute(
            f"SELECT {quote(model._meta.pk.column)}, rid FROM {table} "
            "WHERE branch_id = %s AND rid = ANY(%s)",
            [branch_id, [full["rid"] for _, full in rows]],
        )
        return {rid: pk for pk, rid in cursor.fetchall()}


def bulk_upsert(
    model: type[models.Model],
    branch_id: int,
    items: Mapping[str, dict[str, Any]],
    existing: Mapping[str, Any],
) -> dict[str, Any]:
    """Create or update rows of one model from ``rid -> field values``.

    Only rows whose values differ are written, and only the fields that differ: a merge
    that changes one property of an object type rewrites that property, not all twenty.
    ``existing`` rows are :class:`Row` (or model instances); they are updated in place.
    Returns ``existing`` with the rows created.
    """
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed_by_fields: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for rid, values in items.items():
        row = existing.get(rid)
        if row is None:
            new[rid] = values
            continue
        differing = tuple(sorted(n for n, v in values.items() if getattr(row, n) != v))
        if not differing:
            continue
        for name in differing:
            setattr(row, name, values[name])
        row.updated_at = now
        written = {n: values[n] for n in differing}
        written["updated_at"] = now
        changed_by_fields[differing].append((row.id, written))
    renamed = [
        pk for fields, rows in changed_by_fields.items() if "api_name" in fields for pk, _ in rows
    ]
    if renamed:
        park_names(model, renamed)
    out = dict(existing)
    out.update(insert_rows(model, branch_id, new, now))
    for fields, rows in changed_by_fields.items():
        update_rows(model, rows, [*fields, "updated_at"])
    return out


def park_names(model: type[models.Model], ids: list[int]) -> None:
    """Give rows about to be renamed a temporary name of their own (``__renaming_<id>``)
    first. The unique api name index is checked row by row, so rows that swap or rotate
    their names (a rename through a temporary name on another branch, merged, reverted or
    discarded here), or a new row taking a renamed row's old name, would otherwise collide
    midway."""
    temporary = Concat(Value("__renaming_"), Cast("id", models.CharField()))
    for start in range(0, len(ids), BATCH):
        model._default_manager.filter(id__in=ids[start : start + BATCH]).update(api_name=temporary)


def update_rows(
    model: type[models.Model], rows: list[tuple[int, dict[str, Any]]], names: list[str]
) -> None:
    """Set the fields ``names`` of the rows ``(id, values by attribute name)``.

    ``UPDATE t SET f = v.f FROM (VALUES (id, f), ...) v WHERE t.id = v.id``: one statement
    per batch. Django's ``bulk_update`` builds a ``CASE WHEN id = .. THEN ..`` per row and
    field, whose construction and planning cost more than the update itself. (SQLite, the
    embedded default, has no typed ``VALUES`` list: ``bulk_update`` there.)"""
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor != "postgresql":
        instances = [model(pk=pk, **{n: values[n] for n in names}) for pk, values in rows]
        model._default_manager.bulk_update(instances, names, batch_size=200)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    columns = [quote(f.column) for f in (pk, *fields)]
    # the first row's values carry the column types; the others take them from it
    first = ", ".join(f"%s::{f.db_type(connection)}" for f in (pk, *fields))
    rest = ", ".join(["%s"] * len(columns))
    sets = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            params: list[Any] = []
            for row_pk, values in chunk:
                params.append(row_pk)
                params.extend(
                    field.get_db_prep_save(values[name], connection)
                    for name, field in zip(names, fields, strict=True)
                )
            values_sql = ", ".join([f"({first})", *[f"({rest})"] * (len(chunk) - 1)])
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {values_sql}) "
                f"AS v({', '.join(columns)}) WHERE {table}.{columns[0]} = v.{columns[0]}",
                params,
            )
