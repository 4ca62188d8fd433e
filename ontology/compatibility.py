"""The compatibility classifier: what a change of the ontology means to its consumers.

Pure Python over canonical documents (docs/documents.md), registered with versioning from
``OntologyConfig.ready``. ``classify(before, after)`` takes two sets of top-level
documents keyed by rid (only the changed ones are needed) and returns every change with
its class (see docs/releases.md for the table of rules):

- COMPATIBLE: documentation and display (descriptions, examples, display names, icons, visibility,
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

from collections.abc import Mapping
from typing import Any

from versioning.domain.compatibility import ClassifiedChange
from versioning.domain.compatibility import Compatibility as C

from .compatibility_links import LINK_END_KEYS, link_end
from .compatibility_rules import (
    _TYPE_WORDS,
    _deprecation_note,
    _element,
    _label,
    _shown_type,
    _slug,
    _type_action,
    constraint_changes,
    type_shift,
)

Document = dict[str, Any]
Names = Mapping[str, str]

#: purely documentary fields of any entity or child
DISPLAY_FIELDS = frozenset(
    {
        "description",
        "examples",
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
    names = {} if names is None else names
    around = getattr(names, "document", None)

    def lookup(rid: Any) -> Document | None:
        """A document by rid: changed, else from the trees ``names`` reads, if it can."""
        found = after.get(rid) or before.get(rid)
        return found if found is not None or around is None else around(rid)

    for rid in sorted(set(before) | set(after)):
        old, new = before.get(rid), after.get(rid)
        if old == new:
            continue
        _Entity(rid, old, new, names, out, lookup).classify()
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
        lookup: Any = lambda rid: None,
    ) -> None:
        self.rid, self.old, self.new, self.names, self.out = rid, old, new, names, out
        self.lookup = lookup
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
        ends_done: set[str] = set()
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            if a == b or key in ("kind", "rid", "apiName"):
                continue
            at = (*path, key)
            if top and self.kind == "linkType" and key in LINK_END_KEYS:
                side = key.removesuffix("Interface")
                if side not in ends_done:
                    ends_done.add(side)
                    link_end(self, side, old, new, entity)
            elif key in ("baseType", "itemType"):
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
