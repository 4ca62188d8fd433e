"""Events settings, read from Django settings (``OMS_EVENTS_*``) with safe defaults.

Read at call time (not import time) so tests can override them with ``settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _get(name: str, default: Any) -> Any:
    return getattr(settings, f"OMS_EVENTS_{name}", default)


def sinks() -> list[str]:
    """Built-in sinks that receive every event: any of log, nats, eventbridge."""
    configured = _get("SINKS", None)
    if configured is not None:
        return [s for s in configured if s]
    default = ["log"]
    if nats_url():
        default.append("nats")
    if eventbridge_bus():
        default.append("eventbridge")
    return default


def webhooks() -> list[dict[str, Any]]:
    """Webhooks from the environment: [{"name", "url", "secret", "types": [glob, ...]}]."""
    return list(_get("WEBHOOKS", []))


def batch_size() -> int:
    return int(_get("BATCH_SIZE", 500))


def max_event_bytes() -> int:
    """The largest structured CloudEvent ``publish`` accepts; a change whose event is larger
    is refused (413). Under NATS's default ``max_payload`` (1 MiB), leaving room for the
    message headers."""
    return int(_get("MAX_EVENT_BYTES", 1_000_000))


def max_attempts() -> int:
    return int(_get("MAX_ATTEMPTS", 12))


def backoff_base() -> float:
    return float(_get("BACKOFF_BASE_SECONDS", 2.0))


def backoff_cap() -> float:
    return float(_get("BACKOFF_CAP_SECONDS", 3600.0))


def claim_timeout() -> float:
    """A claim older than this belongs to a dead worker; the reaper returns it."""
    return float(_get("CLAIM_TIMEOUT_SECONDS", 300.0))


def retention_days() -> float:
    return float(_get("RETENTION_DAYS", 30))


def drain_time_budget() -> float:
    """One drain task stops taking new batches after this many seconds."""
    return float(_get("DRAIN_TIME_BUDGET_SECONDS", 50.0))


def require_registered_types() -> bool:
    return bool(_get("REQUIRE_REGISTERED_TYPES", True))


def breaker_fail_max() -> int:
    return int(_get("BREAKER_FAIL_MAX", 5))


def breaker_reset_timeout() -> float:
    return float(_get("BREAKER_RESET_TIMEOUT_SECONDS", 30.0))


def breaker_slow_call() -> float:
    """A batch call slower than this counts as a breaker failure (its results are kept)."""
    return float(_get("BREAKER_SLOW_CALL_SECONDS", 10.0))


def breaker_namespace() -> str:
    return str(_get("BREAKER_NAMESPACE", "oms:events:breaker"))


def redis_url() -> str:
    return str(_get("REDIS_URL", None) or getattr(settings, "REDIS_URL", "") or "")


def nats_url() -> str:
    return str(_get("NATS_URL", None) or getattr(settings, "NATS_URL", "") or "")


def nats_stream() -> str:
    return str(_get("NATS_STREAM", "OMS_EVENTS"))


def nats_subject_prefix() -> str:
    return str(_get("NATS_SUBJECT_PREFIX", "oms.events"))


def reaper_interval() -> float:
    """How often beat runs the reaper (``events: reap stale claims``, 60 s as the migration
    schedules it); the worker checks the schedule against it at start-up."""
    return float(_get("REAPER_INTERVAL_SECONDS", 60.0))


def required_duplicate_window() -> float:
    """The shortest JetStream duplicate window under which a re-send after a worker died
    is still de-duplicated: the claim expires (claim timeout), the reaper notices (its
    interval), and the next drain sends it again (one drain's time budget)."""
    return claim_timeout() + reaper_interval() + drain_time_budget()


def nats_duplicate_window() -> float:
    """The stream's duplicate window, never under :func:`required_duplicate_window`:
    ``OMS_EVENTS_NATS_DUPLICATE_WINDOW_SECONDS`` may only lengthen it (a shorter value is
    raised to it, and the system check ``events.W001`` says so)."""
    configured = float(_get("NATS_DUPLICATE_WINDOW_SECONDS", None) or 0)
    return max(configured, required_duplicate_window())


def duplicate_window_problem() -> str | None:
    """Why the configured duplicate window was raised, or None."""
    configured = float(_get("NATS_DUPLICATE_WINDOW_SECONDS", None) or 0)
    needed = required_duplicate_window()
    if not configured or configured >= needed:
        return None
    return (
        f"OMS_EVENTS_NATS_DUPLICATE_WINDOW_SECONDS is {configured:g} s, under the claim timeout "
        f"({claim_timeout():g} s) + reaper interval ({reaper_interval():g} s) + drain time "
        f"budget ({drain_time_budget():g} s) = {needed:g} s, which the stream gets instead: "
        f"a shorter window would let a worker that died after publishing duplicate its batch."
    )


def nats_timeout() -> float:
    return float(_get("NATS_TIMEOUT_SECONDS", 5.0))


def webhook_timeout() -> float:
    return float(_get("WEBHOOK_TIMEOUT_SECONDS", 5.0))


def eventbridge_bus() -> str:
    return str(_get("EVENTBRIDGE_BUS", "") or "")


def eventbridge_region() -> str | None:
    return _get("EVENTBRIDGE_REGION", None)


def source() -> str:
    return str(getattr(settings, "OMS_INSTANCE_URI", "urn:oms:local"))


def public_url() -> str:
    return str(getattr(settings, "OMS_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")
