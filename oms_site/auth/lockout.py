"""The answer to a locked-out login (django-axes, ``AXES_LOCKOUT_CALLABLE``): 429 with
``Retry-After``, in the API's error format for the API, as a short page for the admin."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpResponse

from ..middleware import json_error


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    after = f" Try again in {seconds // 60 or 1} minute(s)." if seconds else ""
    message = (
        f"Too many failed logins ({settings.AXES_FAILURE_LIMIT}): this login is locked." + after
    )
    if request.path.startswith("/api/"):
        response = json_error(429, "locked_out", message)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Locked out</title><h1>Locked out</h1><p>{message}</p>",
            status=429,
        )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
