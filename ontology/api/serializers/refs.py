"""References between entities: ``{rid, apiName}`` out, an api name or ``{rid}`` in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q
from django.db.models.functions import Lower
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from ...limits import shown


@dataclass(frozen=True)
class Ref:
    """A reference as given by a client: an api name, a rid, or both."""

    api_name: str | None = None
    rid: uuid.UUID | None = None

    def __str__(self) -> str:
        return self.api_name or str(self.rid)


_REF_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rid": {"type": "string", "format": "uuid"},
        "apiName": {"type": "string"},
    },
}


class RefFieldExtension(OpenApiSerializerFieldExtension):
    """Responses carry ``{rid, apiName}``; requests take an api name or such an object."""

    target_class = "ontology.api.serializers.refs.RefField"

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
        if isinstance(data, dict) and set(data) - {"rid", "apiName"}:
            raise serializers.ValidationError(
                {
                    shown(str(key)): ['Unknown key; a reference takes "rid" or "apiName".']
                    for key in sorted(set(data) - {"rid", "apiName"}, key=str)
                }
            )
        if isinstance(data, dict) and (data.get("rid") or data.get("apiName")):
            if data.get("rid"):
                try:
                    return Ref(rid=uuid.UUID(str(data["rid"])))
                except ValueError:
                    self.fail("invalid_rid")
            return self.to_internal_value(data["apiName"])
        self.fail("invalid")

    def to_representation(self, value: Model) -> dict[str, str]:
        return {"rid": str(value.rid), "apiName": value.api_name}


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
