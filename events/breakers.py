"""One pybreaker circuit breaker per sink, its state shared by every worker through Redis.

While a breaker is open its sink is not called and its deliveries are not claimed: they
wait, and no attempt is spent (backpressure). After the reset timeout the next batch is
the half-open probe; success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pybreaker

from . import conf

logger = logging.getLogger(__name__)

STATE_VALUE = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}

_breakers: dict[tuple, pybreaker.CircuitBreaker] = {}
_redis_clients: dict[str, object] = {}


class _LogListener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state) -> None:
        logger.warning(
            "circuit breaker state changed",
            extra={
                "sink": cb.name,
                "from": getattr(old_state, "name", None),
                "to": getattr(new_state, "name", None),
            },
        )


def _storage(name: str) -> pybreaker.CircuitBreakerStorage:
    url = conf.redis_url()
    if not url:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2
        )
    return pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, client, namespace=f"{conf.breaker_namespace()}:{name}"
    )


def get_breaker(name: str) -> pybreaker.CircuitBreaker:
    key = (
        name,
        conf.redis_url(),
        conf.breaker_namespace(),
        conf.breaker_fail_max(),
        conf.breaker_reset_timeout(),
    )
    breaker = _breakers.get(key)
    if breaker is None:
        breaker = _breakers[key] = pybreaker.CircuitBreaker(
            fail_max=conf.breaker_fail_max(),
            reset_timeout=conf.breaker_reset_timeout(),
            state_storage=_storage(name),
            listeners=[_LogListener()],
            name=name,
            throw_new_error_on_trip=False,
        )
    return breaker


def blocked_until(name: str) -> datetime | None:
    """When an open breaker will let a probe through; None if calls may go now."""
    breaker = get_breaker(name)
    if breaker.current_state != pybreaker.STATE_OPEN:
        return None
    opened_at = breaker._state_storage.opened_at
    if opened_at is None:
        return None
    until = opened_at + timedelta(seconds=breaker.reset_timeout)
    return until if until > datetime.now(UTC) else None


def state(name: str) -> str:
    try:
        return get_breaker(name).current_state
    except Exception:  # Redis down: pybreaker itself falls back to closed
        logger.warning("could not read breaker state", exc_info=True)
        return "unknown"


def reset(name: str) -> None:
    get_breaker(name).close()
