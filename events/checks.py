"""System checks of the events app (``manage.py check``, ``migrate``, ``runserver``)."""

from __future__ import annotations

from django.core import checks

from . import conf


@checks.register()
def duplicate_window(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The JetStream duplicate window covers a re-send after a dead worker's claim."""
    if "nats" not in conf.sinks():
        return []
    problem = conf.duplicate_window_problem()
    return [checks.Warning(problem, id="events.W001")] if problem else []
