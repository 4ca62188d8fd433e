"""Shared REST plumbing: pagination and the one JSON error format.

Every error answers::

    {"error": {"status": 400, "code": "invalid", "message": "...",
               "fields": {"apiName": ["..."]}}}

Domain exceptions need not know DRF: any exception carrying ``http_status`` (and
optionally ``code``, ``field`` and ``fields``) is rendered with that status. This keeps
``ontology``, ``versioning`` and ``events`` free of HTTP concerns while their errors still
reach consumers as 404/409/403 rather than 500.

Django ``ValidationError`` s come from model validation and name *model* fields
(``properties.0.api_name``); they are reported under the API's camelCase names
(``properties.0.apiName``). A view can rename fields that do not map one to one with
``error_field_aliases`` (``{"deprecation_message": "deprecation.message"}``), or keep
the names as they are with ``camelize_errors = False``. A validation error whose code is
``duplicate`` or ``in_use`` is a conflict: 409.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (1 to 500): a value that is not such a number is a
    400 naming the parameter, as the schema says, not silently the default."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class StrictCharField(serializers.CharField):
    """A string field that takes a JSON string only, as the schema says (DRF's CharField
    would turn ``0`` or ``true`` into ``"0"``/``"True"``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    conflicts = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Unresolved conflicts (409)."
    )
    actualHead = serializers.CharField(required=False, help_text="The branch head (stale head).")


# the error format's one definition in the OpenAPI schema (component ``Error``), to which
# oms_site.openapi refers every operation's error answers
class ErrorSerializer(serializers.Serializer):
    """The common error format of every endpoint."""

    error = ErrorBodySerializer()


class SafeJSONParser(JSONParser):
    """JSON parser that answers 400, not 500, to absurdly deep nesting."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


def _refusals_as_api_errors(method):
    """``method`` raising a domain refusal (any exception carrying ``http_status``, such as
    ``NotAllowedError`` or ``ProtectedBranchError``) as DRF's ``APIException``."""

    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except exceptions.APIException:
            raise
        except Exception as exc:
            if not hasattr(exc, "http_status"):
                raise
            error = exceptions.APIException(str(exc))
            error.status_code = exc.http_status
            raise error from exc

    return call


class Metadata(SimpleMetadata):
    """``OPTIONS``: a write the user may not make is left out of ``actions``, whether DRF's
    permission classes or a domain service refuse it (DRF catches only its own errors)."""

    GUARDED = ("check_permissions", "get_object")

    def determine_actions(self, request, view):
        for name in self.GUARDED:
            if hasattr(view, name):
                setattr(view, name, _refusals_as_api_errors(getattr(view, name)))
        try:
            return super().determine_actions(request, view)
        finally:
            for name in self.GUARDED:
                view.__dict__.pop(name, None)


CONFLICT_CODES = frozenset({"duplicate", "in_use"})


def camelize(path: str, aliases: dict[str, str] | None = None) -> str:
    """``properties.0.api_name`` -> ``properties.0.apiName`` (each segment, aliases first)."""
    out = []
    for segment in path.split("."):
        if aliases and segment in aliases:
            out.append(aliases[segment])
            continue
        head, *rest = segment.split("_")
        out.append(head + "".join(part[:1].upper() + part[1:] for part in rest))
    return ".".join(out)


def _field_namer(context: dict[str, Any]):
    view = context.get("view")
    if not getattr(view, "camelize_errors", True):
        return lambda name: name
    aliases = getattr(view, "error_field_aliases", None)
    return lambda name: name if name in ("non_field_errors", "__all__") else camelize(name, aliases)


