"""The event catalogue: every event type OMS emits, its JSON Schema, and its upcasters.

Apps register their own types from ``AppConfig.ready``::

    register_event_type("com.oms.ontology.object_type.created.v1",
                        schema={...}, description="An object type was created.")
    register_upcaster("com.oms.ontology.object_type.created.v1",
                      "com.oms.ontology.object_type.created.v2", lambda data: {...})

Type names follow ``com.oms.<area>.<entity>.<action>.v<N>``. Upcasters turn a stored event
of an older version into the current one on read, so consumers see one version per type.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

TYPE_PATTERN = re.compile(
    r"^com\.oms\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9]\d*$"
)
MAX_UPCAST_STEPS = 32

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventTypeError(ValueError):
    """A type name or schema that does not fit the catalogue."""


@dataclass(frozen=True)
class EventType:
    type: str
    schema: dict[str, Any]
    description: str
    validator: Draft202012Validator = field(compare=False, repr=False)

    @property
    def area(self) -> str:
        return self.type.split(".")[2]


_lock = threading.Lock()
_types: dict[str, EventType] = {}
_upcasters: dict[str, tuple[str, Upcaster]] = {}


def check_type_name(type: str) -> None:
    if not isinstance(type, str) or not TYPE_PATTERN.match(type):
        raise EventTypeError(
            f"Event type {type!r} does not follow com.oms.<area>.<entity>.<action>.v<N> "
            "(lower case, digits and underscores)."
        )


def register_event_type(type: str, *, schema: dict[str, Any], description: str) -> EventType:
    """Add a type to the catalogue. Registering the same definition again is a no-op."""
    check_type_name(type)
    if not isinstance(schema, dict):
        raise EventTypeError(f"{type}: schema must be a JSON Schema object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise EventTypeError(f"{type}: invalid JSON Schema: {exc.message}") from exc
    if not description or not str(description).strip():
        raise EventTypeError(f"{type}: a description is required.")
    with _lock:
        existing = _types.get(type)
        if existing is not None:
            if existing.schema != schema or existing.description != description:
                raise EventTypeError(f"{type} is already registered with another definition.")
            return existing
        entry = EventType(type, schema, str(description), Draft202012Validator(schema))
        _types[type] = entry
        return entry


def register_upcaster(old_type: str, new_type: str, fn: Upcaster) -> None:
    """Declare that events of ``old_type`` are read as ``new_type`` with ``data = fn(data)``."""
    check_type_name(old_type)
    check_type_name(new_type)
    if old_type == new_type:
        raise EventTypeError("An upcaster must change the type.")
    if not callable(fn):
        raise EventTypeError("An upcaster must be callable.")
    with _lock:
        current = _upcasters.get(old_type)
        if current is not None and current != (new_type, fn):
            raise EventTypeError(f"{old_type} already has an upcaster (to {current[0]}).")
        seen, cursor = {old_type}, new_type
        while cursor in _upcasters:
            cursor = _upcasters[cursor][0]
            if cursor in seen:
                raise EventTypeError(f"Upcasting {old_type} -> {new_type} would loop.")
            seen.add(cursor)
        _upcasters[old_type] = (new_type, fn)


def upcast(type: str, data: Any) -> tuple[str, Any]:
    """The current (type, data) for a stored event, following the upcaster chain."""
    steps = 0
    while type in _upcasters:
        new_type, fn = _upcasters[type]
        data = fn(data)
        type = new_type
        steps += 1
        if steps > MAX_UPCAST_STEPS:
            raise EventTypeError(f"Upcaster chain from {type} is too long.")
    return type, data


def current_type(type: str) -> str:
    while type in _upcasters:
        type = _upcasters[type][0]
    return type


def older_types(type: str) -> set[str]:
    """Every stored type that reads as ``type`` (itself included)."""
    return {type} | {old for old in _upcasters if current_type(old) == type}


def get(type: str) -> EventType | None:
    return _types.get(type)


def all_types() -> list[EventType]:
    return [_types[name] for name in sorted(_types)]


def validate(type: str, data: Any) -> list[str]:
    """Error messages for ``data`` against the type's schema ([] when valid or unknown)."""
    entry = _types.get(type)
    if entry is None:
        return []
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(entry.validator.iter_errors(data), key=lambda e: list(e.path))
    ]


def unregister(type: str) -> None:
    """Remove a type and any upcaster from it (tests only)."""
    with _lock:
        _types.pop(type, None)
        _upcasters.pop(type, None)
