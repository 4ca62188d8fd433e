"""Shared properties and object types (with their properties)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

from oms_site.api import StrictCharField, camelize

from ... import limits, rules, services
from ...choices import BaseType, ItemType, Status, Visibility
from ...models import Interface, ObjectType, Property, SharedProperty, StructType, ValueType
from .base import (
    ChildRidField,
    DeprecationSerializer,
    EntitySerializer,
    StrictSerializer,
    apply_values,
    common,
    deprecation_of,
    description_field,
    fill_child_names,
    null_to_blank,
    pop_deprecation,
    timestamps,
)
from .refs import Ref, RefField, Resolver, ref


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


def typed(row) -> dict[str, Any]:
    return {
        "baseType": row.base_type,
        "itemType": row.item_type or None,
        "valueType": ref(row.value_type) if row.value_type_id else None,
        "structType": ref(row.struct_type) if row.struct_type_id else None,
    }


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

    def represent(self, row: SharedProperty) -> dict[str, Any]:
        out = common(row)
        out.update(typed(row), pii=row.pii, examples=list(row.examples), **timestamps(row))
        return out

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


#: the columns a property's representation needs, read as plain values (no model instances)
PROPERTY_COLUMNS = (
    "id",
    "object_type_id",
    "rid",
    "api_name",
    "display_name",
    "description",
    "base_type",
    "item_type",
    "value_type__rid",
    "value_type__api_name",
    "struct_type__rid",
    "struct_type__api_name",
    "shared_property__rid",
    "shared_property__api_name",
    "required",
    "pii",
    "examples",
    "status",
    "deprecation_message",
    "deprecation_deadline",
)


def attach_properties(rows: list[ObjectType]) -> list[ObjectType]:
    """Read the properties of these object types in one query, as plain value rows.

    Building 2,000 model instances (with their three select_related references) costs
    far more than the query; the representation needs only these columns.
    """
    by_type: dict[int, list[dict[str, Any]]] = {row.pk: [] for row in rows}
    if by_type:
        values = Property.objects.filter(object_type_id__in=by_type).values(*PROPERTY_COLUMNS)
        for p in values.order_by("object_type_id", "position", "api_name"):
            by_type[p["object_type_id"]].append(p)
    for row in rows:
        row.property_values = by_type[row.pk]
    return rows


def _value_ref(p: dict[str, Any], name: str) -> dict[str, str] | None:
    rid = p[f"{name}__rid"]
    return {"rid": str(rid), "apiName": p[f"{name}__api_name"]} if rid else None


def property_representation(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "rid": str(p["rid"]),
        "apiName": p["api_name"],
        "displayName": p["display_name"],
        "description": p["description"],
        "baseType": p["base_type"],
        "itemType": p["item_type"] or None,
        "valueType": _value_ref(p, "value_type"),
        "structType": _value_ref(p, "struct_type"),
        "sharedProperty": _value_ref(p, "shared_property"),
        "required": p["required"],
        "pii": p["pii"],
        "examples": list(p["examples"]),
        "status": p["status"],
        "deprecation": deprecation_of(
            p["status"], p["deprecation_message"], p["deprecation_deadline"]
        ),
    }


def _prop_ref(props_by_id: dict[int, dict[str, Any]], pk: int | None) -> dict[str, str] | None:
    p = props_by_id.get(pk) if pk else None
    return {"rid": str(p["rid"]), "apiName": p["api_name"]} if p else None


def object_type_warnings(row: ObjectType, props_by_id: dict[int, dict[str, Any]]) -> list[str]:
    """The rule warnings of an object type (same as ``services.warnings_for``), no queries."""
    pk = props_by_id.get(row.primary_key_id) if row.primary_key_id else None
    if pk is None:
        return []
    return rules.check_primary_key_type(pk["base_type"], pk["item_type"])[1]


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

    def represent(self, row: ObjectType) -> dict[str, Any]:
        if not hasattr(row, "property_values"):
            attach_properties([row])
        props = row.property_values
        by_id = {p["id"]: p for p in props}
        out = common(row)
        out.update(
            pluralDisplayName=row.plural_display_name,
            visibility=row.visibility,
            icon=row.icon,
            replacedBy=ref(row.replaced_by) if row.replaced_by_id else None,
            primaryKey=_prop_ref(by_id, row.primary_key_id),
            titleProperty=_prop_ref(by_id, row.title_property_id),
            interfaces=[ref(i) for i in row.interfaces.all()],
            properties=[property_representation(p) for p in props],
            warnings=object_type_warnings(row, by_id),
            **timestamps(row),
        )
        return out

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
