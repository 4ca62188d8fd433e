"""Value types and struct types (with their fields)."""

from __future__ import annotations

from rest_framework import serializers

from oms_site.api import StrictCharField

from ... import limits, services
from ...choices import BaseType, ItemType, StructFieldItemType, StructFieldType
from ...models import ValueType
from .base import (
    ChildRidField,
    EntitySerializer,
    StrictSerializer,
    apply_values,
    description_field,
    fill_child_names,
    null_to_blank,
)
from .object_types import resolve_items
from .refs import RefField


class ValueTypeSerializer(EntitySerializer):
    baseType = serializers.ChoiceField(
        BaseType.choices, source="base_type", help_text="Any base type but struct."
    )
    itemType = serializers.ChoiceField(
        ItemType.choices, source="item_type", allow_null=True, required=False, default=None
    )
    constraints = serializers.JSONField(
        required=False,
        default=dict,
        help_text='e.g. {"enum": {"values": ["A", "B"]}, "length": {"max": 80}}',
    )

    def validate_constraints(self, value):
        return {} if value is None else value

    def write(self, instance, data):
        values = self.values(data)
        null_to_blank(values, "item_type")
        row = apply_values(instance or ValueType(branch=self.branch), values)
        services.save(row, user=self.user)
        return row


class StructFieldSerializer(StrictSerializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed field.")
    apiName = StrictCharField(source="api_name", max_length=100)
    displayName = StrictCharField(source="display_name", max_length=200)
    description = description_field()
    baseType = serializers.ChoiceField(StructFieldType.choices, source="base_type")
    itemType = serializers.ChoiceField(
        StructFieldItemType.choices,
        source="item_type",
        allow_null=True,
        required=False,
        default=None,
        help_text="What an array field holds (a primitive).",
    )
    valueType = RefField(
        source="value_type",
        allow_null=True,
        required=False,
        default=None,
        help_text="A value type of the field's type: its constraints apply to the field.",
    )
    required = serializers.BooleanField(required=False, default=False)


class StructTypeSerializer(EntitySerializer):
    fields = StructFieldSerializer(
        many=True, required=False, default=list, **limits.list_limit("struct_fields")
    )

    def write(self, instance, data):
        values = self.values(data)
        fields = values.pop("fields", None)
        if fields is not None:
            fields = [dict(f, position=i) for i, f in enumerate(fields)]
            resolve_items(self.resolver, fields, "fields.", (("value_type", ValueType),))
            for item in fields:
                null_to_blank(item, "item_type")
            if instance is not None:
                fill_child_names(instance.fields.all(), fields, "fields")
        return services.save_struct_type(
            self.branch, values, instance=instance, fields=fields, user=self.user
        )
