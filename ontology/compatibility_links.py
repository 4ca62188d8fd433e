"""How a change of a link type's end is classified (an end is an object type or, on a
many-to-many link, an interface: docs/documents.md, "Links to an interface").

Readers follow the link from its other end; writers create links. Widening an end to an
interface the old object type implements (or to an interface the old one extends) keeps
every existing link valid, while readers may now meet other object types: a widening,
BACKWARD_COMPATIBLE like ``integer -> long``. Narrowing an interface end to one of its
implementers (or to an interface extending it) invalidates the links to the others: they
are dropped or re-pointed first, MIGRATION_REQUIRED like a type narrowing. Any other
change of an end (another object type, an unrelated interface, or one whose relation
cannot be read from the documents at hand) is INCOMPATIBLE: a checker that errs, errs safe.
"""

from __future__ import annotations

from typing import Any

from versioning.domain.compatibility import Compatibility as C

#: a link's end keys in its document
LINK_END_KEYS = frozenset({"source", "target", "sourceInterface", "targetInterface"})


def _ancestors(lookup: Any, rid: str) -> set[str]:
    """Every interface the interface ``rid`` extends, directly or not, as far as known."""
    seen: set[str] = set()
    frontier = [rid]
    while frontier:
        doc = lookup(frontier.pop()) or {}
        for parent in doc.get("extends") or {}:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def _implements(lookup: Any, object_type: str, interface: str) -> bool:
    doc = lookup(object_type) or {}
    direct = set(doc.get("interfaces") or {})
    return interface in direct or any(interface in _ancestors(lookup, i) for i in direct)


def end_shift(lookup: Any, old: tuple[Any, Any], new: tuple[Any, Any]) -> tuple[C, str]:
    """(class, "widened" / "narrowed" / "changed") of an end going from ``old`` to ``new``,
    each ``(object type rid, interface rid)`` with one of the two set."""
    (a_ot, a_if), (b_ot, b_if) = old, new
    widened = (a_ot and b_if and _implements(lookup, a_ot, b_if)) or (
        a_if and b_if and b_if in _ancestors(lookup, a_if)
    )
    if widened:
        return C.BACKWARD_COMPATIBLE, "widened"
    narrowed = (a_if and b_ot and _implements(lookup, b_ot, a_if)) or (
        a_if and b_if and a_if in _ancestors(lookup, b_if)
    )
    if narrowed:
        return C.MIGRATION_REQUIRED, "narrowed"
    return C.INCOMPATIBLE, "changed"


_WORDS = {
    "widened": "a widening: every existing link stays valid, readers may meet other types",
    "narrowed": "a narrowing: links to the other types must be dropped or re-pointed first",
    "changed": "existing links do not fit the new end",
}


def link_end(entity_: Any, side: str, old: dict, new: dict, entity: str) -> None:
    """Classify the change of ``side`` ("source" / "target") of a link type document into
    ``entity_`` (the classifier's :class:`ontology.compatibility._Entity`)."""
    key = f"{side}Interface"
    a, b = (old.get(side), old.get(key)), (new.get(side), new.get(key))
    compat, shift = end_shift(entity_.lookup, a, b)
    was, now = a[0] or a[1], b[0] or b[1]
    field = key if b[1] else side
    entity_.add(
        (field,),
        f"{side}_{shift}",
        compat,
        f"{entity} now points at {entity_.ref(now)} instead of {entity_.ref(was)} "
        f"({_WORDS[shift]}).",
        entity=entity,
        migration=None
        if shift == "widened"
        else {"action": "relink", "field": field, "from": was, "to": now},
    )