def _django_validation_error(exc: DjangoValidationError, context: dict[str, Any]) -> Response:
    name = _field_namer(context)
    if hasattr(exc, "error_dict"):
        fields: dict[str, list[str]] = {}
        codes = set()
        for key, errors in exc.error_dict.items():
            shown = "non_field_errors" if key == "__all__" else name(key)
            for error in errors:
                codes.add(error.code)
                fields.setdefault(shown, []).extend(error.messages)
    else:
        fields = {"non_field_errors": exc.messages}
        codes = {e.code for e in exc.error_list}
    # a model's own uniqueness check (code "unique": a branch name taken) is a duplicate
    conflict = {"duplicate" if c == "unique" else c for c in codes} & CONFLICT_CODES
    status_code, code = (409, sorted(conflict)[0]) if conflict else (400, "invalid")
    message = _first_message(fields, "Invalid input.")
    return Response(error_body(status_code, code, message, fields), status=status_code)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error detail (nested dicts/lists) -> {"a.b.0.c": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # a nested serializer's own errors (a list too long) belong to its field
            if key in ("non_field_errors", "__all__"):
                path = prefix or key
            else:
                path = f"{prefix}.{key}" if prefix else key
            for k, v in _flatten(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                if item in ({}, []):
                    continue
                path = f"{prefix}.{index}" if prefix else str(index)
                for k, v in _flatten(item, path).items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def error_body(
    status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "fields": fields or {},
        }
    }


def _first_message(fields: dict[str, list[str]], default: str) -> str:
    for name, messages in fields.items():
        if messages:
            return messages[0] if name == "non_field_errors" else f"{name}: {messages[0]}"
    return default


#: PostgreSQL: deadlock detected, serialization failure, lock not available
CONTENTION_CODES = {"40P01", "40001", "55P03"}


def _contention(exc: OperationalError) -> Response | None:
    """Two writers on the same rows: the loser is told to retry, nothing was written."""
    if getattr(exc.__cause__, "pgcode", None) in CONTENTION_CODES:
        status_code, code = 409, "concurrent_change"
    elif "database is locked" in str(exc):  # SQLite: another writer held the file too long
        status_code, code = 503, "busy"
    else:
        return None
    logger.info("contention answered as %s", status_code, extra={"error": str(exc)})
    message = "Another change to the same data was made at the same time; retry the request."
    return Response(
        error_body(status_code, code, message), status=status_code, headers={"Retry-After": "1"}
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return _django_validation_error(exc, context)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted(
            {str(o) for o in getattr(exc, "protected_objects", None) or exc.restricted_objects}
        )
        body = error_body(
            409, "in_use", f"Still in use by: {', '.join(names[:20])}.", {"non_field_errors": names}
        )
        return Response(body, status=409)
    elif isinstance(exc, DataError):
        logger.info("data error answered as 400", extra={"error": str(exc)})
        return Response(
            error_body(400, "invalid", "A value does not fit the database column."), status=400
        )
    elif isinstance(exc, IntegrityError):
        logger.info("integrity error answered as 409", extra={"error": str(exc)})
        return Response(
            error_body(409, "conflict", "The change conflicts with existing data."), status=409
        )
    elif isinstance(exc, OperationalError) and (answer := _contention(exc)):
        return answer
    elif hasattr(exc, "http_status"):
        name = _field_namer(context)
        fields = {name(k): v for k, v in (getattr(exc, "fields", None) or {}).items()}
        field = getattr(exc, "field", None)
        if field and name(field) not in fields:
            fields[name(field)] = [str(exc)]
        body = error_body(exc.http_status, getattr(exc, "code", "error"), str(exc), fields)
        extra = getattr(exc, "extra", None)
        if extra:
            body["error"].update(extra)
        return Response(body, status=exc.http_status)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    # imported here, not at the top: rest_framework.views reads DEFAULT_PARSER_CLASSES when
    # it is first imported, and that setting names this module's SafeJSONParser, so a
    # module-level import fails whenever this module is the first to load DRF's views
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _first_message(fields, "Invalid input.")
        response.data = error_body(response.status_code, "invalid", message, fields)
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(response.status_code, str(code), str(detail))
    return response


__all__ = [
    "Metadata",
    "Pagination",
    "StrictCharField",
    "SafeJSONParser",
    "camelize",
    "error_body",
    "exception_handler",
    "status",
]
