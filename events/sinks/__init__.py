"""Sinks enabled by settings (built-ins, env webhooks) and by the admin (webhooks)."""

from __future__ import annotations

from .. import conf
from .base import DELIVERED, Message, Outcome, Result, Sending, Sink, SinkUnavailable

_cache: dict[tuple, Sink] = {}


def _cached(key: tuple, factory) -> Sink:
    sink = _cache.get(key)
    if sink is None:
        sink = _cache[key] = factory()
    return sink


def enabled_sinks() -> dict[str, Sink]:
    """Every sink that currently receives events, by name."""
    from ..models import WebhookSubscription

    sinks: dict[str, Sink] = {}
    for name in conf.sinks():
        if name == "log":
            from .log import LogSink

            sinks["log"] = _cached(("log",), LogSink)
        elif name == "nats":
            from .nats import NatsSink

            key = ("nats", conf.nats_url(), conf.nats_stream(), conf.nats_subject_prefix())
            sinks["nats"] = _cached(
                key,
                lambda: NatsSink(
                    conf.nats_url(),
                    conf.nats_stream(),
                    conf.nats_subject_prefix(),
                    conf.nats_timeout(),
                    conf.nats_duplicate_window(),
                ),
            )
        elif name == "eventbridge":
            from .eventbridge import EventBridgeSink

            key = ("eventbridge", conf.eventbridge_bus(), conf.eventbridge_region())
            sinks["eventbridge"] = _cached(
                key,
                lambda: EventBridgeSink(
                    conf.eventbridge_bus(), conf.source(), region=conf.eventbridge_region()
                ),
            )
        else:
            raise ValueError(f"OMS_EVENTS_SINKS: unknown sink {name!r}")
    from .webhook import WebhookSink

    hooks = [
        (h["name"], h["url"], h["secret"], tuple(h.get("types") or ())) for h in conf.webhooks()
    ]
    hooks += [
        (w.name, w.url, w.secret, tuple(w.event_types or ()))
        for w in WebhookSubscription.objects.filter(enabled=True)
    ]
    for name, url, secret, types in hooks:
        key = ("webhook", name, url, secret, types, conf.webhook_timeout())
        sink = _cached(
            key,
            lambda n=name, u=url, s=secret, t=types: WebhookSink(
                n, u, s, t, conf.webhook_timeout()
            ),
        )
        sinks.setdefault(sink.name, sink)
    return sinks


__all__ = [
    "DELIVERED",
    "Message",
    "Outcome",
    "Result",
    "Sending",
    "Sink",
    "SinkUnavailable",
    "enabled_sinks",
]
