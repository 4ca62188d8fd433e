"""Compatibility classes, classified changes and the SemVer bump they call for.

Pure Python: the ontology's classifier (``ontology/compatibility.py``) produces
:class:`ClassifiedChange` rows from two sets of documents; :mod:`versioning.releases` turns
the worst class into the next version and the changes into a migration plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import semver


class Compatibility(StrEnum):
    """How a change affects consumers, from harmless to breaking (ordered)."""

    COMPATIBLE = "COMPATIBLE"
    BACKWARD_COMPATIBLE = "BACKWARD_COMPATIBLE"
    MIGRATION_REQUIRED = "MIGRATION_REQUIRED"
    INCOMPATIBLE = "INCOMPATIBLE"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


_ORDER = list(Compatibility)

#: the bump each class calls for from a 1.x (or later) release
BUMP = {
    Compatibility.COMPATIBLE: "patch",
    Compatibility.BACKWARD_COMPATIBLE: "minor",
    Compatibility.MIGRATION_REQUIRED: "major",
    Compatibility.INCOMPATIBLE: "major",
}
#: the order migration steps are listed in (renames first: later steps use the new names)
STEP_ORDER = ("rename", "convert", "wrap_in_list", "relink", "backfill", "verify", "remove")


@dataclass(frozen=True)
class ClassifiedChange:
    """One change between two versions of the ontology, as a consumer sees it.

    ``entity`` is the dotted api name (``Flight.flightNumber``); ``path`` the document path
    below the entity; ``migration`` the step a consumer must take (MIGRATION_REQUIRED and
    INCOMPATIBLE changes), ``{"action": ..., ...details}``; ``note`` extra context (the
    deprecation message, the values a narrowing cannot hold).
    """

    rid: str
    entity_kind: str
    entity: str
    path: tuple[str, ...]
    kind: str
    compatibility: Compatibility
    message: str
    migration: dict[str, Any] | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rid": self.rid,
            "entityKind": self.entity_kind,
            "entity": self.entity,
            "path": list(self.path),
            "kind": self.kind,
            "compatibility": self.compatibility.value,
            "message": self.message,
            "note": self.note,
            "details": self.details,
        }


def worst(changes: Iterable[ClassifiedChange]) -> Compatibility | None:
    """The worst class of the changes (``None``: no change at all)."""
    ranks = [c.compatibility.rank for c in changes]
    return _ORDER[max(ranks)] if ranks else None


def counts(changes: Iterable[ClassifiedChange]) -> dict[str, int]:
    """Number of changes per class, every class present."""
    out = {c.value: 0 for c in Compatibility}
    for change in changes:
        out[change.compatibility.value] += 1
    return out


def bump_for(compatibility: Compatibility | None, previous: semver.Version | None) -> str | None:
    """``major``, ``minor``, ``patch`` or ``None`` (nothing changed).

    Below 1.0.0 everything may change (SemVer §4), so by the common convention a breaking
    change bumps the minor and everything else the patch: 0.3.1 -> 0.4.0 or 0.3.2.
    """
    if compatibility is None:
        return None
    bump = BUMP[compatibility]
    if previous is not None and previous.major == 0:
        return "minor" if bump == "major" else "patch"
    return bump


def next_version(previous: semver.Version | None, bump: str | None) -> semver.Version:
    """The smallest version the bump allows; the first release is 1.0.0."""
    if previous is None:
        return semver.Version(1, 0, 0)
    if previous.prerelease and bump is not None:
        # 2.0.0-rc.1 + anything -> 2.0.0 at least (the pre-release becomes final)
        final = previous.finalize_version()
        return final if _reaches(previous, bump) else _bump(final, bump)
    return _bump(previous, bump or "patch")


def _bump(version: semver.Version, bump: str) -> semver.Version:
    return {
        "major": version.bump_major,
        "minor": version.bump_minor,
        "patch": version.bump_patch,
    }[bump]()


def _reaches(prerelease: semver.Version, bump: str) -> bool:
    """Whether finalising the pre-release already makes the bump (1.0.0-rc.1 -> 1.0.0 is
    a major bump from 0.x; 1.2.0-rc.1 -> 1.2.0 is a minor one, not a major)."""
    if bump == "major":
        return prerelease.minor == 0 and prerelease.patch == 0
    if bump == "minor":
        return prerelease.patch == 0
    return True


def migration_plan(changes: Iterable[ClassifiedChange]) -> list[dict[str, Any]]:
    """The ordered steps of the changes that need one: renames first (later steps name
    the new api names), conversions, then removals; numbered from 1."""
    steps = [c for c in changes if c.migration is not None]
    steps.sort(
        key=lambda c: (
            STEP_ORDER.index(c.migration["action"])
            if c.migration["action"] in STEP_ORDER
            else len(STEP_ORDER),
            c.entity,
            c.path,
        )
    )
    return [
        {
            "step": number,
            **c.migration,
            "entity": c.entity,
            "rid": c.rid,
            "compatibility": c.compatibility.value,
            "message": c.message,
        }
        for number, c in enumerate(steps, 1)
    ]
