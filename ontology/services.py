"""Every write to the ontology goes through these functions.

Each runs in one transaction: check who may write (``check_write``: the branch is
editable, and an acting user has the model permission and the right to edit the branch),
check the row (``full_clean``: its fields and its row-local rules), write the rows, run
the rule set over the documents written (at once, or when the ``change_set`` closes),
mark the top-level entity in the branch's working changes, and publish the change event
through the outbox. Admin, API, management commands and tasks all call these.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

import events
from versioning.changes import mark_changed_many
from versioning.models import Branch
from versioning.permissions import EDIT_BRANCH, can_edit_branch, has_branch_perm
from versioning.writing import check_writable

from .documents import Document, stored_document, with_own_fields
from .exceptions import InUseError, NotAllowedError, OntologyError, ProtectedBranchError
from .kinds import REFERENCES_TO, event_type, kind_of
from .models import (
    Interface,
    InterfaceLinkConstraint,
    ObjectType,
    Property,
    SharedProperty,
    StructField,
    StructType,
)
from .rule_set.rows import RuleViolation, ensure_valid
from .rule_set.rows import as_validation_error as rule_violation_error
from .rules import check_primary_key_type, check_struct_field_count
from .services_errors import by_place, prefixed, write_row

UNSET: Any = object()


# --- who may write (the API, the admin and the services ask the same question) ----------


def model_perm(model: type[models.Model] | models.Model, action: str) -> str:
    """``"ontology.change_objecttype"`` for ``(ObjectType, "change")``."""
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def write_refusal(user, branch: Branch, perm: str) -> NotAllowedError | None:
    """Why ``user`` may not write with ``perm`` on ``branch``, or ``None`` when they may.

    The one rule for writing ontology rows: the ontology model permission of the change
    (``ontology.add_objecttype``, ``change_...``, ``delete_...``) **and** the right to edit
    the branch (``versioning.edit_branch`` model-wide, or granted on the branch)."""
    if user is None or not user.is_active:
        return NotAllowedError(f"You need the '{perm}' permission.", permission=perm)
    may_edit = can_edit_branch(user, branch)  # first: reads the branch's grants with the rest
    if not has_branch_perm(user, perm):
        return NotAllowedError(f"You need the '{perm}' permission.", permission=perm)
    if not may_edit:
        return NotAllowedError(
            f"You need the '{EDIT_BRANCH}' permission on branch '{branch.name}'.",
            permission=EDIT_BRANCH,
        )
    return None


def check_write(user, branch: Branch, perm: str, *, system: bool = False) -> None:
    """Refuse a write to a protected or archived branch (unless ``system``) and, when the
    change has an acting ``user``, a user the rule above refuses (403).

    ``user=None`` is an internal write (loaders, tests building state): no user to check.
    """
    check_writable(branch, system=system)
    if user is None or system:
        return
    refusal = write_refusal(user, branch, perm)
    if refusal is not None:
        raise refusal


def _action_perm(top: models.Model, row: models.Model, action: str) -> str:
    """The permission a write of ``row`` needs: a child's write changes its top-level
    entity; creating or deleting a top-level entity needs add / delete of its model."""
    if top is not row:
        return model_perm(top, "change")
    if action == "save":
        return model_perm(top, "add" if row.pk is None else "change")
    return model_perm(top, "delete")


def top_level(row: models.Model) -> models.Model:
    """The top-level entity a row belongs to (a property's object type, ...)."""
    kind = kind_of(row)
    return getattr(row, kind.parent_field) if kind.parent else row


def _changed_fields(before: Document | None, after: Document | None) -> tuple[dict, dict]:
    if before is None or after is None:
        return before or {}, after or {}
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


# (branch pk, rid) -> [branch, kind, rid, first before, latest after, user]
_pending: contextvars.ContextVar[dict | None] = contextvars.ContextVar("oms_changes", default=None)


@contextlib.contextmanager
def change_set(*, checked: bool = False) -> Iterator[None]:
    """Group the writes of one steward action: one transaction, one event per entity.

    Inside it, saving an object type and then each of its properties publishes a single
    event for the object type, from its state before the first write to its state after
    the last. Nested change sets join the outer one. At the end the rule set runs once
    over every change and its neighbourhood (``checked``: the caller has just run it over
    the whole resulting tree in this transaction, as a bundle import does), then the
    changes are marked and their events written in bulk.
    """
    if _pending.get() is not None:
        yield
        return
    token = _pending.set({})
    try:
        with transaction.atomic():
            yield
            pending = _pending.get()
            _pending.set(None)
            by_branch: dict[int, list] = {}
            for item in pending.values():
                by_branch.setdefault(item[0].pk, []).append(item)
            for items in by_branch.values():
                if not checked:
                    _ensure_rules(items[0][0], {i[2]: (i[3], i[4]) for i in items})
                _publish_changes(items[0][0], items)
    finally:
        _pending.reset(token)


def record_change(
    branch: Branch, kind: str, rid, before: Document | None, after: Document | None, user=None
) -> None:
    """Mark the entity changed on its branch and publish the change event (same transaction)."""
    pending = _pending.get()
    if pending is not None:
        key = (branch.pk, str(rid))
        if key in pending:
            pending[key][4] = after
        else:
            pending[key] = [branch, kind, rid, before, after, user]
        return
    _ensure_rules(branch, {rid: (before, after)})
    _publish_changes(branch, [(branch, kind, rid, before, after, user)])


def record_written(
    branch: Branch,
    top: models.Model,
    before: Document | None,
    user=None,
    *,
    after: Document | None = None,
) -> None:
    """:func:`record_change` of a top-level row just written, from its document as stored
    now (``after``: the caller made it without reading the rows again); the document is
    kept on the row (``written_document``) so that the answer to the write is made from
    it, not read again."""
    if after is None:
        after = stored_document(top)
    top.written_document = after
    record_change(branch, top.kind, top.rid, before, after, user)


def _ensure_rules(branch: Branch, changes: dict[Any, tuple[Document | None, Document | None]]):
    """The rule set (:mod:`ontology.rule_set`) over the written entities and their
    neighbourhood, read from the branch's rows: a violation undoes the write (400 naming
    the rule and the document path)."""
    after = {str(rid): pair[1] for rid, pair in changes.items() if pair[0] != pair[1]}
    if not after:
        return
    before = {str(rid): pair[0] for rid, pair in changes.items()}
    try:
        ensure_valid(branch.pk, after, before)
    except RuleViolation as exc:
        raise rule_violation_error(exc, next(iter(after)) if len(after) == 1 else None) from None


def _publish_changes(branch: Branch, items: list) -> None:
    """Mark the entities of ``items`` (``(branch, kind, rid, before, after, user)``) that
    changed and write their change events, in bulk: one upsert, one insert per batch."""
    changed = [i for i in items if i[3] != i[4]]
    if changed:
        mark_changed_many(branch.pk, [(i[2], i[1]) for i in changed])
        events.publish_many(_change_event(*i) for i in changed)


def _change_event(
    branch: Branch, kind: str, rid, before: Document | None, after: Document | None, user
) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """The change event of an entity: ``(type, subject, data, {branch})``."""
    action = "created" if before is None else "deleted" if after is None else "updated"
    old, new = _changed_fields(before, after)
    doc = after or before
    data = {
        "branch": branch.name,
        "kind": kind,
        "rid": str(rid),
        "apiName": doc["apiName"],
        "actor": getattr(user, "username", None) or None,
        "before": old if before is not None else None,
        "after": new if after is not None else None,
    }
    return (
        event_type(kind, action),
        f"branches/{branch.name}/{kind}/{rid}",
        data,
        {"branch": branch.name},
    )


# --- generic single-row writes ---------------------------------------------------------


@transaction.atomic
def save(row: models.Model, *, user=None, system: bool = False) -> list[str]:
    """Validate and save one row (top-level or child); returns rule warnings."""
    top = top_level(row)
    check_write(user, row.branch, _action_perm(top, row, "save"), system=system)
    before = stored_document(top)
    row.full_clean()
    if isinstance(row, StructField) and row.pk is None:
        count_errors = check_struct_field_count(top.fields.count() + 1)
        if count_errors:
            raise ValidationError({"struct_type": count_errors})
    write_row(row)
    if top is not row:
        top.refresh_from_db()
        top.full_clean()
    record_written(row.branch, top, before, user)
    return warnings_for(top)


def users_of(row: models.Model) -> list[str]:
    """Human-readable names of what still uses this row (deleting it would break them):
    the holders of every reference into its kind (:data:`ontology.kinds.REFERENCES_TO`)."""
    users: list[str] = []
    for ref in REFERENCES_TO[kind_of(row).name]:
        if not ref.blocks_delete:
            continue
        qs = ref.holder._default_manager.filter(**{ref.field: row})
        parent = kind_of(ref.holder).parent_field
        if parent:
            qs = qs.select_related(parent)
        for obj in qs:
            label = f"{ref.label} '{obj}'"
            if label not in users:
                users.append(label)
    return users


@transaction.atomic
def delete(row: models.Model, *, user=None, system: bool = False) -> None:
    """Delete a row, refusing with the names of its users if anything still uses it."""
    top = top_level(row)
    check_write(user, row.branch, _action_perm(top, row, "delete"), system=system)
    users = users_of(row)
    if users:
        shown = ", ".join(users[:10]) + (f" and {len(users) - 10} more" if len(users) > 10 else "")
        raise InUseError(f"'{row}' is still used by {shown}.")
    before = stored_document(top)
    if top is row:
        if isinstance(row, ObjectType):
            # properties go with their object type; nothing outside uses them (checked above)
            ObjectType.objects.filter(pk=row.pk).update(primary_key=None, title_property=None)
        row.delete()
        record_change(row.branch, top.kind, top.rid, before, None, user)
        return
    if isinstance(row, StructField) and top.fields.count() <= 1:
        raise ValidationError({"fields": check_struct_field_count(0)})
    row.delete()
    top.refresh_from_db()
    record_written(row.branch, top, before, user)


def warnings_for(top: models.Model) -> list[str]:
    """Rule warnings (not errors) of a top-level row just written: a primary key of a type
    that makes a poor key (``rules.check_primary_key_type``; its errors are the rule
    set's), read from the document :func:`record_written` kept, which names the key among
    the object type's own properties."""
    doc = getattr(top, "written_document", None) or {}
    key = (doc.get("properties") or {}).get(doc.get("primaryKey") or "")
    if doc.get("kind") != "objectType" or key is None:
        return []
    return check_primary_key_type(key.get("baseType"), key.get("itemType"))[1]


# --- whole entities with their children (API and loaders) -------------------------------


def _assign(row: models.Model, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def _sync_children(
    parent: models.Model,
    model: type[models.Model],
    fk_name: str,
    items: list[dict[str, Any]],
    prefix: str,
) -> list[models.Model]:
    """Make the parent's children exactly ``items`` (matched by rid, else by api name)."""
    existing = list(model._default_manager.filter(**{fk_name: parent}))
    for child in existing:
        child.branch = parent.branch  # the same row: read once, not once per child
    by_rid = {str(c.rid): c for c in existing}
    by_name = {c.api_name.lower(): c for c in existing}
    kept: list[models.Model] = []
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(items):
        values = dict(raw)
        rid = values.pop("rid", None)
        name = str(values.get("api_name", "")).lower()
        if name in seen_names:
            raise ValidationError(
                {
                    f"{prefix}.{index}.api_name": [
                        f"'{values['api_name']}' is listed twice "
                        f"(also at {prefix}.{seen_names[name]})."
                    ]
                }
            )
        seen_names[name] = index
        child = by_rid.get(str(rid)) if rid else by_name.get(name)
        if child is None:
            child = model(branch=parent.branch, **{fk_name: parent})
            if rid:
                child.rid = rid
        _assign(child, values)
        kept.append(child)
    kept_ids = {c.pk for c in kept if c.pk}
    for gone in existing:
        if gone.pk not in kept_ids:
            users = users_of(gone)
            if users:
                raise InUseError(
                    f"'{gone}' cannot be removed: still used by {', '.join(users)}.", field=prefix
                )
            gone.delete()
    for index, child in enumerate(kept):
        try:
            child.full_clean(exclude=[fk_name])
            write_row(child)
        except ValidationError as exc:
            raise prefixed(exc, f"{prefix}.{index}") from None
    return kept


def _choose_keys(ot: ObjectType, synced: bool, primary_key: Any, title_property: Any) -> None:
    """Set the primary key and title property chosen by api name (``UNSET``: keep). After
    a sync of the properties a key whose property was removed is cleared (the database
    already nulled it); the properties are read only when that or a choice needs them."""
    chosen_keys = [
        (field, chosen)
        for field, chosen in (("primary_key", primary_key), ("title_property", title_property))
        if chosen is not UNSET
    ]
    if not synced and not chosen_keys:
        return
    # read afresh: a caller's instance may carry properties prefetched before the sync
    by_name = {p.api_name.lower(): p for p in Property.objects.filter(object_type=ot)}
    remaining = {p.pk for p in by_name.values()}
    for field in ("primary_key", "title_property"):
        if getattr(ot, f"{field}_id") not in remaining:
            setattr(ot, field, None)
    for field, chosen in chosen_keys:
        if chosen in (None, ""):
            setattr(ot, field, None)
            continue
        prop = by_name.get(str(chosen).lower())
        if prop is None:
            raise ValidationError({field: [f"This object type has no property '{chosen}'."]})
        setattr(ot, field, prop)


@transaction.atomic
def save_object_type(
    branch: Branch,
    values: dict[str, Any],
    *,
    instance: ObjectType | None = None,
    properties: list[dict[str, Any]] | None = None,
    primary_key: str | None = UNSET,
    title_property: str | None = UNSET,
    interfaces: list[Interface] | None = None,
    user=None,
    system: bool = False,
) -> tuple[ObjectType, list[str]]:
    """Create or update an object type with its properties, keys and interfaces.

    ``primary_key`` and ``title_property`` name properties by api name.
    """
    ot = instance or ObjectType(branch=branch)
    kept = None
    if ot.branch_id == branch.pk:
        ot.branch = branch  # the caller read it: validating the row needs no query for it
    check_write(user, branch, _action_perm(ot, ot, "save"), system=system)
    before = stored_document(ot)
    _assign(ot, values)
    # the keys are chosen below, among the properties once they are final
    ot.full_clean(exclude=["primary_key", "title_property"])
    write_row(ot)
    if properties is not None:
        if ot.status == "EXPERIMENTAL":
            for item in properties:
                item.setdefault("status", "EXPERIMENTAL")
        kept = _sync_children(ot, Property, "object_type", properties, "properties")
    keys_before = (ot.primary_key_id, ot.title_property_id)
    _choose_keys(ot, properties is not None, primary_key, title_property)
    if interfaces is not None:
        ot.interfaces.set(interfaces)
    if (ot.primary_key_id, ot.title_property_id) != keys_before:
        ot.save(update_fields=["primary_key", "title_property", "updated_at"])
    # the keys' types, the interfaces' shared properties, an experimental object type's
    # properties: the rule set's, over the document as written
    own_fields_only = (
        before is not None
        and properties is None
        and interfaces is None
        and (ot.primary_key_id, ot.title_property_id) == keys_before
    )
    after = with_own_fields(ot, before) if own_fields_only else None
    with by_place({"properties": kept, "interfaces": interfaces}):
        record_written(branch, ot, before, user, after=after)
    return ot, warnings_for(ot)


@transaction.atomic
def save_struct_type(
    branch: Branch,
    values: dict[str, Any],
    *,
    instance: StructType | None = None,
    fields: list[dict[str, Any]] | None = None,
    user=None,
    system: bool = False,
) -> StructType:
    st = instance or StructType(branch=branch)
    kept = None
    check_write(user, branch, _action_perm(st, st, "save"), system=system)
    before = stored_document(st)
    if st.pk is None and fields is None:
        raise ValidationError({"fields": check_struct_field_count(0)})
    _assign(st, values)
    st.full_clean()
    write_row(st)
    if fields is not None:
        count_errors = check_struct_field_count(len(fields))
        if count_errors:
            raise ValidationError({"fields": count_errors})
        for position, item in enumerate(fields):
            item.setdefault("position", position)
        kept = _sync_children(st, StructField, "struct_type", fields, "fields")
    with by_place({"fields": kept}):
        record_written(branch, st, before, user)
    return st


@transaction.atomic
def save_interface(
    branch: Branch,
    values: dict[str, Any],
    *,
    instance: Interface | None = None,
    extends: list[Interface] | None = None,
    properties: list[SharedProperty] | None = None,
    link_constraints: list[dict[str, Any]] | None = None,
    user=None,
    system: bool = False,
) -> Interface:
    iface = instance or Interface(branch=branch)
    kept = None
    check_write(user, branch, _action_perm(iface, iface, "save"), system=system)
    before = stored_document(iface)
    _assign(iface, values)
    iface.full_clean()
    write_row(iface)
    if extends is not None:
        iface.extends.set(extends)
    if properties is not None:
        iface.properties.set(properties)
    if link_constraints is not None:
        kept = _sync_children(
            iface, InterfaceLinkConstraint, "interface", link_constraints, "link_constraints"
        )
    with by_place({"linkConstraints": kept, "extends": extends, "properties": properties}):
        record_written(branch, iface, before, user)
    return iface


__all__ = [
    "InUseError",
    "NotAllowedError",
    "OntologyError",
    "ProtectedBranchError",
    "delete",
    "record_change",
    "save",
    "save_interface",
    "save_object_type",
    "save_struct_type",
    "change_set",
    "check_write",
    "model_perm",
    "users_of",
    "write_refusal",
]
