"""API representation of the ontology: camelCase, references as ``{rid, apiName}``.

Serializers check the *shape* of a request (types, enums, lengths); the rules themselves
run in the models' ``clean()`` through :mod:`ontology.services`, so the API reports the
same messages as the admin. Each serializer writes by calling its service.

Reads are hot paths: ``to_representation`` is written out by hand over rows fetched with
the viewset's prefetches, instead of DRF's per-field machinery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q
from django.db.models.functions import Lower
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from oms_site.api import camelize

from .. import rules, services
from ..choices import (
    BaseType,
    Cardinality,
    ConstraintCardinality,
    ItemType,
    Status,
    StructFieldType,
    Visibility,
)
from ..models import (
    Interface,
    LinkType,
    ObjectType,
    Property,
    SharedProperty,
    StructType,
    ValueType,
)

# --- references ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A reference as given by a client: an api name, a rid, or both."""

    api_name: str | None = None
    rid: uuid.UUID | None = None

    def __str__(self) -> str:
        return self.api_name or str(self.rid)


def ref(obj: Model | None) -> dict[str, str] | None:
    return {"rid": str(obj.rid), "apiName": obj.api_name} if obj is not None else None


_REF_SCHEMA = {
    "type": "object",
    "properties": {
        "rid": {"type": "string", "format": "uuid"},
        "apiName": {"type": "string"},
    },
}


class RefFieldExtension(OpenApiSerializerFieldExtension):
    """Responses carry ``{rid, apiName}``; requests take an api name or such an object."""

    target_class = "ontology.api.serializers.RefField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {**_REF_SCHEMA, "required": ["rid", "apiName"]}
        return {
            "oneOf": [
                {"type": "string", "description": "API name (case-insensitive)"},
                {**_REF_SCHEMA, "description": "rid wins over apiName when both are given"},
            ]
        }


class RefField(serializers.Field):
    """An entity of the same branch: ``"ApiName"``, ``{"apiName": ...}`` or ``{"rid": ...}``.

    Responses always carry ``{"rid": ..., "apiName": ...}``.
    """

    default_error_messages = {
        "invalid": 'Give an API name, or an object with "rid" or "apiName".',
        "invalid_rid": '"rid" must be a UUID.',
    }

    def to_internal_value(self, data: Any) -> Ref:
        if isinstance(data, str) and 0 < len(data) <= 100 and "\x00" not in data:
            return Ref(api_name=data)
        if isinstance(data, dict) and (data.get("rid") or data.get("apiName")):
            if data.get("rid"):
                try:
                    return Ref(rid=uuid.UUID(str(data["rid"])))
                except ValueError:
                    self.fail("invalid_rid")
            return self.to_internal_value(data["apiName"])
        self.fail("invalid")

    def to_representation(self, value: Model) -> dict[str, str] | None:
        return ref(value)


class Resolver:
    """Resolves :class:`Ref` s to rows of one branch, one query per model and request."""

    def __init__(self, branch):
        self.branch = branch

    def resolve(
        self, model: type[Model], wanted: dict[str, Ref], scope: Q | None = None
    ) -> dict[str, Model]:
        """``{error path: Ref}`` -> ``{error path: row}``; unknown refs raise on their path."""
        if not wanted:
            return {}
        names = {r.api_name.lower() for r in wanted.values() if r.rid is None}
        rids = {r.rid for r in wanted.values() if r.rid is not None}
        rows = (
            model._default_manager.filter(branch=self.branch)
            .alias(lower_name=Lower("api_name"))
            .filter(Q(lower_name__in=names) | Q(rid__in=rids))
        )
        if scope is not None:
            rows = rows.filter(scope)
        by_name: dict[str, Model] = {}
        by_rid: dict[uuid.UUID, Model] = {}
        for row in rows:
            by_name[row.api_name.lower()] = row
            by_rid[row.rid] = row
        found: dict[str, Model] = {}
        errors: dict[str, list[str]] = {}
        for path, r in wanted.items():
            row = by_rid.get(r.rid) if r.rid else by_name.get(r.api_name.lower())
            if row is None:
                label = model._meta.verbose_name
                errors[path] = [f"There is no {label} '{r}' on branch '{self.branch.name}'."]
            else:
                found[path] = row
        if errors:
            raise serializers.ValidationError(errors)
        return found

    def one(self, model: type[Model], r: Ref | None, path: str) -> Model | None:
        return None if r is None else self.resolve(model, {path: r})[path]

    def many(self, model: type[Model], refs: list[Ref], path: str) -> list[Model]:
        found = self.resolve(model, {f"{path}.{i}": r for i, r in enumerate(refs)})
        return list(dict.fromkeys(found[f"{path}.{i}"] for i in range(len(refs))))


# --- shared pieces ---------------------------------------------------------------------


class DeprecationSerializer(serializers.Serializer):
    message = serializers.CharField(allow_blank=True, required=False, default="")
    deadline = serializers.DateField(allow_null=True, required=False, default=None)


