"""Pieces every entity serializer shares: common fields, deprecation, service writes."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

from oms_site.api import StrictCharField
from oms_site.strict import StrictSerializer

from ... import limits
from ...choices import Status
from ...kinds import kind_of
from ..representation import entities, stamped
from .refs import Resolver


def description_field(**kwargs) -> serializers.CharField:
    """A description: any text up to the ``description_length`` limit."""
    return StrictCharField(
        allow_blank=True, required=False, default="", max_length=limits.DESCRIPTION_LENGTH, **kwargs
    )


class DeprecationSerializer(StrictSerializer):
    message = StrictCharField(allow_blank=True, required=False, default="")
    deadline = serializers.DateField(allow_null=True, required=False, default=None)


def pop_deprecation(values: dict[str, Any]) -> None:
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


def apply_values(row: Model, values: dict[str, Any]) -> Model:
    for name, value in values.items():
        setattr(row, name, value)
    return row


def null_to_blank(values: dict[str, Any], *names: str) -> None:
    for name in names:
        if name in values and values[name] is None:
            values[name] = ""


class EntitySerializer(StrictSerializer):
    """Base of the top-level serializers: common fields (input), service writes.

    Context: ``branch`` (the request's branch) and ``request``.
    """

    rid = serializers.UUIDField(read_only=True)
    apiName = StrictCharField(source="api_name", max_length=100)
    displayName = StrictCharField(source="display_name", max_length=200)
    description = description_field()
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

    def to_representation(self, instance) -> dict[str, Any]:
        """The one REST mapping of every kind (:mod:`ontology.api.representation`)."""
        rows = stamped(type(instance)._default_manager.filter(pk=instance.pk))
        return entities(instance.branch_id, kind_of(instance).name, rows)[0]

    def to_internal_value(self, data):
        # the whole body's shape (depth, unwritable text) first: it is what the fields
        # and the rules then walk
        errors = limits.check_json(data)
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def values(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validated data -> model field values (references resolved)."""
        values = dict(data)
        pop_deprecation(values)
        return values

    def write(self, instance, data: dict[str, Any]):
        raise NotImplementedError

    def create(self, validated_data):
        return self.write(None, validated_data)

    def update(self, instance, validated_data):
        return self.write(instance, validated_data)


class ChildRidField(serializers.UUIDField):
    """A child's rid as a UUID string (DRF's UUIDField would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def fill_child_names(existing, items: list[dict[str, Any]] | None, prefix: str) -> None:
    """A child given by ``rid`` alone keeps its api name (docs/api.md, PATCH): fill it in
    from ``existing`` (the parent's children, a queryset), in one query. A child that
    names a rid the parent does not have, and no api name, is refused on its path."""
    wanted = [i for i, item in enumerate(items or ()) if "api_name" not in item and item.get("rid")]
    if not wanted:
        return
    rids = [items[i]["rid"] for i in wanted]
    names = dict(existing.filter(rid__in=rids).values_list("rid", "api_name"))
    errors = {}
    for index in wanted:
        item = items[index]
        if item["rid"] in names:
            item["api_name"] = names[item["rid"]]
        else:
            errors[f"{prefix}.{index}.apiName"] = [
                f"No child has the rid {item['rid']}: a new one needs an apiName."
            ]
    if errors:
        raise serializers.ValidationError(errors)
