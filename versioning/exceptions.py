"""Versioning errors. ``http_status`` lets the API render them (see ``oms_site.api``)."""

from __future__ import annotations

from typing import Any


class VersioningError(Exception):
    http_status = 400
    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field
        self.extra: dict[str, Any] = extra or {}


class UnknownRefError(VersioningError):
    """No branch, commit or release by that name (404)."""

    http_status = 404
    code = "unknown_ref"


class AmbiguousRefError(VersioningError):
    """A commit id prefix that matches more than one commit (400)."""

    code = "ambiguous_ref"


class ProtectedBranchError(VersioningError):
    """The branch is protected (changes only by merging a proposal) or archived (403)."""

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
    """The user may not do this (self-approval, missing permission) (403); ``permission``
    names the permission that would allow it (rendered as ``"permission"``)."""

    http_status = 403
    code = "forbidden"

    def __init__(self, message: str, *, permission: str | None = None):
        super().__init__(message, extra={"permission": permission} if permission else None)
        self.permission = permission
