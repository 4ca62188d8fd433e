"""Prometheus metrics of the ontology (exposed on ``/metrics`` by django-prometheus).

``oms_ontology_overdue_deprecations{branch}`` is read from the database at scrape time
(:func:`ontology.deprecation.counts`, the rule the daily
``ontology.report_overdue_deprecations`` task and the admin list use), so every process
that serves ``/metrics`` reports it; a gauge set inside the Celery worker's pool would be
seen by none of them.
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

OVERDUE = "oms_ontology_overdue_deprecations"
_HELP = (
    "Deprecated entities and properties past their deadline, per protected, active branch "
    "(the list the daily ontology.report_overdue_deprecations task reports)."
)


class OverdueCollector:
    def describe(self):
        # declared so that registering does not call collect() (no database at start-up)
        yield GaugeMetricFamily(OVERDUE, _HELP, labels=["branch"])

    def collect(self):
        from .deprecation import counts

        gauge = GaugeMetricFamily(OVERDUE, _HELP, labels=["branch"])
        try:
            for branch, n in sorted(counts().items()):
                gauge.add_metric([branch], n)
        except Exception:
            logger.warning("ontology metrics unavailable", exc_info=True)
            return
        yield gauge


_registered = False


def register_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(OverdueCollector())
        _registered = True
