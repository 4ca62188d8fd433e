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
        # the sides' names (camelCase, two different ones on a self-link) and the foreign
        # key (its presence by cardinality, its owner, its type against the target's
        # primary key) are the rule set's ("api-name", "link-sides", "foreign-key")
        errors = self.status_errors()
        for side in ("source", "target"):
            obj = getattr(self, side) if getattr(self, f"{side}_id") else None
            if obj is not None and obj.branch_id != self.branch_id:
                errors[side] = [f"The {side} object type belongs to another branch."]
        _raise(errors)
