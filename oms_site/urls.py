import os

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/select-branch/", include("ontology.admin_views")),
    path("admin/ontology/overdue-deprecations/", include("ontology.admin_deprecations")),
    path("admin/ontology/search/", include("ontology.admin_search")),
    path("admin/", admin.site.urls),
    path("api/v1/events/", include("events.api.urls")),
    path("api/v1/", include("versioning.api.urls")),
    path("api/v1/", include("ontology.api.urls")),
    path("api/v1/auth/", include("oms_site.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="prometheus-django-metrics"),
]
if os.environ.get("OMS_BENCH_BARE") == "1":  # bench/api.py only: the bare DRF ceiling
    urlpatterns.append(path("bench/", include("bench.bare_urls")))

handler404 = "oms_site.errors.not_found"
handler500 = "oms_site.errors.server_error"
