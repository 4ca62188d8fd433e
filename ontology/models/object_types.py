"""Object types and their properties."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from .. import rules
from ..choices import (
    Status,
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

    def key_errors(self) -> tuple[dict[str, list[str]], list[str]]:
        """(errors, warnings) for the primary key and title property choices."""
        errors: dict[str, list[str]] = {}
        warnings: list[str] = []
        self._read_keys()
        if self.primary_key_id:
            pk = self.primary_key
            if pk.object_type_id != self.pk:
                errors["primary_key"] = ["The primary key must be a property of this object type."]
            else:
                errs, warns = rules.check_primary_key_type(pk.base_type, pk.item_type)
                if errs:
                    errors["primary_key"] = errs
                warnings.extend(warns)
        if self.title_property_id:
            title = self.title_property
            if title.object_type_id != self.pk:
                errors["title_property"] = [
                    "The title property must be a property of this object type."
                ]
            else:
                errors["title_property"] = rules.check_title_type(title.base_type)
        return errors, warnings

    def clean(self) -> None:
        super().clean()
        errors = self.status_errors()
        # a replacement names another, and only a deprecated object type has one: the rule
        # set's ("replacement"); a row's own is that it lies on the same branch
        if self.replaced_by_id and self.replaced_by.branch_id != self.branch_id:
            errors["replaced_by"] = ["The replacement belongs to another branch."]
        if self.pk and not getattr(self, "defer_child_checks", False):
            for field, messages in self.child_errors()[0].items():
                errors.setdefault(field, []).extend(messages)
        _raise(errors)

    def child_errors(self) -> tuple[dict[str, list[str]], list[str]]:
        """(errors, warnings) of the rules that depend on this object type's properties."""
        errors, warnings = self.key_errors()
        errors = {field: messages for field, messages in errors.items() if messages}
        if (
            self.status == Status.EXPERIMENTAL
            and self.properties.filter(status=Status.ACTIVE).exists()
        ):
            errors.setdefault("status", []).append(
                "An experimental object type cannot have active properties; mark them "
                "experimental first."
            )
        return errors, warnings

    def missing_interface_properties(self, interfaces=None) -> dict[str, list[str]]:
        """For each implemented interface, the api names of shared properties not used here."""
        chosen = list(interfaces if interfaces is not None else self.interfaces.all())
        if not chosen:
            return {}
        used = set(
            self.properties.exclude(shared_property=None).values_list(
                "shared_property_id", flat=True
            )
        )
        missing: dict[str, list[str]] = {}
        for interface in chosen:
            required = interface.required_properties()
            lacking = required - used
            if lacking:
                names = SharedProperty.objects.filter(id__in=lacking).order_by("api_name")
                missing[interface.api_name] = list(names.values_list("api_name", flat=True))
        return missing


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

    def unique_scope(self):
        if not self.object_type_id:
            return None
        return Property.objects.filter(object_type_id=self.object_type_id)

    def clean(self) -> None:
        super().clean()
        errors = self.status_errors()
        errors.update(self.type_errors())
        errors.update(self.example_errors())
        if self.object_type_id:
            ot = self.object_type
            if ot.status == Status.EXPERIMENTAL and self.status == Status.ACTIVE:
                errors.setdefault("status", []).append(
                    "A property of an experimental object type cannot be active."
                )
            if self.pk and ot.primary_key_id == self.pk:
                errs, _ = rules.check_primary_key_type(self.base_type, self.item_type)
                if errs:
                    errors.setdefault("base_type", []).extend(
                        [f"This property is the primary key: {e}" for e in errs]
                    )
        if self.shared_property_id:
            sp = self.shared_property
            if (sp.base_type, sp.item_type, sp.struct_type_id) != (
                self.base_type,
                self.item_type,
                self.struct_type_id,
            ):
                errors.setdefault("shared_property", []).append(
                    f"The shared property '{sp.api_name}' is of type {sp.type_label}, "
                    f"but this is {self.type_label}."
                )
        _raise(errors)
