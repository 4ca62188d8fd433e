from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import catalogue, metrics, services, tasks

        services.set_drain_task(tasks.drain_outbox)
        catalogue.register_delivery_types()
        metrics.register_collector()
        try:
            from celery.signals import worker_ready
        except ImportError:  # pragma: no cover - celery is a hard dependency
            return
        worker_ready.connect(_on_worker_ready, dispatch_uid="events.worker_ready", weak=False)


def _on_worker_ready(**_kwargs) -> None:
    """At worker start-up: create the JetStream stream, optionally serve worker metrics."""
    import logging

    from . import conf

    logger = logging.getLogger("events")
    if "nats" in conf.sinks() and conf.nats_url():
        from .sinks.nats import ensure_stream

        try:
            ensure_stream()
        except Exception:
            logger.warning("could not create the JetStream stream at start-up", exc_info=True)
    port = conf._get("WORKER_METRICS_PORT", None)
    if port:
        from prometheus_client import start_http_server

        start_http_server(int(port))
