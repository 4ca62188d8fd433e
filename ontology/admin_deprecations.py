"""The admin's *Overdue deprecations* page (``/admin/ontology/overdue-deprecations/``):
what stayed DEPRECATED on a protected branch past its deadline, most overdue first (the
list the daily ``ontology.report_overdue_deprecations`` task reports)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.template.response import TemplateResponse
from django.urls import path

from . import deprecation


@staff_member_required
def overdue_view(request):
    context = {
        **admin.site.each_context(request),
        "title": "Overdue deprecations",
        "items": deprecation.overdue(),
    }
    return TemplateResponse(request, "admin/ontology/overdue_deprecations.html", context)


urlpatterns = [path("", overdue_view, name="oms-overdue-deprecations")]
