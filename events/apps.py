from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import catalogue, checks, metrics, services, tasks  # noqa: F401 - checks register

        services.set_drain_task(tasks.drain_outbox)
        catalogue.register_delivery_types()
        metrics.register_collector()
        try:
            from celery.signals import worker_ready
        except ImportError:  # pragma: no cover - celery is a hard dependency
            return
        worker_ready.connect(_on_worker_ready, dispatch_uid="events.worker_ready", weak=False)


def _on_worker_ready(**_kwargs) -> None:
    """At worker start-up: check the reaper's schedule, create the JetStream stream (or widen
    its duplicate window), optionally serve worker metrics."""
    import logging

    from . import conf

    logger = logging.getLogger("events")
    try:
        problem = reaper_schedule_problem()
    except Exception:
        logger.warning("could not read the reaper's schedule", exc_info=True)
    else:
        if problem:
            logger.error(problem)
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


def reaper_schedule_problem() -> str | None:
    """The beat schedule of the reaper (django-celery-beat) runs less often than
    ``OMS_EVENTS_REAPER_INTERVAL_SECONDS``, which the duplicate window is sized from."""
    from datetime import timedelta

    from django_celery_beat.models import PeriodicTask

    from . import conf

    for task in PeriodicTask.objects.filter(task="events.reap_stale_claims", enabled=True):
        if task.interval is None:
            return f"the reaper's schedule '{task.name}' is not an interval schedule"
        every = timedelta(**{task.interval.period: task.interval.every}).total_seconds()
        if every > conf.reaper_interval():
            return (
                f"the reaper runs every {every:g} s ('{task.name}'), more than "
                f"OMS_EVENTS_REAPER_INTERVAL_SECONDS ({conf.reaper_interval():g} s) that the "
                f"JetStream duplicate window is sized from: lower the schedule or raise the "
                f"setting, or a re-send after a dead worker may be duplicated"
            )
    return None
