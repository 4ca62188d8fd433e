"""Link types between object types."""

from __future__ import annotations

from django.db import models

from .. import rules
from ..choices import (
    Cardinality,
    Visibility,
)
from .base import BranchScoped, StatusFields, _raise, unique_per_branch
from .object_types import ObjectType, Property


class LinkType(BranchScoped, StatusFields):
    kind = "linkType"
    api_name_case = rules.ANY_CASE

    api_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    cardinality = models.CharField(max_length=20, choices=Cardinality.choices)
    source = models.ForeignKey(ObjectType, on_delete=models.PROTECT, related_name="outgoing_links")
    target = models.ForeignKey(ObjectType, on_delete=models.PROTECT, related_name="incoming_links")
    source_api_name = models.CharField(
        max_length=100, help_text="Name of the link as seen from the source (camelCase)."
    )
    source_display_name = models.CharField(max_length=200)
    source_visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.NORMAL
    )
    target_api_name = models.CharField(
        max_length=100, help_text="Name of the link as seen from the target (camelCase)."
    )
    target_display_name = models.CharField(max_length=200)
    target_visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.NORMAL
    )
    foreign_key_property = models.ForeignKey(
        Property,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="foreign_key_of",
        help_text="For 1:1 and 1:N: the source property holding the target's primary key.",
    )

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("linktype")

    def __str__(self) -> str:
        return self.api_name

    def clean(self) -> None:
        super().clean()
        errors = self.status_errors()
        errors["source_api_name"] = rules.check_api_name(self.source_api_name, rules.CAMEL)
        errors["target_api_name"] = rules.check_api_name(self.target_api_name, rules.CAMEL)
        if (
            not errors["source_api_name"]
            and not errors["target_api_name"]
            and self.source_id == self.target_id
            and self.source_api_name.lower() == self.target_api_name.lower()
        ):
            errors["target_api_name"] = ["A self-link needs different names for its two sides."]
        for side in ("source", "target"):
            obj = getattr(self, side) if getattr(self, f"{side}_id") else None
            if obj is not None and obj.branch_id != self.branch_id:
                errors[side] = [f"The {side} object type belongs to another branch."]
        fk = self.foreign_key_property if self.foreign_key_property_id else None
        if self.cardinality == Cardinality.MANY_TO_MANY:
            if fk is not None:
                errors["foreign_key_property"] = [
                    "A many-to-many link has no foreign-key property."
                ]
        elif self.cardinality and self.source_id and self.target_id:
            if fk is None:
                errors["foreign_key_property"] = [
                    "A one-to-one or one-to-many link names the source property that holds "
                    "the target's primary key."
                ]
            elif fk.object_type_id != self.source_id:
                errors["foreign_key_property"] = [
                    f"The foreign-key property must belong to the source object type "
                    f"'{self.source.api_name}'."
                ]
            else:
                target_pk = self.target.primary_key
                if target_pk is None:
                    errors["foreign_key_property"] = [
                        f"The target '{self.target.api_name}' has no primary key to refer to."
                    ]
                elif (fk.base_type, fk.item_type) != (target_pk.base_type, target_pk.item_type):
                    errors["foreign_key_property"] = [
                        f"The foreign key '{fk.api_name}' is {fk.type_label} but the target's "
                        f"primary key '{target_pk.api_name}' is {target_pk.type_label}."
                    ]
        _raise(errors)
