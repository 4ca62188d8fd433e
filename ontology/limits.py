"""Entity size limits: declared once here, read by the API serializers and the rules.

A write is measured against them before any heavy work (field validation, queries), so
that no request at the limits holds a worker for long. Each limit has a default and can be
changed in the settings (``OMS_LIMITS = {"properties": 300}``) or the environment
(``OMS_LIMIT_PROPERTIES=300``; the environment wins). They are read once, at start-up.
docs/api.md lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from oms_site.strict import UNWRITABLE as UNWRITABLE_TEXT
from oms_site.strict import shown


@dataclass(frozen=True)
class Limit:
    name: str
    default: int
    meaning: str

    @property
    def env(self) -> str:
        return f"OMS_LIMIT_{self.name.upper()}"


DECLARED = (
    Limit("properties", 150, "properties per object type"),
    Limit("struct_fields", 10, "fields per struct type"),
    Limit("children", 200, "items in any other list of a write (interfaces, link constraints…)"),
    Limit("enum_values", 1000, "values of an enum constraint"),
    Limit("pattern_length", 1000, "characters of a regex constraint's pattern"),
    Limit("pattern_nesting", 20, "nested groups in a regex pattern"),
    Limit("pattern_repeat", 1000, "bound of a counted repeat in a regex pattern ({n,m})"),
    Limit("description_length", 10000, "characters of a description"),
    Limit("examples", 10, "example values of a property or shared property"),
    Limit("example_length", 200, "characters of an example value"),
    Limit("json_depth", 32, "nesting depth of a JSON body"),
)


def read(limit: Limit) -> int:
    """The value of ``limit``: the environment, else the settings, else its default."""
    raw = os.environ.get(limit.env)
    if raw is None:
        raw = getattr(settings, "OMS_LIMITS", {}).get(limit.name, limit.default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{limit.env} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ImproperlyConfigured(f"{limit.env} must be at least 1.")
    return value


VALUES: dict[str, int] = {limit.name: read(limit) for limit in DECLARED}

PROPERTIES = VALUES["properties"]
STRUCT_FIELDS = VALUES["struct_fields"]
CHILDREN = VALUES["children"]
ENUM_VALUES = VALUES["enum_values"]
PATTERN_LENGTH = VALUES["pattern_length"]
PATTERN_NESTING = VALUES["pattern_nesting"]
PATTERN_REPEAT = VALUES["pattern_repeat"]
DESCRIPTION_LENGTH = VALUES["description_length"]
EXAMPLES = VALUES["examples"]
EXAMPLE_LENGTH = VALUES["example_length"]
JSON_DEPTH = VALUES["json_depth"]


def over(name: str, count: int | None = None) -> str:
    """The message for a value over the limit ``name`` (and by how much, when known)."""
    meaning = next(limit.meaning for limit in DECLARED if limit.name == name)
    got = "" if count is None else f"; got {count}"
    return f"At most {VALUES[name]} {meaning} (limit '{name}'){got}."


def list_limit(name: str) -> dict[str, Any]:
    """Keyword arguments that bound a DRF list field or ``many=True`` serializer by the
    limit ``name``, refusing a longer list before any of its items is validated."""
    return {"max_length": VALUES[name], "error_messages": {"max_length": over(name)}}


# --- the shape of a JSON body ----------------------------------------------------------


def check_json(value: Any, path: str = "") -> dict[str, list[str]]:
    """Errors of a parsed JSON value that no field could report: nesting deeper than
    ``json_depth``, lone surrogates and NUL characters, keyed by the path of the first
    offending value. Iterative, so any depth is safe."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if UNWRITABLE_TEXT.search(item):
                return {where or "non_field_errors": [UNWRITABLE]}
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth >= JSON_DEPTH:
            return {where or "non_field_errors": [over_depth()]}
        if isinstance(item, dict):
            for key, child in item.items():
                if UNWRITABLE_TEXT.search(key):
                    return {where or "non_field_errors": [f"The key '{shown(key)}': {UNWRITABLE}"]}
                stack.append((child, f"{where}.{key}" if where else key, depth + 1))
        else:
            for index, child in enumerate(item):
                stack.append((child, f"{where}.{index}" if where else str(index), depth + 1))
    return {}


UNWRITABLE = "Text cannot hold a NUL character or a lone surrogate."


def over_depth() -> str:
    return f"JSON nested deeper than {JSON_DEPTH} levels (limit 'json_depth')."
