"""Liveness and readiness probes, and who may read the operational endpoints.

``/health/live`` is open (it says nothing but "the process answers"). ``/health/ready``
(names and errors of the dependencies) and ``/metrics`` answer only a caller that sends
``Authorization: Bearer <OMS_OPS_TOKEN>`` or comes from one of ``OMS_OPS_NETWORKS``
(CIDRs, matched against the connection's address, never a forwarded header); anyone
else gets 401.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .api import error_body


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.OMS_OPS_NETWORKS]


def ops_allowed(request) -> bool:
    """The caller holds the operations token or connects from an operations network."""
    token = settings.OMS_OPS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    sent = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
    if token and sent and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks())


def ops_only(view):
    """Answer 401 (``WWW-Authenticate: Bearer``) unless :func:`ops_allowed`."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not ops_allowed(request):
            message = (
                "Send the operations token (Authorization: Bearer) or call from an allowed network."
            )
            response = JsonResponse(error_body(401, "not_authenticated", message), status=401)
            response["WWW-Authenticate"] = 'Bearer realm="oms-ops"'
            return response
        return view(request, *args, **kwargs)

    return guarded


@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = "oms:health:probe"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it was given")


def _check_broker() -> None:
    from oms_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@require_GET
@ops_only
def ready(request):
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"status": "ok"}
        except Exception as exc:  # noqa: BLE001 - a probe reports every failure
            healthy = False
            results[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    results["broker"]["url"] = settings.CELERY_BROKER_URL.split("@")[-1]
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )


@require_GET
@ops_only
def metrics(request):
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)
