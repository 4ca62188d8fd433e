"""Prometheus metrics of the ontology (exposed on ``/metrics`` by django-prometheus)."""

from __future__ import annotations

from prometheus_client import Gauge

OVERDUE_DEPRECATIONS = Gauge(
    "oms_ontology_overdue_deprecations",
    "Deprecated entities and properties past their deadline, per protected branch "
    "(set by the daily ontology.report_overdue_deprecations task).",
    ["branch"],
)
