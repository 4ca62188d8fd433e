"""Compatibility modes of a branch, as schema registries have them, and their findings.

Pure Python. A mode says in which directions a new version must stay compatible with
earlier releases, and against which of them:

- ``BACKWARD``: consumers on the new version keep working with what the old one holds;
- ``FORWARD``: consumers still on the old version keep working with what the new one holds;
- ``FULL``: both;
- ``*_TRANSITIVE``: the same, against every earlier release of the branch, not only the
  last; ``NONE``: no direction (a protected branch keeps the deprecation gate).

What a direction allows, in terms of the four classes, is the domain's rule (the ontology
registers it, see ``docs/releases.md``); this module only names the modes and shapes the
findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .compatibility import ClassifiedChange


class Mode(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    FULL = "FULL"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks(self) -> bool:
        return self is not Mode.NONE


#: what a branch gets unless a steward sets another (main gets BACKWARD by a migration)
DEFAULT_MODE = Mode.NONE
MAIN_MODE = Mode.BACKWARD


@dataclass(frozen=True)
class Violation:
    """A change a rule refuses, as the domain's rules report it.

    ``rule``: ``backward``, ``forward`` (a mode's direction) or ``deprecation`` (a removal
    without an earlier deprecation); ``reason``: a sentence a steward can act on."""

    change: ClassifiedChange
    rule: str
    reason: str


@dataclass(frozen=True)
class Finding:
    """A BLOCK finding: a violation against one release under the branch's mode."""

    mode: Mode
    release: str
    violation: Violation
    deprecate_in: str | None = None

    @property
    def key(self) -> tuple[str, tuple[str, ...], str, str]:
        change = self.violation.change
        return (change.rid, change.path, change.kind, self.violation.rule)

    def to_dict(self) -> dict[str, Any]:
        change = self.violation.change
        reason = self.violation.reason
        if self.deprecate_in:
            reason = f"{reason} Deprecate it in release {self.deprecate_in} first."
        return {
            "severity": "BLOCK",
            "mode": self.mode.value,
            "rule": self.violation.rule,
            "release": self.release,
            "rid": change.rid,
            "entity": change.entity,
            "entityKind": change.entity_kind,
            "path": list(change.path),
            "kind": change.kind,
            "compatibility": change.compatibility.value,
            "change": change.message,
            "reason": reason,
            "deprecateIn": self.deprecate_in,
            "message": (
                f"{self.mode.value} ({self.violation.rule}) against {self.release}: "
                f"{change.message} {reason}"
            ),
        }


def change_key(change: ClassifiedChange) -> tuple[str, tuple[str, ...], str]:
    """What identifies a change when two comparisons are matched."""
    return (change.rid, change.path, change.kind)
