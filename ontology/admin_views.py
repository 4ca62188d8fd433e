"""The admin's branch selector: stores the steward's branch in the session.

Routed under ``/admin/select-branch/`` (``oms_site/urls.py`` includes this module).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, Resolver404, path, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from versioning.models import Branch
from versioning.selection import select_branch

from .admin.branching import read_only_reason, twin


def _same_entity_url(next_url: str, branch: Branch) -> str:
    """On an ontology change page, the same entity (same rid) on the new branch, or the
    list when it does not exist there; any other page is kept."""
    try:
        match = resolve(next_url.split("?")[0])
    except Resolver404:
        return next_url
    name = match.url_name or ""
    if not name.startswith("ontology_") or "object_id" not in match.kwargs:
        return next_url
    model_name = name[len("ontology_") :].rsplit("_", 1)[0]
    model = apps.get_model("ontology", model_name)
    same = twin(model, match.kwargs["object_id"], branch)
    try:
        if same is not None:
            return reverse(f"admin:ontology_{model_name}_change", args=[same.pk])
        return reverse(f"admin:ontology_{model_name}_changelist")
    except NoReverseMatch:
        return reverse("admin:index")


@require_POST
@staff_member_required
def select_branch_view(request: HttpRequest) -> HttpResponseRedirect:
    branch = get_object_or_404(Branch, name=request.POST.get("branch", ""))
    select_branch(request, branch)
    reason = read_only_reason(branch, request.user)
    messages.info(
        request,
        f"Now working on branch '{branch.name}'." + (f" {reason}" if reason else ""),
    )
    next_url = request.POST.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    return HttpResponseRedirect(_same_entity_url(next_url, branch))


urlpatterns = [path("", select_branch_view, name="oms-select-branch")]
