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
        # Not Django's copies of the database constraints (a query each): a taken api name
        # is refused by its unique index as the row is written (reported on api_name by
        # ontology.services_errors.write_row), a link end's kind by LinkType.clean
        # (rules.check_link_end, the rule set's own function).
        return None


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


def other_branch_errors(row, *fields: str) -> dict[str, list[str]]:
    """References of ``row`` (``fields``) to a row of another branch: documents name rids,
    which every branch shares, so only the row can say it (docs/documents.md)."""
    errors: dict[str, list[str]] = {}
    for field in fields:
        if getattr(row, f"{field}_id"):
            other = getattr(row, field)
            if other.branch_id != row.branch_id:
                errors[field] = [f"The {other._meta.verbose_name} belongs to another branch."]
    return errors


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
        """Checked on the row as well as by the rule set (``examples``, the same function):
        saving the row turns a PII row's examples into tokens, which needs a list of
        texts, before the rule set reads the document; and only the rows know whether a
        token names a stored value."""
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

    def other_branch_errors(self) -> dict[str, list[str]]:
        return other_branch_errors(self, "value_type", "struct_type")