def _deprecation_of(status: str, message: str, deadline) -> dict[str, Any] | None:
    """``{message, deadline}`` when deprecated (or when either is set), else ``None``."""
    if status != Status.DEPRECATED and not message and not deadline:
        return None
    return {"message": message, "deadline": deadline and deadline.isoformat()}


def deprecation(row) -> dict[str, Any] | None:
    return _deprecation_of(row.status, row.deprecation_message, row.deprecation_deadline)


def _pop_deprecation(values: dict[str, Any]) -> None:
    """``deprecation`` -> the model's ``deprecation_message`` / ``deprecation_deadline``."""
    if "deprecation" not in values:
        return
    dep = values.pop("deprecation")
    if dep is None:
        dep = {"message": "", "deadline": None}
    if "message" in dep:
        values["deprecation_message"] = dep["message"]
    if "deadline" in dep:
        values["deprecation_deadline"] = dep["deadline"]


def _apply(row: Model, values: dict[str, Any]) -> Model:
    for name, value in values.items():
        setattr(row, name, value)
    return row


def _null_to_blank(values: dict[str, Any], *names: str) -> None:
    for name in names:
        if name in values and values[name] is None:
            values[name] = ""


def _common(row) -> dict[str, Any]:
    return {
        "rid": str(row.rid),
        "apiName": row.api_name,
        "displayName": row.display_name,
        "description": row.description,
        "status": row.status,
        "deprecation": deprecation(row),
    }


def _timestamps(row) -> dict[str, str]:
    return {"createdAt": row.created_at.isoformat(), "updatedAt": row.updated_at.isoformat()}


