"""What each compatibility direction allows, and the deprecation gate on removals.

Registered with versioning (``versioning.workspace.register(compatibility=...)``), which
picks the releases to compare with and turns violations into BLOCK findings
(``versioning/compat_modes.py``). The rules, in terms of the classifier's four classes
(``ontology/compatibility.py``; the table with examples is in docs/releases.md):

- **backward**: a change is allowed when it is COMPATIBLE or BACKWARD_COMPATIBLE:
  consumers on the new version work with everything the old version holds.
- **forward**: a change is allowed when it is COMPATIBLE, or when the way back — the
  same place classified from the new version to the old one — is COMPATIBLE or
  BACKWARD_COMPATIBLE, or is a removal (the change adds something, which consumers still
  on the old version do not know and ignore). So a narrowing, a tightened constraint or a
  new required property pass; a widening, a loosened constraint or a rename do not.
- **deprecation**: removing an ACTIVE object type, property, link type, value type,
  struct type, shared property or interface that the release holds is refused; only one
  the release marks DEPRECATED (with a message and a deadline) or EXPERIMENTAL may go.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from versioning.domain.compatibility import ClassifiedChange
from versioning.domain.compatibility import Compatibility as C
from versioning.domain.modes import Violation

from .choices import Status
from .compatibility import CHILDREN, KIND_WORDS, classify
from .kinds import KINDS, TOP_LEVEL
from .models.base import StatusFields

Document = dict[str, Any]

#: (parent kind, document key) of the children with a status, so with a deprecation
#: lifecycle (object types' properties), read from the one map of the kinds; every
#: top-level kind has one
GATED_CHILDREN = frozenset(
    (kind.name, child.key)
    for kind in TOP_LEVEL
    for child in kind.children
    if issubclass(KINDS[child.kind].model, StatusFields)
)


def _gated(change: ClassifiedChange) -> str | None:
    """``""`` for the removal of a top-level entity, the document key of its children for
    the removal of a child with a status, ``None`` for any other change."""
    if change.kind == "removed" and not change.path:
        return ""
    if (
        len(change.path) == 2
        and change.kind.endswith("_removed")
        and (change.entity_kind, change.path[0]) in GATED_CHILDREN
    ):
        return change.path[0]
    return None


def allowed_backward(change: ClassifiedChange) -> bool:
    return change.compatibility.rank <= C.BACKWARD_COMPATIBLE.rank


def _allowed_back(change: ClassifiedChange) -> bool:
    """A change of the way back (new -> old) that keeps forward compatibility."""
    return allowed_backward(change) or (change.migration or {}).get("action") == "remove"


class OntologyCompatibility:
    """The ontology's compatibility rules (registered with versioning)."""

    def classify(
        self,
        before: Mapping[str, Document],
        after: Mapping[str, Document],
        names: Mapping[str, str] | None = None,
    ) -> list[ClassifiedChange]:
        return classify(before, after, names)

    def violations(
        self,
        before: Mapping[str, Document],
        after: Mapping[str, Document],
        names: Mapping[str, str] | None = None,
        *,
        backward: bool,
        forward: bool,
        deprecation: bool,
        changes: list[ClassifiedChange] | None = None,
    ) -> list[Violation]:
        """The changes from ``before`` (a release's documents) to ``after`` that the
        directions asked for, or the deprecation gate, refuse."""
        if changes is None:
            changes = classify(before, after, names)
        out: list[Violation] = []
        if backward:
            out.extend(
                Violation(c, "backward", _backward_reason(c))
                for c in changes
                if not allowed_backward(c)
            )
        if forward:
            out.extend(_forward(changes, before, after, names))
        if deprecation:
            out.extend(_deprecation(changes, before))
        return out


def _backward_reason(change: ClassifiedChange) -> str:
    return (
        f"It is {change.compatibility.value}: backward compatibility allows COMPATIBLE and "
        "BACKWARD_COMPATIBLE changes only, so consumers on the new version would not work "
        "with what the release holds."
    )


def _forward(
    changes: list[ClassifiedChange],
    before: Mapping[str, Document],
    after: Mapping[str, Document],
    names: Mapping[str, str] | None,
) -> list[Violation]:
    suspects = [c for c in changes if c.compatibility is not C.COMPATIBLE]
    if not suspects:
        return []
    rids = {c.rid for c in suspects}
    back = classify(
        {r: d for r, d in after.items() if r in rids},
        {r: d for r, d in before.items() if r in rids},
        names,
    )
    by_place: dict[tuple[str, tuple[str, ...]], list[ClassifiedChange]] = defaultdict(list)
    for change in back:
        by_place[(change.rid, change.path)].append(change)
    out = []
    for change in suspects:
        reverse = by_place.get((change.rid, change.path))
        if reverse is None:
            out.append(
                Violation(
                    change,
                    "forward",
                    "Forward compatibility cannot be shown for it (no way back is known), "
                    "so consumers still on the release may break.",
                )
            )
            continue
        refused = [r for r in reverse if not _allowed_back(r)]
        if refused:
            worst = max(refused, key=lambda r: r.compatibility.rank)
            out.append(
                Violation(
                    change,
                    "forward",
                    f"From the new version back to the release it is "
                    f"{worst.compatibility.value} ({worst.message}): forward compatibility "
                    "needs that way to be COMPATIBLE or BACKWARD_COMPATIBLE, so consumers "
                    "still on the release would not work with what the new version holds.",
                )
            )
    return out


def _deprecation(
    changes: list[ClassifiedChange], before: Mapping[str, Document]
) -> list[Violation]:
    out = []
    for change in changes:
        children = _gated(change)
        if children is None:
            continue
        doc = before.get(change.rid) or {}
        if children:
            doc = doc.get(children, {}).get(change.path[-1]) or {}
            word = CHILDREN[change.entity_kind][1]
        else:
            word = KIND_WORDS.get(change.entity_kind, "entity")
        status = doc.get("status", Status.ACTIVE)
        deprecation = doc.get("deprecation") or {}
        if status == Status.EXPERIMENTAL:
            continue
        if (
            status == Status.DEPRECATED
            and deprecation.get("message")
            and deprecation.get("deadline")
        ):
            continue
        out.append(
            Violation(
                change,
                "deprecation",
                f"The {word} {change.entity} is {status} in that release: removing it from "
                "a protected branch needs an earlier release that marks it DEPRECATED, "
                "with a message, a deadline and, where one exists, its replacement.",
            )
        )
    return out
