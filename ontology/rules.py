"""The ontology's rule set, as pure functions over plain values.

The checks of the rule set over documents (:mod:`ontology.rule_set`), which every door
that writes an ontology ends in (admin, API, merge, bundle import); a model's ``clean()``
calls the few a row must pass before it is written (docs/documents.md, "Rules of a
row"). Each check returns error messages; callers attach them to the field at fault.
"""

from __future__ import annotations

import datetime as dt
import re
import reprlib
from decimal import Decimal, InvalidOperation
from typing import Any

from . import limits
from .choices import BaseType

API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
PASCAL_RE = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
CAMEL_RE = re.compile(r"^[a-z][A-Za-z0-9_]*$")
#: api names no entity, child or link side may take, each with why (docs/documents.md
#: "Reserved words"); compared case-insensitively
RESERVED_WORDS: dict[str, str] = {
    "ontology": "it names the whole schema: the generated OpenAPI's title and the generated "
    "JSON Schema's $id (urn:oms:ontology:...), and the root of the clients built on them",
    "object": "it is the generic object of the generated schemas and REST surface "
    "(/objects/...) and the root class of most target languages (Object)",
    "property": "it is the metamodel's word for an object type's fields; a type or field "
    "so named reads as the metamodel in generated code and queries",
    "link": "it is the metamodel's word for a link between objects: the generated REST "
    "surface reads links under /links/",
    "relation": "it is the metamodel's other word for a link (the link types of generated "
    "clients); a type or field so named hides which one is meant",
    "rid": "every entity's identity in documents, bundles, events and API references "
    "({rid, apiName}) is its rid",
    "primaryKey": "it is the key naming an object type's primary key in documents and the "
    "path parameter of every object in the generated OpenAPI (/objects/{Type}/{primaryKey})",
    "typeId": "it is kept for the type discriminator of an object read through an "
    "interface (which object type it is)",
    "ontologyObject": "it is kept for the base type every object of the ontology shares in "
    "generated clients",
}
RESERVED_API_NAMES = frozenset(word.lower() for word in RESERVED_WORDS)
_RESERVED_BY_LOWER = {word.lower(): word for word in RESERVED_WORDS}

PASCAL = "PascalCase"
CAMEL = "camelCase"
ANY_CASE = "any"

NUMERIC_TYPES = frozenset({"integer", "short", "long", "float", "double", "decimal", "byte"})
INTEGRAL_TYPES = frozenset({"integer", "short", "long", "byte"})
TEMPORAL_TYPES = frozenset({"date", "time", "timestamp"})
PRIMITIVE_TYPES = NUMERIC_TYPES | TEMPORAL_TYPES | {"string", "boolean"}

PRIMARY_KEY_TYPES = frozenset({"string", "integer", "short"})
PRIMARY_KEY_TYPES_WITH_WARNING = frozenset({"long", "date", "timestamp", "boolean", "byte"})

MAX_STRUCT_FIELDS = limits.STRUCT_FIELDS
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
        word = _RESERVED_BY_LOWER[name.lower()]
        return [
            f"'{name}' is a reserved word and cannot be an API name: {RESERVED_WORDS[word]}. "
            f"Use '{safe_name(name, case)}' instead."
        ]
    if case == PASCAL and not PASCAL_RE.match(name):
        return [f"'{name}' must be PascalCase (start with an upper-case letter)."]
    if case == CAMEL and not CAMEL_RE.match(name):
        return [f"'{name}' must be camelCase (start with a lower-case letter)."]
    return []


def safe_name(name: str, case: str = ANY_CASE) -> str:
    """The name suggested for a reserved ``name``: the reserved word as it is spelled,
    with ``Entity`` (PascalCase, for types) or ``Value`` (camelCase, for properties, fields
    and link sides) appended, which no reserved word ends with."""
    word = _RESERVED_BY_LOWER.get(name.lower(), name)
    pascal = case == PASCAL or (case == ANY_CASE and name[:1].isupper())
    if pascal:
        return word[:1].upper() + word[1:] + "Entity"
    return word[:1].lower() + word[1:] + "Value"


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


def check_link_end(side: str, object_type: bool, interface: bool, cardinality: str) -> dict:
    """A link's ``side`` ("source" / "target") names exactly one object type or interface,
    and an interface only on a many-to-many link (a foreign key lives on one object type).
    Messages keyed by ``"end"`` (the side at fault) and ``"interface"`` (its interface)."""
    out: dict[str, list[str]] = {}
    if object_type == interface:
        out["end"] = [f"A link's {side} is exactly one object type or one interface."]
    elif interface and cardinality != "MANY_TO_MANY":
        out["interface"] = [
            f"Only a many-to-many link can have an interface as its {side}: a one-to-one or "
            "one-to-many link keeps its foreign key on one object type."
        ]
    return out


def check_struct_field_count(count: int) -> list[str]:
    if count < 1:
        return ["A struct type needs at least one field."]
    if count > MAX_STRUCT_FIELDS:
        return [f"A struct type has at most {MAX_STRUCT_FIELDS} fields (it has {count})."]
    return []


