"""Interfaces and the link constraints they declare."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from .. import rules
from ..choices import (
    ConstraintCardinality,
)
from .base import BranchScoped, StatusFields, unique_per_branch
from .schema_types import SharedProperty


class Interface(BranchScoped, StatusFields):
    kind = "interface"
    api_name_case = rules.PASCAL

    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=60, blank=True)
    extends = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="extended_by"
    )
    properties = models.ManyToManyField(SharedProperty, blank=True, related_name="interfaces")

    class Meta:
        ordering = ["api_name"]
        constraints = unique_per_branch("interface")

    def __str__(self) -> str:
        return self.api_name


class InterfaceLinkConstraint(BranchScoped):
    """A link an implementing object type must (or may) have."""

    kind = "interface"
    api_name_case = rules.CAMEL

    interface = models.ForeignKey(
        Interface, on_delete=models.CASCADE, related_name="link_constraints"
    )
    api_name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    target_object_type = models.ForeignKey(
        "ontology.ObjectType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_interface = models.ForeignKey(
        Interface, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cardinality = models.CharField(
        max_length=10, choices=ConstraintCardinality.choices, default=ConstraintCardinality.MANY
    )
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["interface_id", "api_name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "rid"], name="uniq_ifacelink_rid"),
            models.UniqueConstraint("interface", Lower("api_name"), name="uniq_ifacelink_api_name"),
        ]

    def __str__(self) -> str:
        return f"{self.interface.api_name}.{self.api_name}"
