"""Transactional outbox, CloudEvents 1.0, delivery to NATS JetStream, webhooks,
EventBridge and the log, with retries, dead letters, circuit breakers and a change feed.

Other apps call ``events.publish(type, subject, data)`` inside their transaction.
Importing this package does not touch the app registry.
"""

from __future__ import annotations

from typing import Any


def publish(*args: Any, **kwargs: Any):
    """See ``events.services.publish``."""
    from .services import publish as _publish

    return _publish(*args, **kwargs)


def publish_many(*args: Any, **kwargs: Any) -> int:
    """See ``events.services.publish_many``."""
    from .services import publish_many as _publish_many

    return _publish_many(*args, **kwargs)


__all__ = ["publish", "publish_many"]
