"""Django-level error pages: the API's error format under ``/api/``, HTML elsewhere.

DRF renders errors raised inside its views; these cover what never reaches a view (a URL
that matches no route, e.g. a branch name with characters a route does not allow) and the
last-resort 500.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(status: int, code: str, message: str) -> JsonResponse:
    body = {"status": status, "code": code, "message": message, "fields": {}}
    return JsonResponse({"error": body}, status=status)


def not_found(request, exception):
    if _is_api(request):
        return _error(404, "not_found", f"Nothing at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _error(500, "server_error", "The server failed; the request id is in the logs.")
    return defaults.server_error(request)
