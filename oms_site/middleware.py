"""Cross-cutting HTTP middleware: request ids, request body limits, NUL characters."""

import io
import re
import uuid

from django.conf import settings
from django.http import JsonResponse

from .api import error_body
from .logging import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from the caller (or makes one) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs the response (django.request) after the
        # middleware chain returns, and that line must carry the id too. The next request
        # on this thread sets its own.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def json_error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    """The API's error format (``oms_site.api.error_body``) for answers made outside DRF."""
    return JsonResponse(error_body(status, code, message, fields), status=status)


class NulCharacterMiddleware:
    """Refuses a NUL character in the path or the query string with 400 (field named).

    No name, ref or search text of OMS can hold one, and PostgreSQL cannot even compare
    against it; answering here keeps every view (API and admin) from meeting it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            message = "The path contains a NUL character."
            return json_error(400, "invalid", message, {"path": [message]})
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                name = key.replace("\x00", "")
                message = f"The query parameter '{name}' contains a NUL character."
                return json_error(400, "invalid", message, {name: [message]})
        return self.get_response(request)


def _too_large(length: int | str, limit: int) -> JsonResponse:
    message = f"Request body of {length} bytes exceeds the limit of {limit}."
    return json_error(413, "payload_too_large", message)


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``OMS_MAX_BODY_BYTES`` with 413 in the API error format
    (a bundle upload, ``.../bundle/``, over ``OMS_MAX_BUNDLE_BYTES``).

    A chunked request (``Transfer-Encoding: chunked``) has no ``Content-Length``: Django
    would read it as empty. Its body is read here (the server de-chunks it; at most one byte
    past the limit), answered 413 when over the limit, else handed on as if its length had
    been sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bundle = request.path.endswith("/bundle/")
        limit = settings.OMS_MAX_BUNDLE_BYTES if bundle else settings.OMS_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if not declared and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            stream = request.META.get("wsgi.input")
            body = stream.read(limit + 1) if stream is not None else b""
            if len(body) > limit:
                return _too_large(f"more than {limit}", limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
            return self.get_response(request)
        try:
            length = int(declared or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _too_large(length, limit)
        return self.get_response(request)
