"""OpenAPI post-processing: the error answers every operation can give, documented once.

Views document their success answers; this hook refers each status an operation can
really answer with to the common error shape (``components.schemas.Error``, generated from
``oms_site.api.ErrorSerializer``), so that generated clients know every body they may
receive:

- every operation: 400 (bad parameter or body), 401 (not authenticated), 403 (no
  permission, protected branch), 404 (unknown branch, ref or entity);
- operations with a body: 413 (too large) and 415 (not JSON);
- writes: 409 (duplicate, in use, stale head, unresolved conflict, concurrent change);
- operations taking ``If-Match``: 412; those taking ``If-None-Match``: 304 (no body).
"""

from __future__ import annotations

DESCRIPTIONS = {
    "400": "Invalid parameter or body; `fields` names the field at fault.",
    "401": "Not authenticated.",
    "403": "No permission, or a protected/archived branch.",
    "404": "Unknown branch, ref or entity.",
    "409": "Conflict: duplicate name, still in use, stale head, unresolved conflict or a "
    "concurrent change (retry).",
    "412": "`If-Match` names an older version of the entity; nothing was written.",
    "413": "Request body too large.",
    "415": "The body is not JSON.",
}
WRITES = {"post", "put", "patch", "delete"}


def _header_params(operation: dict) -> set[str]:
    return {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"}


def add_error_responses(result, generator, request, public):
    # the component comes from oms_site.api.ErrorSerializer (the error format's one
    # definition, used by the versioning views); a schema without it fails --validate
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            if method not in WRITES | {"get", "head", "options"}:
                continue
            codes = ["400", "401", "403", "404"]
            if "requestBody" in operation:
                codes += ["413", "415"]
            if method in WRITES:
                codes.append("409")
            headers = _header_params(operation)
            if "If-Match" in headers:
                codes.append("412")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": error})
            if "If-None-Match" in headers:
                responses.setdefault("304", {"description": "Not modified since that ETag."})
    return result
