"""The compatibility classifier's pure rules, usable on their own: how a type, an array's
element, a constraint or a deprecation changed, in words and with its class
(:mod:`ontology.compatibility` walks the documents and calls these)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from versioning.domain.compatibility import Compatibility as C

from .merge_policy import _RANK as WIDENING_RANK
from .rules import NUMERIC_TYPES, PRIMITIVE_TYPES

Document = dict[str, Any]
Names = Mapping[str, str]

_TYPE_WORDS = {
    "type_widened": "a widening: every old value fits",
    "type_narrowed": "a narrowing: values outside the new range must be fixed first",
    "type_converted": "a conversion with a mechanical mapping",
    "type_wrapped": "a single value becomes a list of one",
    "type_changed": "no mechanical mapping",
}


def _type_action(kind: str) -> str:
    return {"type_wrapped": "wrap_in_list", "type_changed": "convert"}.get(kind, "convert")


def _element(doc: Document) -> Any:
    return doc.get("itemType") if doc.get("baseType") == "array" else doc.get("baseType")


def _shown_type(doc: Document) -> str:
    base = doc.get("baseType")
    return f"array<{doc.get('itemType')}>" if base == "array" else str(base)


def type_shift(old: Document, new: Document) -> tuple[C, str, str]:
    """(class, kind, mapping) of a change of ``baseType``/``itemType``."""
    a_list, b_list = old.get("baseType") == "array", new.get("baseType") == "array"
    a, b = _element(old), _element(new)
    if b_list and not a_list:
        compat, kind, mapping = element_shift(a, b)
        if compat.rank > C.MIGRATION_REQUIRED.rank:
            return compat, kind, mapping
        return (
            C.MIGRATION_REQUIRED,
            "type_wrapped",
            "x -> [x]" + (f", {mapping}" if mapping else ""),
        )
    if a_list and not b_list:
        return C.INCOMPATIBLE, "type_changed", ""
    return element_shift(a, b)


def element_shift(a: Any, b: Any) -> tuple[C, str, str]:
    """(class, kind, mapping) of a scalar type change ``a -> b``."""
    if a == b:
        return C.BACKWARD_COMPATIBLE, "type_widened", ""
    ra, rb = WIDENING_RANK.get(a), WIDENING_RANK.get(b)
    if ra is not None and rb is not None and ra[0] == rb[0]:
        if rb[1] > ra[1]:
            return C.BACKWARD_COMPATIBLE, "type_widened", ""
        return C.MIGRATION_REQUIRED, "type_narrowed", f"cast {a} to {b}; values out of range fail"
    if a in NUMERIC_TYPES and b in NUMERIC_TYPES:
        return C.MIGRATION_REQUIRED, "type_converted", f"convert {a} numbers to {b}"
    if (a, b) == ("date", "timestamp"):
        return C.MIGRATION_REQUIRED, "type_converted", "a date becomes its midnight UTC"
    if (a, b) == ("timestamp", "date"):
        return C.MIGRATION_REQUIRED, "type_converted", "a timestamp becomes its UTC date"
    if (a, b) == ("timestamp", "time"):
        return C.MIGRATION_REQUIRED, "type_converted", "a timestamp becomes its UTC time of day"
    if b == "string" and a in PRIMITIVE_TYPES:
        return C.MIGRATION_REQUIRED, "type_converted", f"format {a} values as text"
    return C.INCOMPATIBLE, "type_changed", ""


def constraint_changes(old: dict, new: dict, prefix: str = "") -> list[tuple[str, str, str]]:
    """``(constraint, "loosened" | "tightened", message)`` for every constraint that
    differs. A change that cannot be proven looser (another regex) counts as tightened."""
    out: list[tuple[str, str, str]] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        name = f"{prefix}{key}"
        if key == "uniqueItems":
            out.append(
                (name, "tightened" if b else "loosened", f"{name} is {'on' if b else 'off'}")
            )
        elif a is None:
            out.append((name, "tightened", f"adds a {name} constraint"))
        elif b is None:
            out.append((name, "loosened", f"drops its {name} constraint"))
        elif key == "items" and isinstance(a, dict) and isinstance(b, dict):
            out.extend(constraint_changes(a, b, f"{name}."))
        else:
            direction, detail = _CONSTRAINT_RULES.get(key, _changed)(a, b)
            out.append((name, direction, f"{name} {detail}"))
    return out


def _enum(a: Any, b: Any) -> tuple[str, str]:
    try:
        va, vb = _values(a), _values(b)
    except TypeError:
        return _changed(a, b)
    removed = [v for v in a.get("values", []) if v not in vb]
    added = [v for v in b.get("values", []) if v not in va]
    ci_a, ci_b = bool(a.get("caseInsensitive")), bool(b.get("caseInsensitive"))
    if removed or (ci_a and not ci_b):
        gone = f"drops {', '.join(map(repr, removed))}" if removed else "becomes case-sensitive"
        return "tightened", gone
    allowed = f"allows {', '.join(map(repr, added))}" if added else "becomes case-insensitive"
    return "loosened", allowed


def _values(spec: Any) -> list[Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("values"), list):
        raise TypeError("not an enum")
    return spec["values"]


def _bounds(a: Any, b: Any) -> tuple[str, str]:
    """{min, max}: a higher min or lower max (or a new bound) is tighter."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return _changed(a, b)
    tighter = looser = False
    for key, higher_is_tighter in (("min", True), ("max", False)):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if x is None or y is None:
            tighter |= x is None
            looser |= y is None
            continue
        try:
            up = y > x
        except TypeError:
            return _changed(a, b)
        tighter |= up == higher_is_tighter
        looser |= up != higher_is_tighter
    shown = f"from {_bounds_text(a)} to {_bounds_text(b)}"
    return ("tightened" if tighter else "loosened"), shown


def _bounds_text(spec: dict) -> str:
    low, high = spec.get("min"), spec.get("max")
    return f"[{'-∞' if low is None else low}, {'∞' if high is None else high}]"


def _changed(a: Any, b: Any) -> tuple[str, str]:
    return "tightened", f"changes from {a!r} to {b!r}"


_CONSTRAINT_RULES: dict[str, Callable[[Any, Any], tuple[str, str]]] = {
    "enum": _enum,
    "range": _bounds,
    "length": _bounds,
    "arraySize": _bounds,
}


@functools.cache
def _label(key: str) -> str:
    """``pluralDisplayName`` -> ``plural display name`` (the keys are few: cached)."""
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in key)
    return out.strip()


def _slug(word: str) -> str:
    return word.replace(" ", "_")


def _deprecation_note(deprecation: Any) -> str:
    if not isinstance(deprecation, dict):
        return ""
    message = deprecation.get("message") or ""
    deadline = deprecation.get("deadline")
    return f"{message} (until {deadline})".strip() if deadline else message
