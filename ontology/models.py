"""The ontology vocabulary: every row belongs to a branch and has a stable ``rid``.

Rules live in :mod:`ontology.rules`; ``clean()`` applies them so that admin forms,
services and API serializers all report the same messages on the same fields.
Writes go through :mod:`ontology.services`.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models.functions import Lower

from . import rules
from .choices import (
    BaseType,
    Cardinality,
    ConstraintCardinality,
    ItemType,
    Status,
    StructFieldType,
    Visibility,
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
                and scope.filter(api_name__iexact=api_name).exclude(pk=self.pk).exists()
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
        if self.value_type_id:
            vt = self.value_type
            if vt.branch_id != self.branch_id:
                errors.setdefault("value_type", []).append(
                    "The value type belongs to another branch."
                )
            elif (vt.base_type, vt.item_type or "") != (self.base_type, self.item_type or ""):
                errors.setdefault("value_type", []).append(
                    f"The value type '{vt.api_name}' is of type {vt.type_label}, "
                    f"but this is {self.type_label}."
                )
        if self.struct_type_id and self.struct_type.branch_id != self.branch_id:
            errors.setdefault("struct_type", []).append(
                "The struct type belongs to another branch."
            )
        return errors


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

    def clean(self) -> None:
        super().clean()
        errors = self.status_errors()
        shape = rules.check_type_shape(self.base_type, self.item_type or None, False)
        shape.pop("struct_type", None)
        if self.item_type == BaseType.STRUCT:
            shape.setdefault("item_type", []).append("A value type cannot hold structs.")
        errors.update(shape)
        if not shape:
            errors["constraints"] = rules.check_constraints(
                self.constraints, self.base_type, self.item_type or None
            )
        _raise(errors)


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
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["struct_type_id", "position", "api_name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "rid"], name="uniq_structfield_rid"),
            models.UniqueConstraint(
                "struct_type", Lower("api_name"), name="uniq_structfield_api_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.struct_type_id and self.struct_type.api_name}.{self.api_name}"

    def unique_scope(self):
        if not self.struct_type_id:
            return None
        return StructField.objects.filter(struct_type_id=self.struct_type_id)


class SharedProperty(BranchScoped, StatusFields, TypedFields):
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
        super().clean()
        errors = self.status_errors()
        errors.update(self.type_errors())
        _raise(errors)


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

    def all_ancestors(self) -> list[Interface]:
        """Every interface this one extends, directly or not (cycles are tolerated)."""
        seen: dict[int, Interface] = {}
        frontier = list(self.extends.all()) if self.pk else []
        while frontier:
            current = frontier.pop()
            if current.pk in seen or current.pk == self.pk:
                continue
            seen[current.pk] = current
            frontier.extend(current.extends.all())
        return list(seen.values())

    def required_properties(self) -> set[int]:
        """Ids of the shared properties an implementing object type must have."""
        ids = set(self.properties.values_list("id", flat=True)) if self.pk else set()
        for ancestor in self.all_ancestors():
            ids |= set(ancestor.properties.values_list("id", flat=True))
        return ids

    def clean(self) -> None:
        super().clean()
        _raise(self.status_errors())


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

    def unique_scope(self):
        if not self.interface_id:
            return None
        return InterfaceLinkConstraint.objects.filter(interface_id=self.interface_id)

    def clean(self) -> None:
        super().clean()
        if bool(self.target_object_type_id) == bool(self.target_interface_id):
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        "A link constraint targets exactly one object type or interface."
                    ]
                }
            )


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

    def key_errors(self) -> tuple[dict[str, list[str]], list[str]]:
        """(errors, warnings) for the primary key and title property choices."""
        errors: dict[str, list[str]] = {}
        warnings: list[str] = []
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
        if self.replaced_by_id:
            if self.replaced_by_id == self.pk:
                errors["replaced_by"] = ["An object type cannot replace itself."]
            elif self.status != Status.DEPRECATED:
                errors["replaced_by"] = ["Only a deprecated object type names a replacement."]
            elif self.replaced_by.branch_id != self.branch_id:
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


class Property(BranchScoped, StatusFields, TypedFields):
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
