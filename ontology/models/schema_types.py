"""Value (semantic) types, struct types with their fields, and shared properties."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from .. import rules
from ..choices import (
    BaseType,
    ItemType,
    StructFieldItemType,
    StructFieldType,
)
from .base import (
    BranchScoped,
    ExampleFields,
    StatusFields,
    TypedFields,
    _raise,
    other_branch_errors,
    unique_per_branch,
    where_set,
)


class ValueType(BranchScoped, StatusFields):
    """A semantic type: a base type narrowed by constraints."""

    kind = "valueType"
    api_name_case = rules.PASCAL

    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    base_type = models.CharField(
        max_length=20, choices=[c for c in BaseType.choices if c[0] != BaseType.STRUCT]
    )
    item_type = models.CharField(max_length=20, choices=ItemType.choices, blank=True)
    constraints = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'JSON object, e.g. {"enum": {"values": ["A", "B"], "caseInsensitive": true}}, '
            '{"range": {"min": 0, "max": 10}}, {"length": {"max": 80}}, '
            '{"regex": {"pattern": "^[A-Z]{3}$"}}, {"format": "uuid"}, '
            '{"arraySize": {"max": 5}, "uniqueItems": true, "items": {...}}.'
        ),
    )

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("valuetype")

    def __str__(self) -> str:
        return self.api_name

    @property
    def type_label(self) -> str:
        return f"array<{self.item_type}>" if self.base_type == BaseType.ARRAY else self.base_type


class StructType(BranchScoped, StatusFields):
    kind = "structType"
    api_name_case = rules.PASCAL

    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("structtype")

    def __str__(self) -> str:
        return self.api_name


class StructField(BranchScoped):
    kind = "structType"
    api_name_case = rules.CAMEL

    struct_type = models.ForeignKey(StructType, on_delete=models.CASCADE, related_name="fields")
    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    base_type = models.CharField(max_length=20, choices=StructFieldType.choices)
    item_type = models.CharField(max_length=20, choices=StructFieldItemType.choices, blank=True)
    value_type = models.ForeignKey(
        ValueType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["struct_type_id", "position", "api_name"]
        indexes = where_set("structfield", "value_type")
        constraints = [
            models.UniqueConstraint(fields=["branch", "rid"], name="uniq_structfield_rid"),
            models.UniqueConstraint(
                "struct_type", Lower("api_name"), name="uniq_structfield_api_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.struct_type_id and self.struct_type.api_name}.{self.api_name}"

    @property
    def type_label(self) -> str:
        return f"array<{self.item_type}>" if self.base_type == BaseType.ARRAY else self.base_type

    def clean(self) -> None:
        # its name, type shape and value type match are the rule set's (on the struct
        # type's document)
        _raise(other_branch_errors(self, "value_type"))


class SharedProperty(BranchScoped, StatusFields, TypedFields, ExampleFields):
    """A property definition reused by several object types and interfaces."""

    kind = "sharedProperty"
    api_name_case = rules.CAMEL

    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    pii = models.BooleanField("PII", default=False)

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("sharedproperty")
        indexes = where_set("sharedprop", "value_type", "struct_type")
        verbose_name_plural = "shared properties"

    def __str__(self) -> str:
        return self.api_name

    def clean(self) -> None:
        # its name, status, type shape and value type match are the rule set's
        errors = self.other_branch_errors()
        errors.update(self.example_errors())
        _raise(errors)
