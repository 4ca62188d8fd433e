"""Shared parts of every ontology row: the branch and ``rid`` every row has, the lifecycle
and typed fields several kinds share, and the per-branch uniqueness helpers."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from versioning.protection import protect, unknown_tokens

from .. import rules
from ..choices import (
    BaseType,
    ItemType,
    Status,
)


def _raise(errors: dict[str, list[str]]) -> None:
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)


class BranchScoped(models.Model):
    """A row of one branch's working copy; ``rid`` is shared by the same entity on every branch."""

    # no index of its own: every table's unique (branch, rid) constraint leads with it
    branch = models.ForeignKey(
        "versioning.Branch", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    rid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: the case rule for api names of this kind (see rules.check_api_name)
    api_name_case = rules.ANY_CASE
    #: the document kind of the top-level entity this row belongs to
    kind = ""

    class Meta:
        abstract = True

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True):
        # the branch a row is written on was read by whoever writes it (a view, a service,
        # the parent of a child): its existence needs no query of its own
        branch = self._state.fields_cache.get("branch")
        if branch is not None and branch.pk is not None and branch.pk == self.branch_id:
            exclude = {*(exclude or ()), "branch"}
        super().full_clean(exclude, validate_unique, validate_constraints)

    def validate_constraints(self, exclude=None):
        # Case-insensitive uniqueness is checked in clean() with a message on api_name;
        # the database constraints stay as the safety net under concurrent writes.
        return None

    def unique_scope(self) -> models.QuerySet | None:
        """Rows whose api names must differ from this one's (case-insensitively)."""
        return type(self)._default_manager.filter(branch_id=self.branch_id)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        api_name = getattr(self, "api_name", None)
        if api_name is not None:
            errors["api_name"] = rules.check_api_name(api_name, self.api_name_case)
            scope = self.unique_scope()
            taken = (
                not errors["api_name"]
                and scope is not None
                and self.branch_id
                and scope.alias(lower_name=Lower("api_name"))
                .filter(lower_name=api_name.lower())
                .exclude(pk=self.pk)
                .exists()
            )
            if taken:
                raise ValidationError(
                    {
                        "api_name": ValidationError(
                            f"The API name '{api_name}' is already used by another "
                            f"{self._meta.verbose_name} on this branch.",
                            code="duplicate",
                        )
                    }
                )
        _raise(errors)


def where_set(prefix: str, *fields: str) -> list[models.Index]:
    """Indexes of nullable references over the rows that have one (``users_of`` and
    ``PROTECT`` look rows up by them; rows without one need no entry)."""
    return [
        models.Index(
            fields=[f], name=f"{prefix}_{f}_set", condition=models.Q(**{f"{f}__isnull": False})
        )
        for f in fields
    ]


def unique_per_branch(model_name: str) -> list[models.UniqueConstraint]:
    return [
        models.UniqueConstraint(fields=["branch", "rid"], name=f"uniq_{model_name}_rid"),
        models.UniqueConstraint("branch", Lower("api_name"), name=f"uniq_{model_name}_api_name"),
    ]


class StatusFields(models.Model):
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    deprecation_message = models.TextField(blank=True)
    deprecation_deadline = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    def status_errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if self.status == Status.DEPRECATED:
            if not self.deprecation_message.strip():
                errors["deprecation_message"] = ["A deprecated entity needs a deprecation message."]
            if not self.deprecation_deadline:
                errors["deprecation_deadline"] = ["A deprecated entity needs a deadline."]
        return errors


def value_type_errors(row) -> dict[str, list[str]]:
    """A typed row's value type (property, shared property, struct field): on its branch,
    and of the row's own type."""
    if not row.value_type_id:
        return {}
    vt = row.value_type
    if vt.branch_id != row.branch_id:
        return {"value_type": ["The value type belongs to another branch."]}
    if (vt.base_type, vt.item_type or "") != (row.base_type, row.item_type or ""):
        return {
            "value_type": [
                f"The value type '{vt.api_name}' is of type {vt.type_label}, "
                f"but this is {row.type_label}."
            ]
        }
    return {}


def stored_examples(examples: list[str] | None, pii: bool) -> list[str]:
    """Example values as a row stores them: a PII row's as tokens of protected values."""
    return protect(examples) if pii and examples else list(examples or [])


class ExampleFields(models.Model):
    """Example values (documentation) of a property or shared property. Those of a row
    flagged PII are stored as tokens of protected values (:mod:`versioning.protection`):
    the clear text is kept encrypted, never in this table, a document or an event."""

    examples = models.JSONField(
        default=list,
        blank=True,
        help_text='Documentation values, e.g. ["ada@example.org"]; encrypted when PII.',
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.examples = stored_examples(self.examples, self.pii)
        super().save(*args, **kwargs)

    def example_errors(self) -> dict[str, list[str]]:
        errors = rules.check_examples(self.examples)
        if not errors:
            errors = [f"{tok} names no protected value." for tok in unknown_tokens(self.examples)]
        return {"examples": errors} if errors else {}


class TypedFields(models.Model):
    """A base type, the item type of an array and the struct type of a struct."""

    base_type = models.CharField(max_length=20, choices=BaseType.choices)
    item_type = models.CharField(max_length=20, choices=ItemType.choices, blank=True)
    # indexed only where set (partial indexes in the concrete models' Meta, see
    # typed_indexes): most rows have neither, and a branch copy writes every row
    value_type = models.ForeignKey(
        "ontology.ValueType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    struct_type = models.ForeignKey(
        "ontology.StructType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True

    @property
    def type_label(self) -> str:
        if self.base_type == BaseType.ARRAY:
            return f"array<{self.item_type}>"
        return self.base_type

    def type_errors(self) -> dict[str, list[str]]:
        errors = rules.check_type_shape(
            self.base_type, self.item_type or None, bool(self.struct_type_id)
        )
        errors.update(value_type_errors(self))
        if self.struct_type_id and self.struct_type.branch_id != self.branch_id:
            errors.setdefault("struct_type", []).append(
                "The struct type belongs to another branch."
            )
        return errors
