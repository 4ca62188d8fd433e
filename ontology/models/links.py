"""Link types between object types, or interfaces (docs/documents.md)."""

from __future__ import annotations

from django.db import models

from .. import rules
from ..choices import (
    Cardinality,
    Visibility,
)
from .base import BranchScoped, StatusFields, _raise, unique_per_branch, where_set
from .interfaces import Interface
from .object_types import ObjectType, Property

#: the ends of a link: (object type field, interface field)
ENDS = {"source": "source_interface", "target": "target_interface"}


def _one_end(side: str) -> models.CheckConstraint:
    """Exactly one of the side's object type and interface is set."""
    ot, iface = (
        models.Q(**{f"{side}__isnull": False}),
        models.Q(**{f"{side}_interface__isnull": False}),
    )
    return models.CheckConstraint(
        condition=(ot & ~iface) | (~ot & iface), name=f"linktype_one_{side}"
    )


class LinkType(BranchScoped, StatusFields):
    kind = "linkType"
    api_name_case = rules.ANY_CASE

    api_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    cardinality = models.CharField(max_length=20, choices=Cardinality.choices)
    source = models.ForeignKey(
        ObjectType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outgoing_links",
        help_text="The source object type (or leave empty and choose a source interface).",
    )
    target = models.ForeignKey(
        ObjectType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incoming_links",
        help_text="The target object type (or leave empty and choose a target interface).",
    )
    source_interface = models.ForeignKey(
        Interface,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="outgoing_links",
        help_text="Many-to-many only: every object type implementing it can be the source.",
    )
    target_interface = models.ForeignKey(
        Interface,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="incoming_links",
        help_text="Many-to-many only: every object type implementing it can be the target.",
    )
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
        constraints = [*unique_per_branch("linktype"), _one_end("source"), _one_end("target")]
        indexes = where_set("linktype", "source_interface", "target_interface")

    def __str__(self) -> str:
        return self.api_name

    def end(self, side: str) -> ObjectType | Interface | None:
        """The object type or interface at ``side`` ("source" / "target")."""
        if getattr(self, f"{side}_id"):
            return getattr(self, side)
        return getattr(self, ENDS[side]) if getattr(self, f"{ENDS[side]}_id") else None

    def clean(self) -> None:
        # its name, status, the sides' names (camelCase, two different ones on a
        # self-link) and the foreign key (its presence by cardinality, its owner, its type
        # against the target's primary key) are the rule set's ("api-name", "deprecation",
        # "link-sides", "foreign-key"). The kind of each end is checked here too, with the
        # rule set's own function (rules.check_link_end, rule "link-end"): the row's check
        # constraints would refuse it on save, before the rule set reads the documents.
        errors: dict[str, list[str]] = {}
        for side, iface_field in ENDS.items():
            has_ot = bool(getattr(self, f"{side}_id"))
            has_iface = bool(getattr(self, f"{iface_field}_id"))
            ends = rules.check_link_end(side, has_ot, has_iface, self.cardinality)
            if ends.get("end"):
                errors[side] = ends["end"]
            if ends.get("interface"):
                errors[iface_field] = ends["interface"]
            end = self.end(side)
            if end is not None and end.branch_id != self.branch_id:
                field = iface_field if getattr(self, f"{iface_field}_id") else side
                errors[field] = [f"The {side} {end._meta.verbose_name} belongs to another branch."]
        _raise(errors)
