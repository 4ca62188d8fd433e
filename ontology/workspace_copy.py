"""Set-based copies of a branch's rows (part of the ontology's workspace, see
:mod:`ontology.workspace`).

``copy_rows`` copies a branch's whole working copy in one INSERT ... SELECT per table,
remapping references to the new branch's rows by rid (no Python loop over rows);
``drop_rows`` deletes them in one DELETE per table.
"""

from __future__ import annotations

from django.db import connection, models, transaction

from .models import (
    Interface,
    InterfaceLinkConstraint,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
    StructType,
    ValueType,
)

#: (model, columns whose referenced row is copied later and must be filled afterwards)
_COPY_ORDER: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (ValueType, ()),
    (StructType, ()),
    (StructField, ()),
    (SharedProperty, ()),
    (Interface, ()),
    (ObjectType, ("replaced_by", "primary_key", "title_property")),
    (Property, ()),
    (LinkType, ()),
    (InterfaceLinkConstraint, ()),
]
_SCOPED = {m for m, _ in _COPY_ORDER}


def _copy_table(cursor, params: dict, model: type[models.Model], deferred: tuple[str, ...]) -> None:
    """INSERT ... SELECT the branch's rows, remapping each reference by rid.

    A reference is remapped by a correlated lookup on the unique ``(branch, rid)`` index
    (skipped for NULLs), not by joins: right after a bulk load the tables have no
    statistics, and the planner then nests loops over the joined branches' rows (seconds
    for 40,000 properties) where index lookups cost the same with or without statistics.
    """
    table = model._meta.db_table
    columns, selects = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name == "branch":
            selects.append("%(new)s")
        elif field.is_relation and field.related_model in _SCOPED:
            if field.name in deferred:
                selects.append("NULL")
                continue
            selects.append(_remapped(field, f"src.{field.column}"))
        else:
            selects.append(f"src.{field.column}")
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM {table} src WHERE src.branch_id = %(old)s",
        params,
    )


def _remapped(field, column: str) -> str:
    """SQL for the new branch's id of the row that ``column`` (a source row id) refers to."""
    ref = field.related_model._meta.db_table
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE ("
        f"SELECT n.id FROM {ref} n WHERE n.branch_id = %(new)s AND n.rid = ("
        f"SELECT o.rid FROM {ref} o WHERE o.id = {column})) END"
    )


def _fill_deferred(
    cursor, params: dict, model: type[models.Model], deferred: tuple[str, ...]
) -> None:
    """Fill the ``deferred`` references of the copied rows in one UPDATE (one new version of
    each row that has any, not one per column), remapped by rid like :func:`_copy_table`."""
    table = model._meta.db_table
    sets, any_set = [], []
    for name in deferred:
        field = model._meta.get_field(name)
        sets.append(f"{field.column} = {_remapped(field, f's.{field.column}')}")
        any_set.append(f"s.{field.column} IS NOT NULL")
    cursor.execute(
        f"UPDATE {table} SET {', '.join(sets)} FROM {table} s "
        f"WHERE s.branch_id = %(old)s AND ({' OR '.join(any_set)}) "
        f"AND {table}.branch_id = %(new)s AND {table}.rid = s.rid",
        params,
    )


def _copy_m2m(cursor, params: dict, model: type[models.Model], name: str) -> None:
    field = model._meta.get_field(name)
    through = field.remote_field.through._meta
    own = field.m2m_column_name()
    other = field.m2m_reverse_name()
    own_table = model._meta.db_table
    other_table = field.related_model._meta.db_table
    cursor.execute(
        f"INSERT INTO {through.db_table} ({own}, {other}) "
        f"SELECT n_own.id, n_other.id FROM {through.db_table} t "
        f"JOIN {own_table} s ON s.id = t.{own} "
        f"JOIN {own_table} n_own ON n_own.branch_id = %(new)s AND n_own.rid = s.rid "
        f"JOIN {other_table} o ON o.id = t.{other} "
        f"JOIN {other_table} n_other ON n_other.branch_id = %(new)s AND n_other.rid = o.rid "
        f"WHERE s.branch_id = %(old)s",
        params,
    )


def copy_rows(source, target) -> None:
    """Copy every ontology row of ``source`` onto the empty branch ``target``."""
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"old": source.pk, "new": target.pk}
        for model, deferred in _COPY_ORDER:
            _copy_table(cursor, params, model, deferred)
        for model, deferred in _COPY_ORDER:
            if deferred:
                _fill_deferred(cursor, params, model, deferred)
        _copy_m2m(cursor, params, Interface, "extends")
        _copy_m2m(cursor, params, Interface, "properties")
        _copy_m2m(cursor, params, ObjectType, "interfaces")


def drop_rows(branch) -> None:
    """Delete every ontology row of a branch: one DELETE per table, dependants first."""
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"branch": branch.pk}
        ot = ObjectType._meta.db_table
        cursor.execute(
            f"UPDATE {ot} SET primary_key_id = NULL, title_property_id = NULL, "
            f"replaced_by_id = NULL WHERE branch_id = %(branch)s",
            params,
        )
        for model, name in (
            (Interface, "extends"),
            (Interface, "properties"),
            (ObjectType, "interfaces"),
        ):
            field = model._meta.get_field(name)
            through = field.remote_field.through._meta.db_table
            cursor.execute(
                f"DELETE FROM {through} WHERE {field.m2m_column_name()} IN "
                f"(SELECT id FROM {model._meta.db_table} WHERE branch_id = %(branch)s)",
                params,
            )
        for model, _ in reversed(_COPY_ORDER):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE branch_id = %(branch)s", params
            )
