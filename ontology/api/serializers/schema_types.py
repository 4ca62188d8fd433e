"""Value types and struct types (with their fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ... import services
from ...choices import BaseType, ItemType, StructFieldType
from ...models import StructType, ValueType
from .base import (
    ChildRidField,
    EntitySerializer,
    apply_values,
    common,
    has_nul,
    null_to_blank,
    timestamps,
)


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

    def represent(self, row: ValueType) -> dict[str, Any]:
        out = common(row)
        out.update(
            baseType=row.base_type,
            itemType=row.item_type or None,
            constraints=row.constraints or {},
            **timestamps(row),
        )
        return out

    def validate_constraints(self, value):
        if value is None:
            return {}
        if has_nul(value):
            raise serializers.ValidationError("Constraints cannot contain NUL characters.")
        return value

    def write(self, instance, data):
        values = self.values(data)
        null_to_blank(values, "item_type")
        row = apply_values(instance or ValueType(branch=self.branch), values)
        services.save(row, user=self.user)
        return row


class StructFieldSerializer(serializers.Serializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed field.")
    apiName = serializers.CharField(source="api_name", max_length=100)
    displayName = serializers.CharField(source="display_name", max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    baseType = serializers.ChoiceField(StructFieldType.choices, source="base_type")
    required = serializers.BooleanField(required=False, default=False)


class StructTypeSerializer(EntitySerializer):
    fields = StructFieldSerializer(many=True, required=False, default=list)

    def represent(self, row: StructType) -> dict[str, Any]:
        out = common(row)
        out["fields"] = [
            {
                "rid": str(f.rid),
                "apiName": f.api_name,
                "displayName": f.display_name,
                "description": f.description,
                "baseType": f.base_type,
                "required": f.required,
            }
            for f in row.fields.all()
        ]
        out.update(timestamps(row))
        return out

    def write(self, instance, data):
        values = self.values(data)
        fields = values.pop("fields", None)
        if fields is not None:
            fields = [dict(f, position=i) for i, f in enumerate(fields)]
        return services.save_struct_type(
            self.branch, values, instance=instance, fields=fields, user=self.user
        )
