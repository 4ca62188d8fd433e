"""The ontology's errors, in the one hierarchy of :mod:`versioning.exceptions`.

``ProtectedBranchError`` (a protected or archived branch, 403) and ``NotAllowedError`` (a
missing permission, 403) are versioning's, re-exported: the ontology raises the same
refusals as versioning does, rendered the same way.
"""

from versioning.exceptions import DomainError, NotAllowedError, ProtectedBranchError


class OntologyError(DomainError):
    """An error of the ontology's rules or rows."""


class InUseError(OntologyError):
    http_status = 409
    code = "in_use"


__all__ = ["DomainError", "InUseError", "NotAllowedError", "OntologyError", "ProtectedBranchError"]
