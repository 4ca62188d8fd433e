"""The ontology's rule set, as pure functions over plain values.

One rule set serves model validation (``Model.clean``), admin forms (which call
``full_clean``) and API serializers (which call the services, which call ``full_clean``).
Each check returns error messages; callers attach them to the field at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .choices import BaseType

API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
PASCAL_RE = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
CAMEL_RE = re.compile(r"^[a-z][A-Za-z0-9_]*$")
RESERVED_API_NAMES = frozenset(
    n.lower()
    for n in (
        "ontology",
        "object",
        "property",
        "link",
        "relation",
        "rid",
        "primaryKey",
        "typeId",
        "ontologyObject",
    )
)

PASCAL = "PascalCase"
CAMEL = "camelCase"
ANY_CASE = "any"

NUMERIC_TYPES = frozenset({"integer", "short", "long", "float", "double", "decimal", "byte"})
INTEGRAL_TYPES = frozenset({"integer", "short", "long", "byte"})
TEMPORAL_TYPES = frozenset({"date", "timestamp"})
PRIMITIVE_TYPES = NUMERIC_TYPES | TEMPORAL_TYPES | {"string", "boolean"}

PRIMARY_KEY_TYPES = frozenset({"string", "integer", "short"})
PRIMARY_KEY_TYPES_WITH_WARNING = frozenset({"long", "date", "timestamp", "boolean", "byte"})

MAX_STRUCT_FIELDS = 10
CONSTRAINT_KEYS = frozenset(
    {"enum", "range", "length", "regex", "format", "arraySize", "uniqueItems", "items"}
)
FORMATS = frozenset({"uuid", "rid"})


def check_api_name(name: str, case: str = ANY_CASE) -> list[str]:
    """Letters, digits and underscore, starting with a letter, 1-100 characters, not reserved."""
    if not name:
        return ["An API name is required."]
    if len(name) > 100:
        return ["An API name has at most 100 characters."]
    if not API_NAME_RE.match(name):
        return ["An API name uses letters, digits and underscore, starting with a letter."]
    if name.lower() in RESERVED_API_NAMES:
        return [f"'{name}' is a reserved word and cannot be an API name."]
    if case == PASCAL and not PASCAL_RE.match(name):
        return [f"'{name}' must be PascalCase (start with an upper-case letter)."]
    if case == CAMEL and not CAMEL_RE.match(name):
        return [f"'{name}' must be camelCase (start with a lower-case letter)."]
    return []


def check_type_shape(
    base_type: str, item_type: str | None, has_struct: bool
) -> dict[str, list[str]]:
    """A base type with its array item type and struct reference, as a consistent whole."""
    errors: dict[str, list[str]] = {}
    if base_type == BaseType.ARRAY:
        if not item_type:
            errors["item_type"] = ["An array needs an item type."]
        elif item_type in (BaseType.VECTOR, BaseType.ARRAY):
            errors["item_type"] = [f"An array cannot hold {item_type} values."]
    elif item_type:
        errors["item_type"] = ["Only an array has an item type."]
    element = item_type if base_type == BaseType.ARRAY else base_type
    if element == BaseType.STRUCT and not has_struct:
        errors["struct_type"] = ["A struct property must name its struct type."]
    if element != BaseType.STRUCT and has_struct:
        errors["struct_type"] = [
            "Only a struct property (or array of structs) names a struct type."
        ]
    return errors


def check_primary_key_type(
    base_type: str, item_type: str | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a property used as primary key."""
    if base_type in PRIMARY_KEY_TYPES:
        return [], []
    if base_type in PRIMARY_KEY_TYPES_WITH_WARNING:
        return [], [
            f"A {base_type} primary key is allowed but string, integer or short is preferred."
        ]
    shown = f"array<{item_type}>" if base_type == BaseType.ARRAY else base_type
    return [f"A primary key cannot be of type {shown}; use string, integer or short."], []


def check_title_type(base_type: str) -> list[str]:
    if base_type in PRIMITIVE_TYPES:
        return []
    return [f"A title property must be of a primitive type, not {base_type}."]


def check_struct_field_count(count: int) -> list[str]:
    if count < 1:
        return ["A struct type needs at least one field."]
    if count > MAX_STRUCT_FIELDS:
        return [f"A struct type has at most {MAX_STRUCT_FIELDS} fields (it has {count})."]
    return []


# --- value-type constraints ------------------------------------------------------------


def _coerce(value: Any, base_type: str) -> Any:
    """The value as a comparable Python value of the base type, or raise ValueError."""
    if base_type in INTEGRAL_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        return value
    if base_type in NUMERIC_TYPES:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    if base_type == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
    if base_type == "timestamp":
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO timestamp") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if base_type == "string":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return value
    if base_type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a boolean")
        return value
    raise ValueError(f"{base_type} values cannot be constrained this way")


