"""Object types and their properties."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from .. import rules
from ..choices import (
    Visibility,
)
from .base import (
    BranchScoped,
    ExampleFields,
    StatusFields,
    TypedFields,
    _raise,
    unique_per_branch,
    where_set,
)
from .interfaces import Interface
from .schema_types import SharedProperty


class ObjectType(BranchScoped, StatusFields):
    kind = "objectType"
    api_name_case = rules.PASCAL

    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    plural_display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.NORMAL
    )
    icon = models.CharField(max_length=60, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    primary_key = models.ForeignKey(
        "ontology.Property", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title_property = models.ForeignKey(
        "ontology.Property", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    interfaces = models.ManyToManyField(Interface, blank=True, related_name="implemented_by")

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("objecttype")

    def __str__(self) -> str:
        return self.api_name

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        # the keys as stored: keys left as they were need no ownership check (see clean)
        stored = row.__dict__
        row._stored_keys = (stored.get("primary_key_id"), stored.get("title_property_id"))
        return row

    def _read_keys(self) -> None:
        """Read the primary key and title property not loaded yet in one query."""
        cache = self._state.fields_cache
        wanted = {
            field: pk
            for field, pk in (
                ("primary_key", self.primary_key_id),
                ("title_property", self.title_property_id),
            )
            if pk and getattr(cache.get(field), "pk", None) != pk
        }
        if len(wanted) < 2:
            return  # one (or none) to read: the descriptor reads it as well
        found = Property._default_manager.in_bulk(set(wanted.values()))
        for field, pk in wanted.items():
            if pk in found:
                setattr(self, field, found[pk])

    def clean(self) -> None:
        # the replacement's rules, the keys' types, the status of an experimental object
        # type's properties and the interfaces' requirements are the rule set's. A row's
        # own: its replacement lies on the same branch, and its keys are its own
        # properties (its document names a key among its properties only: another's would
        # read as no key at all)
        errors: dict[str, list[str]] = {}
        if self.replaced_by_id and self.replaced_by.branch_id != self.branch_id:
            errors["replaced_by"] = ["The replacement belongs to another branch."]
        keys = (self.primary_key_id, self.title_property_id)
        if keys != getattr(self, "_stored_keys", None):  # as stored: checked when set
            self._read_keys()
            for field in ("primary_key", "title_property"):
                if getattr(self, f"{field}_id") and getattr(self, field).object_type_id != self.pk:
                    label = self._meta.get_field(field).verbose_name
                    errors[field] = [f"The {label} must be a property of this object type."]
        _raise(errors)


class Property(BranchScoped, StatusFields, TypedFields, ExampleFields):
    kind = "objectType"
    api_name_case = rules.CAMEL

    # no index of its own: uniq_property_api_name (object_type, lower(api_name)) leads with it
    object_type = models.ForeignKey(
        ObjectType, on_delete=models.CASCADE, related_name="properties", db_index=False
    )
    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    shared_property = models.ForeignKey(
        SharedProperty,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usages",
        db_index=False,
    )
    required = models.BooleanField(default=False)
    pii = models.BooleanField("PII", default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["object_type_id", "position", "api_name"]
        verbose_name_plural = "properties"
        constraints = [
            models.UniqueConstraint(fields=["branch", "rid"], name="uniq_property_rid"),
            models.UniqueConstraint(
                "object_type", Lower("api_name"), name="uniq_property_api_name"
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "object_type"]),
            *where_set("prop", "value_type", "struct_type", "shared_property"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.object_type.api_name}.{self.api_name}" if self.object_type_id else self.api_name
        )

    def clean(self) -> None:
        # its name, status, type shape, value type and shared property matches and its
        # object type's status are the rule set's (on the object type's document)
        errors = self.other_branch_errors()
        errors.update(self.example_errors())
        _raise(errors)
