"""The admin's search across every kind (``/admin/ontology/search/?q=``): object types,
properties, link types, value types, struct types and fields, shared properties,
interfaces and their link constraints of the selected branch, by API name, display name
and description (where the kind has them). The kinds are :data:`ontology.kinds.KINDS`;
each hit links to its change page. Only the kinds the user may view are searched."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path, reverse

from versioning.models import Branch
from versioning.selection import current_branch

from .kinds import KINDS

#: the text fields searched, where a kind has them
SEARCHED = ("api_name", "display_name", "description")
#: hits shown per kind (the kind's own list, filtered the same way, has the rest)
PER_KIND = 25
#: the longest query, in characters
MAX_QUERY = 100


def search(branch: Branch, query: str, user: Any) -> list[dict[str, Any]]:
    """One group per kind with hits: ``{kind, rows: [{name, url, display}], more, list_url}``."""
    groups = []
    for kind in KINDS.values():
        model, opts = kind.model, kind.model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        fields = [f.name for f in opts.get_fields() if f.name in SEARCHED]
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": query})
        rows = model._default_manager.filter(branch=branch).filter(match).order_by("api_name")
        if kind.parent_field:
            rows = rows.select_related(kind.parent_field)
        found = list(rows[: PER_KIND + 1])
        if not found:
            continue
        change = f"admin:{opts.app_label}_{opts.model_name}_change"
        groups.append(
            {
                "kind": kind.label,
                "rows": [
                    {
                        "name": str(row),
                        "url": reverse(change, args=[row.pk]),
                        "display": getattr(row, "display_name", ""),
                    }
                    for row in found[:PER_KIND]
                ],
                "more": len(found) > PER_KIND,
                "list_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            }
        )
    return groups


@staff_member_required
def search_view(request):
    query = request.GET.get("q", "").strip()
    error = ""
    if len(query) > MAX_QUERY:
        error = f"'q' is {len(query)} characters long; at most {MAX_QUERY}."
    branch = current_branch(request)
    groups = search(branch, query, request.user) if query and not error else []
    context = {
        **admin.site.each_context(request),
        "title": f"Search '{query}' on {branch.name}" if query else "Search the ontology",
        "query": query,
        "error": error,
        "branch": branch,
        "groups": groups,
        "hits": sum(len(g["rows"]) for g in groups),
    }
    return TemplateResponse(
        request, "admin/ontology/search.html", context, status=400 if error else 200
    )


urlpatterns = [path("", search_view, name="oms-search")]
