"""The one hierarchy of domain errors, and versioning's own.

Every refusal a service raises is a :class:`DomainError`: ``http_status`` and ``code`` let
the API render it (see ``oms_site.api``), ``field`` names what was wrong, ``extra`` is
merged into the error body. Versioning's errors derive from :class:`VersioningError`,
the ontology's from ``ontology.exceptions.OntologyError``; the refusals both layers raise
— a protected or archived branch (:class:`ProtectedBranchError`) and a missing permission
(:class:`NotAllowedError`) — are defined here once, in the lower layer, and the ontology
re-exports them. Admin pages that show any refusal as a message catch ``DomainError``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    http_status = 400
    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field
        self.extra: dict[str, Any] = extra or {}


class VersioningError(DomainError):
    """An error of versioning (a ref, a head, a proposal's state...)."""


class DuplicateNameError(VersioningError):
    """The name is taken by another row of its kind (409)."""

    http_status = 409
    code = "duplicate"


class UnknownRefError(VersioningError):
    """No branch, commit or release by that name (404)."""

    http_status = 404
    code = "unknown_ref"


class AmbiguousRefError(VersioningError):
    """A commit id prefix that matches more than one commit (400)."""

    code = "ambiguous_ref"


class ProtectedBranchError(VersioningError):
    """The branch is protected (changes only by merging a proposal) or archived (403): of
    a commit, a merge, or an edit of the ontology's rows on it."""

    http_status = 403
    code = "protected_branch"


class StaleHeadError(VersioningError):
    """The branch head moved since the caller read it; nothing was written (409)."""

    http_status = 409
    code = "stale_head"

    def __init__(self, branch: str, expected: str | None, actual: str | None):
        super().__init__(
            f"Branch '{branch}' is at {(actual or 'no commit')[:12]}, not "
            f"{(expected or 'no commit')[:12]}: reload and try again.",
            field="expectedHead",
            extra={"expectedHead": expected, "actualHead": actual},
        )


class NothingToCommitError(VersioningError):
    http_status = 409
    code = "nothing_to_commit"


class InvalidStateError(VersioningError):
    """The operation does not fit the current state (closed proposal, dirty branch...) (409)."""

    http_status = 409
    code = "invalid_state"


class UnresolvedConflictsError(VersioningError):
    """ERROR conflicts without a resolution, or BLOCK conflicts (409); carries them."""

    http_status = 409
    code = "unresolved_conflicts"

    def __init__(self, message: str, conflicts: list[dict[str, Any]]):
        super().__init__(message, extra={"conflicts": conflicts})
        self.conflicts = conflicts


class NotAllowedError(VersioningError):
    """The user may not do this (self-approval, missing permission, writing this kind of
    ontology row on this branch) (403); ``permission`` names the permission that would
    allow it (rendered as ``"permission"``)."""

    http_status = 403
    code = "forbidden"

    def __init__(self, message: str, *, permission: str | None = None):
        super().__init__(message, extra={"permission": permission} if permission else None)
        self.permission = permission
