"""The two small interfaces through which versioning reaches the ontology.

``ontology`` registers implementations in its ``AppConfig.ready``; versioning calls
:func:`get_workspace` / :func:`get_policy` / :func:`get_compatibility` and never imports
ontology.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

Document = dict[str, Any]


class Workspace(Protocol):
    def documents(self, branch: Any, rids: Iterable[str]) -> dict[str, Document | None]:
        """The current documents of these rids on the branch (``None`` = no such row)."""

    def all_documents(self, branch: Any) -> dict[str, Document]:
        """Every top-level document of the branch, keyed by rid."""

    def apply(
        self,
        branch: Any,
        changes: Mapping[str, Document | None],
        before: Mapping[str, Document | None] | None = None,
        *,
        checked: bool = False,
    ) -> None:
        """Make the branch's rows match ``changes`` (``None`` deletes the entity).

        ``before``, when given, is what the rows hold now (a clean branch's head documents
        of the same rids): parts equal in both may be left untouched. ``checked``: the
        policy's ``validate_tree`` already passed the tree these changes make over those
        rows, so the workspace need not check it again."""

    def copy_rows(self, source: Any, target: Any) -> None:
        """Copy every row of ``source`` to the empty ``target`` in set-based statements."""

    def drop_rows(self, branch: Any) -> None:
        """Delete every row of the branch's working copy in set-based statements."""

    def stored_value(self, value: Any) -> Any:
        """A JSON value as the rows give it back once written (a steward's edited value
        for a conflict becomes part of a merged document: stored as the rows will read
        it, the merge commit's document and the target's rows stay the same document)."""


class Policy(Protocol):
    """The domain's merge policy; see :mod:`versioning.domain.policy` for the values."""

    def resolve(self, entity_kind: str, path: tuple[str, ...], base: Any, ours: Any, theirs: Any):
        """A strategy's automatic (WARN) resolution of a conflict, or ``None``."""

    def validate_tree(self, tree: Mapping[str, Document], changed: frozenset[str]) -> list[Any]:
        """Problems (BLOCK) of a merged tree: dangling references, broken rules."""


class CompatibilityRules(Protocol):
    """The domain's compatibility rules (see :mod:`versioning.compat_modes`)."""

    def classify(
        self, before: Mapping[str, Document], after: Mapping[str, Document], names: Any = None
    ) -> list[Any]:
        """Every change from ``before`` to ``after``, classified."""

    def violations(
        self,
        before: Mapping[str, Document],
        after: Mapping[str, Document],
        names: Any = None,
        *,
        backward: bool,
        forward: bool,
        deprecation: bool,
        changes: list[Any] | None = None,
    ) -> list[Any]:
        """The :class:`~versioning.domain.modes.Violation` of the changes from a release's
        documents ``before`` to ``after``: by direction, and removals not deprecated."""


_registry: dict[str, Any] = {}
#: route segments under ``branches/<name>/`` that the domain serves (``object-types``...)
_route_segments: set[str] = set()


def register(
    *,
    workspace: Workspace | None = None,
    policy: Policy | None = None,
    compatibility: CompatibilityRules | None = None,
    route_segments: Iterable[str] = (),
) -> None:
    if workspace is not None:
        _registry["workspace"] = workspace
    if policy is not None:
        _registry["policy"] = policy
    if compatibility is not None:
        _registry["compatibility"] = compatibility
    _route_segments.update(route_segments)


def domain_route_segments() -> frozenset[str]:
    """The route segments the domain registered: a branch name cannot contain them."""
    return frozenset(_route_segments)


def get_workspace() -> Workspace:
    try:
        return _registry["workspace"]
    except KeyError:
        raise RuntimeError("No ontology workspace is registered with versioning.") from None


def get_policy() -> Policy | None:
    return _registry.get("policy")


def get_compatibility() -> CompatibilityRules:
    try:
        return _registry["compatibility"]
    except KeyError:
        raise RuntimeError("No compatibility rules are registered with versioning.") from None
