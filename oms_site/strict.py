"""Strict request bodies: every key a client sends is written, or the request is a 400
naming it. Nothing is dropped silently, in any app.

:class:`StrictSerializer` is the base of every request serializer (the ontology's, nested
ones included, and versioning's); its OpenAPI components say so with
``additionalProperties: false``, so the schema and the server agree on unknown keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers

#: lone surrogates (no database and no answer can encode them) and NUL (PostgreSQL refuses it)
UNWRITABLE = re.compile("[\ud800-\udfff\x00]")


def shown(key: str) -> str:
    """A key as it can be rendered in an error: lone surrogates and NUL escaped."""
    if not UNWRITABLE.search(key):
        return key
    return key.encode("unicode_escape").decode("ascii")


class StrictSerializer(serializers.Serializer):
    """Refuses every key it does not write (unknown or read-only), naming each: nothing
    a client sends is dropped silently. :meth:`unknown_key` words the refusal."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refused = refused_keys(self.fields, data, self.unknown_key)
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)

    def unknown_key(self, key: str, writable: list[str]) -> str:
        return f"Unknown key; this object takes {', '.join(writable) or 'no keys'}."


def refused_keys(
    fields: Mapping[str, serializers.Field],
    data: Mapping,
    unknown: Callable[[str, list[str]], str],
) -> dict[str, list[str]]:
    """``{key: [why]}`` for the keys of ``data`` that are not writable ``fields``."""
    writable = sorted(name for name, field in fields.items() if not field.read_only)
    refused: dict[str, list[str]] = {}
    for key in data:
        if key in writable:
            continue
        field = fields.get(key)
        refused[shown(str(key))] = [
            "This field is read-only." if field is not None else unknown(str(key), writable)
        ]
    return refused


class StrictSerializerExtension(OpenApiSerializerExtension):
    """A strict serializer's request component has ``additionalProperties: false``."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if schema.get("description") == get_doc(StrictSerializer):
            del schema["description"]  # inherited: about this module, not the body
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
