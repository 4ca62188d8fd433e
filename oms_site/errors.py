"""Django-level error pages: the API's error format under ``/api/``, HTML elsewhere.

DRF renders errors raised inside its views; these cover what never reaches a view (a URL
that matches no route, e.g. a branch name with characters a route does not allow) and the
last-resort 500.
"""

from __future__ import annotations

from django.views import defaults

from .middleware import json_error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception):
    if _is_api(request):
        return json_error(404, "not_found", f"Nothing at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return json_error(500, "server_error", "The server failed; the request id is in the logs.")
    return defaults.server_error(request)