class EntitySerializer(serializers.Serializer):
    """Base of the top-level serializers: common fields, hand-written output, service writes.

    Context: ``branch`` (the request's branch) and ``request``.
    """

    rid = serializers.UUIDField(read_only=True)
    apiName = serializers.CharField(source="api_name", max_length=100)
    displayName = serializers.CharField(source="display_name", max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    status = serializers.ChoiceField(Status.choices, required=False, default=Status.ACTIVE)
    deprecation = DeprecationSerializer(allow_null=True, required=False, default=None)
    createdAt = serializers.DateTimeField(read_only=True)
    updatedAt = serializers.DateTimeField(read_only=True)

    @property
    def branch(self):
        return self.context["branch"]

    @property
    def user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @property
    def resolver(self) -> Resolver:
        return Resolver(self.branch)

    def represent(self, row) -> dict[str, Any]:
        raise NotImplementedError

    def to_representation(self, instance) -> dict[str, Any]:
        return self.represent(instance)

    def values(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validated data -> model field values (references resolved)."""
        values = dict(data)
        _pop_deprecation(values)
        return values

    def write(self, instance, data: dict[str, Any]):
        raise NotImplementedError

    def create(self, validated_data):
        return self.write(None, validated_data)

    def update(self, instance, validated_data):
        return self.write(instance, validated_data)


def _has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (PostgreSQL refuses those)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# --- value types -----------------------------------------------------------------------


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
        out = _common(row)
        out.update(
            baseType=row.base_type,
            itemType=row.item_type or None,
            constraints=row.constraints or {},
            **_timestamps(row),
        )
        return out

    def validate_constraints(self, value):
        if value is None:
            return {}
        if _has_nul(value):
            raise serializers.ValidationError("Constraints cannot contain NUL characters.")
        return value

    def write(self, instance, data):
        values = self.values(data)
        _null_to_blank(values, "item_type")
        row = _apply(instance or ValueType(branch=self.branch), values)
        services.save(row, user=self.user)
        return row


class ChildRidField(serializers.UUIDField):
    """A child's rid as a UUID string (DRF's UUIDField would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


# --- struct types ----------------------------------------------------------------------


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
        out = _common(row)
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
        out.update(_timestamps(row))
        return out

    def write(self, instance, data):
        values = self.values(data)
        fields = values.pop("fields", None)
        if fields is not None:
            fields = [dict(f, position=i) for i, f in enumerate(fields)]
        return services.save_struct_type(
            self.branch, values, instance=instance, fields=fields, user=self.user
        )


# --- shared properties and object types ------------------------------------------------


class TypedSerializer(serializers.Serializer):
    """Base type, array item type, value type and struct type."""

    baseType = serializers.ChoiceField(BaseType.choices, source="base_type")
    itemType = serializers.ChoiceField(
        ItemType.choices, source="item_type", allow_null=True, required=False, default=None
    )
    valueType = RefField(source="value_type", allow_null=True, required=False, default=None)
    structType = RefField(source="struct_type", allow_null=True, required=False, default=None)


def typed(row) -> dict[str, Any]:
    return {
        "baseType": row.base_type,
        "itemType": row.item_type or None,
        "valueType": ref(row.value_type) if row.value_type_id else None,
        "structType": ref(row.struct_type) if row.struct_type_id else None,
    }


_TYPE_REFS = (("value_type", ValueType), ("struct_type", StructType))


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

    def represent(self, row: SharedProperty) -> dict[str, Any]:
        out = _common(row)
        out.update(typed(row), pii=row.pii, **_timestamps(row))
        return out

    def write(self, instance, data):
        values = self.values(data)
        resolve_items(self.resolver, [values], "", _TYPE_REFS)
        _null_to_blank(values, "item_type")
        row = _apply(instance or SharedProperty(branch=self.branch), values)
        services.save(row, user=self.user)
        return row


class PropertySerializer(TypedSerializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed property.")
    apiName = serializers.CharField(source="api_name", max_length=100)
    displayName = serializers.CharField(source="display_name", max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    sharedProperty = RefField(
        source="shared_property", allow_null=True, required=False, default=None
    )
    required = serializers.BooleanField(required=False, default=False)
    pii = serializers.BooleanField(required=False, default=False)
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
        "status": p["status"],
        "deprecation": _deprecation_of(
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
    pluralDisplayName = serializers.CharField(source="plural_display_name", max_length=200)
    visibility = serializers.ChoiceField(
        Visibility.choices, required=False, default=Visibility.NORMAL
    )
    icon = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
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
    interfaces = serializers.ListField(child=RefField(), required=False, default=list)
    properties = PropertySerializer(many=True, required=False, default=list)
    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Rule warnings (not errors)."
    )

    def represent(self, row: ObjectType) -> dict[str, Any]:
        if not hasattr(row, "property_values"):
            attach_properties([row])
        props = row.property_values
        by_id = {p["id"]: p for p in props}
        out = _common(row)
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
            **_timestamps(row),
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
            properties = [dict(p, position=i) for i, p in enumerate(properties)]
            resolve_items(
                self.resolver,
                properties,
                "properties.",
                (*_TYPE_REFS, ("shared_property", SharedProperty)),
            )
            for item in properties:
                _pop_deprecation(item)
                _null_to_blank(item, "item_type")
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


# --- interfaces ------------------------------------------------------------------------


class LinkConstraintSerializer(serializers.Serializer):
    rid = ChildRidField(required=False, help_text="Give it to keep a renamed constraint.")
    apiName = serializers.CharField(source="api_name", max_length=100)
    displayName = serializers.CharField(
        source="display_name", max_length=200, allow_blank=True, required=False, default=""
    )
    description = serializers.CharField(allow_blank=True, required=False, default="")
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
    icon = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
    extends = serializers.ListField(child=RefField(), required=False, default=list)
    properties = serializers.ListField(
        child=RefField(), required=False, default=list, help_text="Shared properties."
    )
    linkConstraints = LinkConstraintSerializer(
        source="link_constraints", many=True, required=False, default=list
    )

    def represent(self, row: Interface) -> dict[str, Any]:
        out = _common(row)
        out.update(
            icon=row.icon,
            extends=[ref(i) for i in row.extends.all()],
            properties=[ref(p) for p in row.properties.all()],
            linkConstraints=[
                {
                    "rid": str(c.rid),
                    "apiName": c.api_name,
                    "displayName": c.display_name,
                    "description": c.description,
                    "targetObjectType": ref(c.target_object_type),
                    "targetInterface": ref(c.target_interface),
                    "cardinality": c.cardinality,
                    "required": c.required,
                }
                for c in row.link_constraints.all()
            ],
            **_timestamps(row),
        )
        return out

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


# --- link types ------------------------------------------------------------------------


class LinkSideSerializer(serializers.Serializer):
    apiName = serializers.CharField(max_length=100)
    displayName = serializers.CharField(max_length=200)
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
    source = RefField(help_text="The object type holding the foreign key (for 1:1 and 1:N).")
    target = RefField()
    sourceSide = LinkSideSerializer(help_text="The link as seen from the source.")
    targetSide = LinkSideSerializer(help_text="The link as seen from the target.")
    foreignKeyProperty = RefField(
        source="foreign_key_property",
        allow_null=True,
        required=False,
        default=None,
        help_text="For 1:1 and 1:N: the source's property holding the target's primary key.",
    )

    def represent(self, row: LinkType) -> dict[str, Any]:
        return {
            "rid": str(row.rid),
            "apiName": row.api_name,
            "description": row.description,
            "status": row.status,
            "deprecation": deprecation(row),
            "cardinality": row.cardinality,
            "source": ref(row.source),
            "target": ref(row.target),
            "sourceSide": {
                "apiName": row.source_api_name,
                "displayName": row.source_display_name,
                "visibility": row.source_visibility,
            },
            "targetSide": {
                "apiName": row.target_api_name,
                "displayName": row.target_display_name,
                "visibility": row.target_visibility,
            },
            "foreignKeyProperty": (
                ref(row.foreign_key_property) if row.foreign_key_property_id else None
            ),
            **_timestamps(row),
        }

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
        row = _apply(instance or LinkType(branch=self.branch), values)
        services.save(row, user=self.user)
        return row