def _bounds(
    spec: Any, name: str, base_type: str, errors: list[str], non_negative: bool = False
) -> None:
    if not isinstance(spec, dict) or not set(spec) <= {"min", "max"} or not spec:
        errors.append(f"{name} takes an object with 'min' and/or 'max'.")
        return
    values = {}
    for key in ("min", "max"):
        if key in spec and spec[key] is not None:
            try:
                values[key] = _coerce(spec[key], base_type)
            except ValueError as exc:
                errors.append(f"{name}.{key}: {exc}.")
                return
            if non_negative and values[key] < 0:
                errors.append(f"{name}.{key} cannot be negative.")
    if "min" in values and "max" in values and values["min"] > values["max"]:
        errors.append(f"{name}: min ({spec['min']}) must not be greater than max ({spec['max']}).")


def check_constraints(
    constraints: Any, base_type: str, item_type: str | None = None, path: str = ""
) -> list[str]:
    """Every constraint must fit the base type; returns messages prefixed with their path."""
    errors: list[str] = []
    where = f"{path}." if path else ""
    if constraints in (None, {}):
        return errors
    if not isinstance(constraints, dict):
        return ["Constraints must be a JSON object."]
    unknown = sorted(set(constraints) - CONSTRAINT_KEYS)
    if unknown:
        errors.append(
            f"Unknown constraint(s): {', '.join(where + u for u in unknown)}; "
            f"allowed: {', '.join(sorted(CONSTRAINT_KEYS))}."
        )
    is_array = base_type == BaseType.ARRAY

    def refuse(key: str, reason: str) -> None:
        errors.append(f"{where}{key}: {reason}")

    if "enum" in constraints:
        spec = constraints["enum"]
        if is_array or base_type not in PRIMITIVE_TYPES - {"boolean"}:
            refuse("enum", f"an enum cannot constrain a {base_type} value.")
        elif (
            not isinstance(spec, dict)
            or not isinstance(spec.get("values"), list)
            or not spec["values"]
        ):
            refuse(
                "enum", "takes {'values': [...], 'caseInsensitive': false} with at least one value."
            )
        else:
            if set(spec) - {"values", "caseInsensitive"}:
                refuse("enum", "only 'values' and 'caseInsensitive' are allowed.")
            if "caseInsensitive" in spec and not isinstance(spec["caseInsensitive"], bool):
                refuse("enum.caseInsensitive", "must be true or false.")
            if spec.get("caseInsensitive") and base_type != "string":
                refuse("enum.caseInsensitive", "applies to string values only.")
            seen = set()
            for value in spec["values"]:
                try:
                    coerced = _coerce(value, base_type)
                except ValueError as exc:
                    refuse("enum.values", f"{exc}; every value must be a {base_type}.")
                    break
                key = (
                    coerced.lower()
                    if spec.get("caseInsensitive") and isinstance(coerced, str)
                    else coerced
                )
                if key in seen:
                    refuse("enum.values", f"{value!r} is listed twice.")
                    break
                seen.add(key)
    if "range" in constraints:
        if base_type not in NUMERIC_TYPES | TEMPORAL_TYPES:
            refuse("range", f"a range applies to numbers, dates and timestamps, not {base_type}.")
        else:
            _bounds(constraints["range"], f"{where}range", base_type, errors)
    if "length" in constraints:
        if base_type != "string":
            refuse("length", f"a length bound applies to strings, not {base_type}.")
        else:
            _bounds(constraints["length"], f"{where}length", "integer", errors, non_negative=True)
    if "regex" in constraints:
        spec = constraints["regex"]
        if base_type != "string":
            refuse("regex", f"a regular expression applies to strings, not {base_type}.")
        elif (
            not isinstance(spec, dict)
            or not isinstance(spec.get("pattern"), str)
            or not spec["pattern"]
        ):
            refuse("regex", "takes {'pattern': '...'}.")
        else:
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                refuse("regex.pattern", f"is not a valid regular expression ({exc}).")
    if "format" in constraints:
        if base_type != "string":
            refuse("format", f"a UUID/RID format applies to strings, not {base_type}.")
        elif constraints["format"] not in FORMATS:
            refuse("format", f"must be one of {', '.join(sorted(FORMATS))}.")
    for key in ("arraySize", "uniqueItems", "items"):
        if key in constraints and not is_array:
            refuse(key, f"applies to arrays, not {base_type}.")
    if is_array:
        if "arraySize" in constraints:
            _bounds(
                constraints["arraySize"], f"{where}arraySize", "integer", errors, non_negative=True
            )
        if "uniqueItems" in constraints and not isinstance(constraints["uniqueItems"], bool):
            refuse("uniqueItems", "must be true or false.")
        if "items" in constraints:
            if not item_type:
                refuse("items", "needs the array's item type.")
            else:
                errors.extend(
                    check_constraints(constraints["items"], item_type, None, f"{where}items")
                )
    return errors
