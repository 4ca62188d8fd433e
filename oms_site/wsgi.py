import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")

application = get_wsgi_application()


def _warm() -> None:
    """Load every view now, not on a worker's first request, then move what the worker
    holds for its whole life (modules, URL patterns, serializers, the map of the kinds)
    out of the garbage collector's reach (``gc.freeze``): a full collection then scans
    what requests made, not the whole process again, which keeps the slowest requests
    (a list page allocates ~100,000 objects) nearer the median (README, "Production layout")."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every URLconf and view module
    gc.collect()
    gc.freeze()
    # a young-generation collection every 50,000 allocations, not 700: a request that
    # builds a page of documents collects ~10 times, not ~150 (measured in-process on a
    # list of 100 object types: the collector's time per request about halved)
    gc.set_threshold(50_000, 10, 10)


_warm()
