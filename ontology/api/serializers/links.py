"""Interfaces (with their link constraints) and link types."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import serializers

from oms_site.api import StrictCharField

from ... import limits, services
from ...choices import Cardinality, ConstraintCardinality, Visibility
from ...models import Interface, LinkType, ObjectType, Property, SharedProperty
from .base import (
    ChildRidField,
    EntitySerializer,
    StrictSerializer,
    apply_values,
    description_field,
    fill_child_names,
)
from .object_types import resolve_items
from .refs import RefField


class LinkConstraintSerializer(StrictSerializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed constraint.")
    apiName = StrictCharField(source="api_name", max_length=100)
    displayName = StrictCharField(
        source="display_name", max_length=200, allow_blank=True, required=False, default=""
    )
    description = description_field()
    targetObjectType = RefField(
        source="target_object_type", allow_null=True, required=False, default=None
    )
    targetInterface = RefField(
        source="target_interface", allow_null=True, required=False, default=None
    )
    cardinality = serializers.ChoiceField(
        ConstraintCardinality.choices, required=False, default=ConstraintCardinality.MANY
    )
    required = serializers.BooleanField(required=False, default=False)


class InterfaceSerializer(EntitySerializer):
    icon = StrictCharField(max_length=60, allow_blank=True, required=False, default="")
    extends = serializers.ListField(
        child=RefField(), required=False, default=list, **limits.list_limit("children")
    )
    properties = serializers.ListField(
        child=RefField(),
        required=False,
        default=list,
        **limits.list_limit("children"),
        help_text="Shared properties.",
    )
    linkConstraints = LinkConstraintSerializer(
        source="link_constraints",
        many=True,
        required=False,
        default=list,
        **limits.list_limit("children"),
    )

    def write(self, instance, data):
        values = self.values(data)
        extends = values.pop("extends", None)
        properties = values.pop("properties", None)
        constraints = values.pop("link_constraints", None)
        if extends is not None:
            extends = self.resolver.many(Interface, extends, "extends")
        if properties is not None:
            properties = self.resolver.many(SharedProperty, properties, "properties")
        if constraints is not None:
            constraints = [dict(c) for c in constraints]
            if instance is not None:
                fill_child_names(instance.link_constraints.all(), constraints, "linkConstraints")
            resolve_items(
                self.resolver,
                constraints,
                "linkConstraints.",
                (("target_object_type", ObjectType), ("target_interface", Interface)),
            )
        return services.save_interface(
            self.branch,
            values,
            instance=instance,
            extends=extends,
            properties=properties,
            link_constraints=constraints,
            user=self.user,
        )


class LinkSideSerializer(StrictSerializer):
    apiName = StrictCharField(max_length=100)
    displayName = StrictCharField(max_length=200)
    visibility = serializers.ChoiceField(
        Visibility.choices, required=False, default=Visibility.NORMAL
    )


_SIDE_FIELDS = (
    ("apiName", "api_name"),
    ("displayName", "display_name"),
    ("visibility", "visibility"),
)


class LinkTypeSerializer(EntitySerializer):
    displayName = None
    cardinality = serializers.ChoiceField(Cardinality.choices)
    source = RefField(
        allow_null=True,
        required=False,
        default=None,
        help_text="The object type holding the foreign key (for 1:1 and 1:N); null when "
        "the source is an interface.",
    )
    target = RefField(
        allow_null=True,
        required=False,
        default=None,
        help_text="The target object type; null when the target is an interface.",
    )
    sourceInterface = RefField(
        source="source_interface",
        allow_null=True,
        required=False,
        default=None,
        help_text="Many-to-many only: an interface as the source, instead of an object type "
        "(every object type implementing it can be the source).",
    )
    targetInterface = RefField(
        source="target_interface",
        allow_null=True,
        required=False,
        default=None,
        help_text="Many-to-many only: an interface as the target, instead of an object type.",
    )
    sourceSide = LinkSideSerializer(help_text="The link as seen from the source.")
    targetSide = LinkSideSerializer(help_text="The link as seen from the target.")
    foreignKeyProperty = RefField(
        source="foreign_key_property",
        allow_null=True,
        required=False,
        default=None,
        help_text="For 1:1 and 1:N: the source's property holding the target's primary key.",
    )

    def write(self, instance, data):
        values = self.values(data)
        for side in ("source", "target"):
            spec = values.pop(f"{side}Side", None)
            if spec is not None:
                for camel, field in _SIDE_FIELDS:
                    if camel in spec:
                        values[f"{side}_{field}"] = spec[camel]
            if side in values:
                values[side] = self.resolver.one(ObjectType, values[side], side)
            if f"{side}_interface" in values:
                values[f"{side}_interface"] = self.resolver.one(
                    Interface, values[f"{side}_interface"], f"{side}Interface"
                )
        if "foreign_key_property" in values:
            fk = values["foreign_key_property"]
            source = values.get("source") or (instance.source if instance else None)
            values["foreign_key_property"] = (
                None
                if fk is None or source is None
                else self.resolver.resolve(
                    Property, {"foreignKeyProperty": fk}, scope=Q(object_type=source)
                )["foreignKeyProperty"]
            )
        row = apply_values(instance or LinkType(branch=self.branch), values)
        services.save(row, user=self.user)
        return row
