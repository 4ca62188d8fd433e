"""The compatibility classifier: what a change of the ontology means to its consumers.

Pure Python over canonical documents (docs/documents.md), registered with versioning from
``OntologyConfig.ready``. ``classify(before, after)`` takes two sets of top-level
documents keyed by rid (only the changed ones are needed) and returns every change with
its class (see docs/releases.md for the table of rules):

- COMPATIBLE: documentation and display (descriptions, display names, icons, visibility,
  positions, title property, PII flag, status changes such as a deprecation);
- BACKWARD_COMPATIBLE: something new (entity, optional property or field, interface,
  link constraint), a widening (``short -> integer -> long``, ``float -> double``), a
  loosened constraint, a required property made optional;
- MIGRATION_REQUIRED: a mechanical mapping exists (rename, narrowing or numeric
  conversion, to string, date <-> timestamp, a value turning into a list, a link re-based
  on another foreign key);
- INCOMPATIBLE: data or consumers break with no mapping (removal, other type change, a
  tightened constraint, a new required property — the model has no default values —,
  an existing one made required, a new primary key, a narrower cardinality).

Anything this module does not know is INCOMPATIBLE: a checker that errs, errs safe.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from versioning.domain.compatibility import ClassifiedChange
from versioning.domain.compatibility import Compatibility as C

from .merge_policy import _RANK as WIDENING_RANK
from .rules import NUMERIC_TYPES, PRIMITIVE_TYPES

Document = dict[str, Any]
Names = Mapping[str, str]

#: purely documentary fields of any entity or child
DISPLAY_FIELDS = frozenset(
    {
        "description",
        "displayName",
        "pluralDisplayName",
        "icon",
        "visibility",
        "position",
        "titleProperty",
        "replacedBy",
        "sharedProperty",
    }
)
#: children keyed by rid, per kind, with the word used in messages
CHILDREN = {
    "objectType": ("properties", "property"),
    "structType": ("fields", "field"),
    "interface": ("linkConstraints", "link constraint"),
}
#: sets of references ``{rid: true}``, per kind
REFERENCE_SETS = {
    "objectType": {"interfaces": "interface"},
    "interface": {"extends": "parent interface", "properties": "shared property"},
}
LINK_CARDINALITY = ("ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_MANY")
CONSTRAINT_CARDINALITY = ("ONE", "MANY")
KIND_WORDS = {
    "objectType": "object type",
    "linkType": "link type",
    "valueType": "value type",
    "structType": "struct type",
    "sharedProperty": "shared property",
    "interface": "interface",
}


def classify(
    before: Mapping[str, Document], after: Mapping[str, Document], names: Names | None = None
) -> list[ClassifiedChange]:
    """Every change from ``before`` to ``after`` (documents keyed by rid), classified.

    ``names`` (``rid -> apiName``, optional) names referenced entities in messages."""
    out: list[ClassifiedChange] = []
    for rid in sorted(set(before) | set(after)):
        old, new = before.get(rid), after.get(rid)
        if old == new:
            continue
        _Entity(rid, old, new, {} if names is None else names, out).classify()
    out.sort(key=lambda c: (c.entity.lower(), c.path, c.kind))
    return out


class _Entity:
    """Collects the classified changes of one top-level entity."""

    def __init__(
        self,
        rid: str,
        old: Document | None,
        new: Document | None,
        names: Names,
        out: list[ClassifiedChange],
    ) -> None:
        self.rid, self.old, self.new, self.names, self.out = rid, old, new, names, out
        doc = new or old or {}
        self.kind = doc.get("kind", "")
        self.word = KIND_WORDS.get(self.kind, self.kind or "entity")
        self.name = doc.get("apiName", rid)

    def add(
        self,
        path: tuple[str, ...],
        kind: str,
        compatibility: C,
        message: str,
        *,
        entity: str | None = None,
        migration: dict[str, Any] | None = None,
        note: str = "",
        **details: Any,
    ) -> None:
        self.out.append(
            ClassifiedChange(
                rid=self.rid,
                entity_kind=self.kind,
                entity=entity or self.name,
                path=path,
                kind=kind,
                compatibility=compatibility,
                message=message,
                migration=migration,
                note=note,
                details=details,
            )
        )

    def ref(self, rid: Any) -> str:
        return str(self.names.get(rid, rid)) if rid else "nothing"

    def classify(self) -> None:
        old, new = self.old, self.new
        if old is None:
            self.add((), "added", C.BACKWARD_COMPATIBLE, f"New {self.word} {self.name}.")
            return
        if new is None:
            self.add(
                (),
                "removed",
                C.INCOMPATIBLE,
                f"The {self.word} {self.name} was removed.",
                migration={"action": "remove", "what": self.name},
            )
            return
        if old.get("apiName") != new.get("apiName"):
            self.rename((), self.word, old.get("apiName"), new.get("apiName"), self.name)
        self.fields((), old, new, self.name, self.word, top=True)

    # --- one document or child, field by field ----------------------------------------------

    def fields(
        self,
        path: tuple[str, ...],
        old: Document,
        new: Document,
        entity: str,
        word: str,
        *,
        top: bool = False,
    ) -> None:
        typed = False
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            if a == b or key in ("kind", "rid", "apiName"):
                continue
            at = (*path, key)
            if key in ("baseType", "itemType"):
                if not typed:
                    typed = True
                    self.type_change(path, old, new, entity, word)
            elif key == "structType":
                if _element(old) == _element(new) == "struct":
                    self.add(
                        at,
                        "struct_type_changed",
                        C.INCOMPATIBLE,
                        f"{entity} holds {self.ref(b)} structs instead of {self.ref(a)}.",
                        entity=entity,
                        migration={"action": "convert", "from": a, "to": b},
                    )
            elif key in DISPLAY_FIELDS:
                self.add(
                    at,
                    f"{key}_changed",
                    C.COMPATIBLE,
                    f"{_label(key).capitalize()} of {entity} changed.",
                    entity=entity,
                    old=a,
                    new=b,
                )
            elif key == "status":
                self.status(at, a, b, new, entity)
            elif key == "deprecation":
                if old.get("status") == new.get("status"):
                    self.add(
                        at,
                        "deprecation_changed",
                        C.COMPATIBLE,
                        f"The deprecation notice of {entity} changed.",
                        entity=entity,
                        note=_deprecation_note(b),
                    )
            elif key == "required":
                self.required(at, bool(a), bool(b), entity)
            elif key == "pii":
                self.add(
                    at,
                    "pii_changed",
                    C.COMPATIBLE,
                    f"{entity} is {'now' if b else 'no longer'} marked PII.",
                    entity=entity,
                    note="PII metadata is masked for users without the PII grant." if b else "",
                )
            elif key == "valueType":
                self.value_type(at, a, b, entity)
            elif key == "constraints":
                self.constraints(at, a or {}, b or {}, entity)
            elif key == "cardinality":
                chain = LINK_CARDINALITY if self.kind == "linkType" else CONSTRAINT_CARDINALITY
                self.cardinality(at, a, b, chain, entity)
            elif top and key in CHILDREN.get(self.kind, ("",))[:1]:
                self.children(key, a or {}, b or {})
            elif top and key in REFERENCE_SETS.get(self.kind, {}):
                self.reference_set(key, a or {}, b or {})
            elif self.kind == "linkType" and key in ("sourceSide", "targetSide"):
                self.link_side(key, a or {}, b or {})
            else:
                self.reference_or_unknown(at, key, a, b, entity)

    def reference_or_unknown(
        self, at: tuple[str, ...], key: str, a: Any, b: Any, entity: str
    ) -> None:
        if key in ("source", "target", "targetObjectType", "targetInterface"):
            self.add(
                at,
                f"{key}_changed",
                C.INCOMPATIBLE,
                f"{entity} now points at {self.ref(b)} instead of {self.ref(a)}.",
                entity=entity,
                migration={"action": "relink", "field": key, "from": a, "to": b},
            )
        elif key == "primaryKey":
            self.add(
                at,
                "primary_key_changed",
                C.INCOMPATIBLE,
                f"{entity} is identified by another property: every reference to its "
                "objects changes.",
                entity=entity,
                migration={"action": "relink", "field": key, "from": a, "to": b},
            )
        elif key == "foreignKeyProperty":
            self.add(
                at,
                "foreign_key_changed",
                C.MIGRATION_REQUIRED,
                f"{entity} is derived from another foreign-key property.",
                entity=entity,
                migration={"action": "relink", "field": key, "from": a, "to": b},
            )
        else:
            self.add(
                at,
                "unclassified",
                C.INCOMPATIBLE,
                f"{entity}: '{'.'.join(at)}' changed in a way the classifier does not know.",
                entity=entity,
                migration={"action": "verify", "field": ".".join(at)},
                old=a,
                new=b,
            )

    # --- names --------------------------------------------------------------------------------

    def rename(self, path: tuple[str, ...], word: str, old: Any, new: Any, entity: str) -> None:
        self.add(
            (*path, "apiName"),
            "renamed",
            C.MIGRATION_REQUIRED,
            f"The {word} {old} is now called {new}.",
            entity=entity,
            migration={"action": "rename", "from": old, "to": new},
        )

    # --- types --------------------------------------------------------------------------------

    def type_change(
        self, path: tuple[str, ...], old: Document, new: Document, entity: str, word: str
    ) -> None:
        before, after = _shown_type(old), _shown_type(new)
        compat, kind, mapping = type_shift(old, new)
        message = f"The {word} {entity} changes type from {before} to {after}"
        step = None
        if compat is not C.BACKWARD_COMPATIBLE:
            step = {"action": _type_action(kind), "from": before, "to": after}
            if mapping:
                step["mapping"] = mapping
        self.add(
            (*path, "baseType"),
            kind,
            compat,
            f"{message} ({_TYPE_WORDS[kind]}).",
            entity=entity,
            migration=step,
            note=mapping,
            old=before,
            new=after,
        )

    def required(self, at: tuple[str, ...], a: bool, b: bool, entity: str) -> None:
        if b:
            self.add(
                at,
                "made_required",
                C.INCOMPATIBLE,
                f"{entity} is now required; the model has no default value, so existing "
                "data without one becomes invalid.",
                entity=entity,
                migration={"action": "backfill", "what": entity},
            )
        else:
            self.add(
                at,
                "made_optional",
                C.BACKWARD_COMPATIBLE,
                f"{entity} is now optional.",
                entity=entity,
            )

    def value_type(self, at: tuple[str, ...], a: Any, b: Any, entity: str) -> None:
        if b is None:
            self.add(
                at,
                "value_type_removed",
                C.BACKWARD_COMPATIBLE,
                f"{entity} is no longer constrained by the value type {self.ref(a)}.",
                entity=entity,
            )
            return
        self.add(
            at,
            "value_type_changed" if a else "value_type_added",
            C.INCOMPATIBLE,
            f"{entity} now uses the value type {self.ref(b)}; its constraints may reject "
            "existing values.",
            entity=entity,
            migration={"action": "verify", "what": entity, "valueType": self.ref(b)},
        )

    def constraints(self, at: tuple[str, ...], a: dict, b: dict, entity: str) -> None:
        for name, direction, message in constraint_changes(a, b):
            if direction == "loosened":
                self.add(
                    (*at, *name.split(".")),
                    "constraint_loosened",
                    C.BACKWARD_COMPATIBLE,
                    f"{entity}: {message}",
                    entity=entity,
                )
            else:
                self.add(
                    (*at, *name.split(".")),
                    "constraint_tightened",
                    C.INCOMPATIBLE,
                    f"{entity}: {message}; existing values may no longer be valid.",
                    entity=entity,
                    migration={"action": "verify", "what": entity, "constraint": name},
                )

    def cardinality(
        self, at: tuple[str, ...], a: Any, b: Any, chain: tuple[str, ...], entity: str
    ) -> None:
        if a in chain and b in chain and chain.index(b) > chain.index(a):
            self.add(
                at,
                "cardinality_widened",
                C.MIGRATION_REQUIRED,
                f"{entity} changes cardinality from {a} to {b}: a side that held one object "
                "now holds a list.",
                entity=entity,
                migration={"action": "wrap_in_list", "from": a, "to": b},
            )
        else:
            self.add(
                at,
                "cardinality_narrowed",
                C.INCOMPATIBLE,
                f"{entity} changes cardinality from {a} to {b}: existing links may exceed it.",
                entity=entity,
                migration={"action": "verify", "what": entity, "from": a, "to": b},
            )

    def status(self, at: tuple[str, ...], a: Any, b: Any, new: Document, entity: str) -> None:
        if b == "DEPRECATED":
            self.add(
                at,
                "deprecated",
                C.COMPATIBLE,
                f"{entity} is deprecated.",
                entity=entity,
                note=_deprecation_note(new.get("deprecation")),
            )
        else:
            self.add(
                at,
                "status_changed",
                C.COMPATIBLE,
                f"{entity} changes status from {a} to {b}.",
                entity=entity,
            )

    # --- children and reference sets ----------------------------------------------------------

    def children(self, key: str, old: dict, new: dict) -> None:
        word = CHILDREN[self.kind][1]
        for crid in sorted(set(old) | set(new)):
            a, b = old.get(crid), new.get(crid)
            if a == b:
                continue
            child = (b or a or {}).get("apiName", crid)
            entity = f"{self.name}.{child}"
            path = (key, crid)
            if a is None:
                self.child_added(path, word, b, entity)
            elif b is None:
                self.add(
                    path,
                    f"{_slug(word)}_removed",
                    C.INCOMPATIBLE,
                    f"The {word} {entity} was removed.",
                    entity=entity,
                    migration={"action": "remove", "what": entity},
                )
            else:
                if a.get("apiName") != b.get("apiName"):
                    old_name = f"{self.name}.{a.get('apiName')}"
                    self.rename(path, word, old_name, entity, entity)
                self.fields(path, a, b, entity, word)

    def child_added(self, path: tuple[str, ...], word: str, doc: dict, entity: str) -> None:
        if doc.get("required"):
            self.add(
                path,
                f"required_{_slug(word)}_added",
                C.INCOMPATIBLE,
                f"New required {word} {entity}; the model has no default value, so existing "
                "data has none.",
                entity=entity,
                migration={"action": "backfill", "what": entity},
            )
        else:
            self.add(
                path,
                f"{_slug(word)}_added",
                C.BACKWARD_COMPATIBLE,
                f"New optional {word} {entity}.",
                entity=entity,
            )

    def reference_set(self, key: str, old: dict, new: dict) -> None:
        word = REFERENCE_SETS[self.kind][key]
        for rid in sorted(set(old) | set(new)):
            if bool(old.get(rid)) == bool(new.get(rid)):
                continue
            if new.get(rid):
                self.add(
                    (key, rid),
                    f"{_slug(word)}_added",
                    C.BACKWARD_COMPATIBLE,
                    f"{self.name} gains the {word} {self.ref(rid)}.",
                )
            else:
                self.add(
                    (key, rid),
                    f"{_slug(word)}_removed",
                    C.INCOMPATIBLE,
                    f"{self.name} loses the {word} {self.ref(rid)}.",
                    migration={"action": "remove", "what": f"{self.name} {word} {self.ref(rid)}"},
                )

    def link_side(self, key: str, old: dict, new: dict) -> None:
        side = key.removesuffix("Side")
        entity = f"{self.name}.{new.get('apiName') or old.get('apiName')}"
        if old.get("apiName") != new.get("apiName"):
            self.rename((key,), f"{side} side of", old.get("apiName"), new.get("apiName"), entity)
        rest_a = {k: v for k, v in old.items() if k != "apiName"}
        rest_b = {k: v for k, v in new.items() if k != "apiName"}
        self.fields((key,), rest_a, rest_b, entity, f"{side} side")


# --- pure rules, usable on their own ------------------------------------------------------------

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
