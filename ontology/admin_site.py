"""The steward's admin site: Ontology and Versioning first, infrastructure last.

Installed as ``ontology.admin_site.OmsAdminConfig`` in place of ``django.contrib.admin``
(its ``default_site`` is :class:`OmsAdminSite`, so ``admin.site`` is this site)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

#: apps in the order a steward needs them; the others (tokens, users, periodic tasks) follow
APP_ORDER = ("ontology", "versioning", "events")


class OmsAdminSite(admin.AdminSite):
    site_header = "OMS — Ontology Metadata Service"
    site_title = "OMS admin"
    index_title = "Home"
    index_template = "admin/oms/home.html"

    def index(self, request, extra_context=None):
        from .admin.home import home_context  # the model admins load after the app registry

        return super().index(request, {**home_context(request), **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        return sorted(apps, key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"]))


class OmsAdminConfig(AdminConfig):
    default_site = "ontology.admin_site.OmsAdminSite"
