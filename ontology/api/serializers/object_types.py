"""Shared properties and object types (with their properties)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

from oms_site.api import StrictCharField, camelize

from ... import limits, services
from ...choices import BaseType, ItemType, Status, Visibility
from ...models import Interface, ObjectType, SharedProperty, StructType, ValueType
from .base import (
    ChildRidField,
    DeprecationSerializer,
    EntitySerializer,
    StrictSerializer,
    apply_values,
    description_field,
    fill_child_names,
    null_to_blank,
    pop_deprecation,
)
from .refs import Ref, RefField, Resolver


class TypedSerializer(StrictSerializer):
    """Base type, array item type, value type and struct type."""

    baseType = serializers.ChoiceField(BaseType.choices, source="base_type")
    itemType = serializers.ChoiceField(
        ItemType.choices, source="item_type", allow_null=True, required=False, default=None
    )
    valueType = RefField(source="value_type", allow_null=True, required=False, default=None)
    structType = RefField(source="struct_type", allow_null=True, required=False, default=None)


def examples_field() -> serializers.ListField:
    """Example values (documentation): at most ``examples`` texts of at most
    ``example_length`` characters; those of a PII property are stored encrypted."""
    return serializers.ListField(
        child=StrictCharField(
            max_length=limits.EXAMPLE_LENGTH,
            allow_blank=False,
            error_messages={"max_length": limits.over("example_length")},
        ),
        required=False,
        default=list,
        help_text="Documentation values. Those of a PII property are encrypted at rest and "
        "shown as tokens (pii:<digest>) to users without the view_pii permission.",
        **limits.list_limit("examples"),
    )


TYPE_REFS = (("value_type", ValueType), ("struct_type", StructType))


def resolve_items(
    resolver: Resolver,
    items: list[dict[str, Any]],
    prefix: str,
    refs: tuple[tuple[str, type[Model]], ...],
) -> None:
    """Resolve the references of list items in place (one query per model)."""
    for name, model in refs:
        camel = camelize(name)
        wanted = {
            f"{prefix}{i}.{camel}": item[name]
            for i, item in enumerate(items)
            if item.get(name) is not None
        }
        found = resolver.resolve(model, wanted)
        for i, item in enumerate(items):
            if name in item:
                item[name] = found.get(f"{prefix}{i}.{camel}")


class SharedPropertySerializer(EntitySerializer, TypedSerializer):
    pii = serializers.BooleanField(required=False, default=False)
    examples = examples_field()

    def write(self, instance, data):
        values = self.values(data)
        resolve_items(self.resolver, [values], "", TYPE_REFS)
        null_to_blank(values, "item_type")
        row = apply_values(instance or SharedProperty(branch=self.branch), values)
        services.save(row, user=self.user)
        return row


class PropertySerializer(TypedSerializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed property.")
    apiName = StrictCharField(source="api_name", max_length=100)
    displayName = StrictCharField(source="display_name", max_length=200)
    description = description_field()
    sharedProperty = RefField(
        source="shared_property", allow_null=True, required=False, default=None
    )
    required = serializers.BooleanField(required=False, default=False)
    pii = serializers.BooleanField(required=False, default=False)
    examples = examples_field()
    status = serializers.ChoiceField(
        Status.choices,
        required=False,
        help_text="Defaults to the object type's status when it is EXPERIMENTAL, else ACTIVE.",
    )
    deprecation = DeprecationSerializer(allow_null=True, required=False, default=None)


class ObjectTypeSerializer(EntitySerializer):
    pluralDisplayName = StrictCharField(source="plural_display_name", max_length=200)
    visibility = serializers.ChoiceField(
        Visibility.choices, required=False, default=Visibility.NORMAL
    )
    icon = StrictCharField(max_length=60, allow_blank=True, required=False, default="")
    replacedBy = RefField(source="replaced_by", allow_null=True, required=False, default=None)
    primaryKey = RefField(
        source="primary_key",
        allow_null=True,
        required=False,
        default=None,
        help_text="One of this object type's properties.",
    )
    titleProperty = RefField(
        source="title_property",
        allow_null=True,
        required=False,
        default=None,
        help_text="One of this object type's properties.",
    )
    interfaces = serializers.ListField(
        child=RefField(), required=False, default=list, **limits.list_limit("children")
    )
    properties = PropertySerializer(
        many=True, required=False, default=list, **limits.list_limit("properties")
    )
    warnings = serializers.ListField(
        child=StrictCharField(), read_only=True, help_text="Rule warnings (not errors)."
    )

    def _key_name(self, instance, properties, r: Ref | None, path: str):
        """A primary key / title reference -> the property api name the service expects."""
        if r is None or r.rid is None:
            return r.api_name if r else None
        for item in properties or []:
            if item.get("rid") == r.rid:
                return item["api_name"]
        if instance is not None and properties is None:
            match = instance.properties.filter(rid=r.rid).values_list("api_name", flat=True)
            if match:
                return match[0]
        raise serializers.ValidationError({path: [f"This object type has no property '{r}'."]})

    def write(self, instance, data):
        values = self.values(data)
        properties = values.pop("properties", None)
        interfaces = values.pop("interfaces", None)
        if properties is not None:
            properties = [dict(p, position=i) for i, p in enumerate(properties)]
            if instance is not None:
                fill_child_names(instance.properties.all(), properties, "properties")
        keys = {
            name: self._key_name(instance, properties, values.pop(name), camelize(name))
            for name in ("primary_key", "title_property")
            if name in values
        }
        if "replaced_by" in values:
            values["replaced_by"] = self.resolver.one(
                ObjectType, values["replaced_by"], "replacedBy"
            )
        if properties is not None:
            resolve_items(
                self.resolver,
                properties,
                "properties.",
                (*TYPE_REFS, ("shared_property", SharedProperty)),
            )
            for item in properties:
                pop_deprecation(item)
                null_to_blank(item, "item_type")
        if interfaces is not None:
            interfaces = self.resolver.many(Interface, interfaces, "interfaces")
        ot, _ = services.save_object_type(
            self.branch,
            values,
            instance=instance,
            properties=properties,
            interfaces=interfaces,
            user=self.user,
            **keys,
        )
        return ot