def check_examples(examples: Any) -> list[str]:
    """Example values (documentation): a list of at most ``examples`` texts of at most
    ``example_length`` characters each (a protected value's token counts as a text)."""
    if not isinstance(examples, list):
        return ["Examples are a list of texts."]
    errors = []
    if len(examples) > limits.EXAMPLES:
        errors.append(limits.over("examples", len(examples)))
    for index, value in enumerate(examples):
        if not isinstance(value, str):
            errors.append(f"Example {index} is not a text.")
        elif len(value) > limits.EXAMPLE_LENGTH:
            errors.append(f"Example {index}: {limits.over('example_length', len(value))}")
    return errors


# --- value-type constraints ------------------------------------------------------------


def _show(value: Any) -> str:
    """A client's value in a message: short, and safe at any nesting depth."""
    return reprlib.repr(value)


def _coerce(value: Any, base_type: str) -> Any:
    """The value as a comparable Python value of the base type, or raise ValueError."""
    if base_type in INTEGRAL_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{_show(value)} is not a whole number")
        return value
    if base_type in NUMERIC_TYPES:
        if isinstance(value, bool):
            raise ValueError(f"{_show(value)} is not a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{_show(value)} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{_show(value)} is not a finite number")
        return number
    if base_type == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{_show(value)} is not an ISO date (YYYY-MM-DD)") from None
    if base_type == "time":
        return _time_of_day(value)
    if base_type == "timestamp":
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{_show(value)} is not an ISO timestamp") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if base_type == "string":
        if not isinstance(value, str):
            raise ValueError(f"{_show(value)} is not a string")
        return value
    if base_type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{_show(value)} is not a boolean")
        return value
    raise ValueError(f"{base_type} values cannot be constrained this way")


#: a time of day (the ``time`` base type): 24-hour, optional seconds and fraction, no offset
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
_TIME_OF_DAY = re.compile(TIME_OF_DAY_PATTERN)


def _time_of_day(value: Any) -> dt.time:
    """A time of day: ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.ffffff``, 24-hour, no offset
    (a time of day names the same moment of any day wherever it is read)."""
    if not isinstance(value, str) or not _TIME_OF_DAY.match(value):
        raise ValueError(f"{_show(value)} is not a time of day (HH:MM[:SS[.ffffff]], no offset)")
    return dt.time.fromisoformat(value)


def _bounds(
    spec: Any, name: str, base_type: str, errors: list[str], non_negative: bool = False
) -> None:
    if not isinstance(spec, dict) or not spec:
        errors.append(f"{name} takes an object with 'min' and/or 'max'.")
        return
    unknown = _unknown(spec, {"min", "max"}, name)
    if unknown:
        errors.append(unknown)
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


def _unknown(spec: dict, allowed: set[str], where: str) -> str | None:
    """The message naming the keys of ``spec`` outside ``allowed``, if any."""
    unknown = sorted((limits.shown(str(k)) for k in set(spec) - allowed), key=str)
    if not unknown:
        return None
    shown = ", ".join(f"{where}.{k}" for k in unknown)
    return f"Unknown key(s): {shown}; {where} takes {', '.join(sorted(allowed))}."


_REPEAT = re.compile(r"(?<!\\)\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def check_pattern(pattern: str) -> list[str]:
    """A regular expression within the limits (length, nesting, counted repeats) that
    compiles; checked in that order, so that nothing big reaches the compiler."""
    if len(pattern) > limits.PATTERN_LENGTH:
        return [limits.over("pattern_length", len(pattern))]
    depth = deepest = 0
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > limits.PATTERN_NESTING:
        return [limits.over("pattern_nesting", deepest)]
    for match in _REPEAT.finditer(pattern):
        bounds = [int(b) for b in match.groups() if b]
        if bounds and max(bounds) > limits.PATTERN_REPEAT:
            return [limits.over("pattern_repeat", max(bounds))]
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return [f"is not a valid regular expression ({exc})."]
    return []


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
    if not path:
        shape = limits.check_json(constraints)
        if shape:
            return [f"{where}{name}: {messages[0]}" for name, messages in shape.items()]
    unknown = sorted((limits.shown(str(k)) for k in set(constraints) - CONSTRAINT_KEYS), key=str)
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
        elif len(spec["values"]) > limits.ENUM_VALUES:
            refuse("enum.values", limits.over("enum_values", len(spec["values"])))
        else:
            unknown = _unknown(spec, {"values", "caseInsensitive"}, f"{where}enum")
            if unknown:
                errors.append(unknown)
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
            refuse(
                "range",
                f"a range applies to numbers, dates, times and timestamps, not {base_type}.",
            )
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
            unknown = _unknown(spec, {"pattern"}, f"{where}regex")
            if unknown:
                errors.append(unknown)
            for message in check_pattern(spec["pattern"]):
                refuse("regex.pattern", message)
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
