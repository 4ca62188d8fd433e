"""The Celery application: configuration comes from Django settings (``CELERY_*``).

Logging stays Django's (``settings.LOGGING``: one JSON object per line): by default a
worker replaces the root logger's handlers with its own plain formatter, which would turn
the log sink's events into bare "event" lines. Connecting ``setup_logging`` tells Celery
that the project configures logging itself.
"""

import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def configure_logging(loglevel=None, **kwargs) -> None:
    """Django's JSON logging for worker and beat; ``--loglevel`` still sets the level."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
