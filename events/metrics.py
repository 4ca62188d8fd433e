"""Prometheus metrics of the events app (exposed on ``/metrics`` by django-prometheus).

Counters and the latency histogram are recorded where deliveries happen (the Celery
worker; set ``OMS_EVENTS_WORKER_METRICS_PORT`` to expose them from the worker). The
gauges are computed from the database and Redis at scrape time, so every process that
serves ``/metrics`` reports the same outbox, dead-letter and breaker state.
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

DELIVERIES = Counter(
    "oms_events_deliveries_total", "Delivery attempts by sink and result.", ["sink", "result"]
)
DEAD_LETTERED = Counter(
    "oms_events_dead_lettered_total",
    "Deliveries moved to the dead-letter table.",
    ["sink", "reason"],
)
DELIVERY_LATENCY = Histogram(
    "oms_events_delivery_latency_seconds",
    "From the event's commit to its acknowledgement by the sink.",
    ["sink"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)


class OutboxCollector:
    """Gauges read at scrape time: pending count, oldest pending age, DLQ size, breakers."""

    def describe(self):
        # Declared so registering does not call collect() (no DB access at start-up).
        yield GaugeMetricFamily("oms_events_outbox_pending", "", labels=["sink"])
        yield GaugeMetricFamily("oms_events_outbox_oldest_pending_age_seconds", "")
        yield GaugeMetricFamily("oms_events_dead_letters", "")
        yield GaugeMetricFamily("oms_events_delivery_rows", "", labels=["sink", "status"])
        yield GaugeMetricFamily("oms_events_breaker_state", "", labels=["sink"])

    def collect(self):
        from django.db.models import Count, Min
        from django.utils import timezone

        from . import breakers
        from .breakers import STATE_VALUE
        from .choices import DeliveryStatus
        from .models import DeadLetter, Delivery, OutboxEvent
        from .sinks import enabled_sinks

        pending = GaugeMetricFamily(
            "oms_events_outbox_pending",
            "Deliveries not yet done (pending or claimed) by sink.",
            labels=["sink"],
        )
        oldest = GaugeMetricFamily(
            "oms_events_outbox_oldest_pending_age_seconds",
            "Age of the oldest event not yet delivered (unsequenced or pending).",
        )
        dlq = GaugeMetricFamily("oms_events_dead_letters", "Open dead letters.")
        by_status = GaugeMetricFamily(
            "oms_events_delivery_rows",
            "Delivery rows by sink and status.",
            labels=["sink", "status"],
        )
        breaker = GaugeMetricFamily(
            "oms_events_breaker_state",
            "Circuit breaker per sink: 0 closed, 1 half-open, 2 open.",
            labels=["sink"],
        )
        try:
            now = timezone.now()
            rows = (
                Delivery.objects.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED))
                .values("sink")
                .annotate(n=Count("id"), first=Min("event__created_at"))
            )
            firsts = []
            for row in rows:
                pending.add_metric([row["sink"]], row["n"])
                firsts.append(row["first"])
            unsequenced = OutboxEvent.objects.filter(position__isnull=True).aggregate(
                first=Min("created_at")
            )["first"]
            firsts = [f for f in [*firsts, unsequenced] if f is not None]
            oldest.add_metric([], (now - min(firsts)).total_seconds() if firsts else 0.0)
            dlq.add_metric([], DeadLetter.objects.filter(resolved_at__isnull=True).count())
            for row in Delivery.objects.values("sink", "status").annotate(n=Count("id")):
                by_status.add_metric([row["sink"], row["status"]], row["n"])
            for name in enabled_sinks():
                value = STATE_VALUE.get(breakers.state(name))
                if value is not None:
                    breaker.add_metric([name], value)
        except Exception:
            logger.warning("events metrics unavailable", exc_info=True)
            return
        yield from (pending, oldest, dlq, by_status, breaker)


_registered = False


def register_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(OutboxCollector())
        _registered = True
