"""Cross-cutting HTTP middleware: request ids and request body limits."""

import re
import uuid

from django.conf import settings
from django.http import JsonResponse

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


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``OMS_MAX_BODY_BYTES`` with 413 in the API error format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.OMS_MAX_BODY_BYTES
        if length > limit:
            return JsonResponse(
                {
                    "error": {
                        "status": 413,
                        "code": "payload_too_large",
                        "message": f"Request body of {length} bytes exceeds the limit of {limit}.",
                        "fields": {},
                    }
                },
                status=413,
            )
        return self.get_response(request)
