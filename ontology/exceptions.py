"""Domain errors. ``http_status`` lets the API render them (see oms_site.api)."""


class OntologyError(Exception):
    http_status = 400
    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field


class ProtectedBranchError(OntologyError):
    http_status = 403
    code = "protected_branch"


class InUseError(OntologyError):
    http_status = 409
    code = "in_use"


class NotAllowedError(OntologyError):
    """The user may not write this kind of row on this branch (403); names the permission."""

    http_status = 403
    code = "forbidden"

    def __init__(self, message: str, *, permission: str):
        super().__init__(message)
        self.permission = permission
        self.extra = {"permission": permission}
