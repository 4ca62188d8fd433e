"""Request rates (DRF throttles), kept in the default cache: Redis when ``REDIS_URL`` is
set (shared by every web worker), process memory otherwise.

Every API request counts against a burst and a sustained rate: per user when
authenticated (``user_burst``, ``user_sustained``), per client address otherwise
(``anon_burst``, ``anon_sustained``, stricter). Expensive operations also count against
their own scope, per user (or address): a view names it with ``throttle_scope``:

========================  =========================================================
scope                     attach it to
========================  =========================================================
``merge``                 merge a proposal, update from target, revert
``dry_run``               merge dry runs
``bundle_import``         bundle (ontology) imports
``schema_generation``     generated GraphQL SDL / JSON Schema / OpenAPI documents
``compatibility``         compatibility checks between refs
========================  =========================================================

Rates come from the environment (``OMS_THROTTLE_<SCOPE>``, e.g. ``OMS_THROTTLE_MERGE=20/min``;
empty: no limit; ``OMS_THROTTLE_ENABLED=false`` turns every throttle off) and are read on
each request. Over a rate: 429 in the common error format with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

#: scope -> default rate; settings.py reads ``OMS_THROTTLE_<SCOPE>`` over these
DEFAULT_RATES: dict[str, str] = {
    "user_burst": "120/min",
    "user_sustained": "20000/day",
    "anon_burst": "30/min",
    "anon_sustained": "2000/day",
    "merge": "20/min",
    "dry_run": "60/min",
    "bundle_import": "10/hour",
    "schema_generation": "60/min",
    "compatibility": "60/min",
}
OPERATION_SCOPES = ("merge", "dry_run", "bundle_import", "schema_generation", "compatibility")
RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def check_rate(scope: str, rate: str | None) -> str | None:
    """A rate as DRF reads it (``<n>/<s|min|hour|day>``), or None (no limit)."""
    if not rate:
        return None
    if not RATE.match(rate):
        raise ValueError(
            f"OMS_THROTTLE_{scope.upper()}: {rate!r} is not '<count>/<s|min|hour|day>'"
        )
    return rate


class _SettingsRates:
    """Rates read from ``settings.OMS_THROTTLE_RATES`` on each request (not at import)."""

    def get_rate(self):
        if not settings.OMS_THROTTLE_ENABLED:
            return None
        return settings.OMS_THROTTLE_RATES.get(self.scope)


class UserBurstThrottle(_SettingsRates, UserRateThrottle):
    scope = "user_burst"

    def allow_request(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return True  # the anonymous throttles count these
        return super().allow_request(request, view)


class UserSustainedThrottle(UserBurstThrottle):
    scope = "user_sustained"


class AnonBurstThrottle(_SettingsRates, AnonRateThrottle):
    scope = "anon_burst"


class AnonSustainedThrottle(AnonBurstThrottle):
    scope = "anon_sustained"


class OperationThrottle(_SettingsRates, ScopedRateThrottle):
    """The view's ``throttle_scope`` (one of ``OPERATION_SCOPES``), per user or address."""


def add_throttle_responses(result, generator, request, public):
    """OpenAPI: every API operation may answer 429 with ``Retry-After``."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answer = {
        "description": "Too many requests: over a rate limit. Retry after `Retry-After` seconds.",
        "headers": {
            "Retry-After": {
                "schema": {"type": "integer", "minimum": 0},
                "description": "Seconds to wait before the next request.",
            }
        },
        "content": error,
    }
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            if method in {"get", "head", "options", "post", "put", "patch", "delete"}:
                operation.setdefault("responses", {}).setdefault("429", answer)
    return result
