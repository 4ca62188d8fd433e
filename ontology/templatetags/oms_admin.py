"""The admin header's branch selector and the read-only notice; protected values as the user
may see them."""

from __future__ import annotations

from django import template
from django.db.models import Q

from versioning.models import Branch
from versioning.protection import MASK, is_token, reveal
from versioning.selection import current_branch

from ..admin.branching import editable_branch_ids, read_only_reason

register = template.Library()


def _on_ontology_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    return (
        match.url_name == "index"
        or match.kwargs.get("app_label") == "ontology"
        or ((match.url_name or "").startswith("ontology_"))
    )


@register.inclusion_tag("admin/oms/branch_selector.html", takes_context=True)
def oms_branch_selector(context) -> dict:
    request = context["request"]
    branch = current_branch(request)
    branches = list(
        Branch.objects.filter(Q(archived=False) | Q(pk=branch.pk)).only(
            "name", "protected", "archived"
        )
    )
    editable = editable_branch_ids(request.user, branches)
    for b in branches:
        b.oms_editable = b.pk in editable
    return {
        "branch": branch,
        "branches": branches,
        "read_only": branch.pk not in editable,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("admin/oms/branch_notice.html", takes_context=True)
def oms_branch_notice(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not (user and user.is_authenticated and user.is_staff):
        return {"reason": ""}
    branch = current_branch(request)
    return {
        "reason": read_only_reason(branch, user) if _on_ontology_page(request) else "",
        "branch": branch,
    }


@register.simple_tag(takes_context=True)
def oms_protected(context, value):
    """A protected value (a ``pii:<digest>`` token: an owner's contact) as the page's user
    may see it: the clear text with ``versioning.view_pii``, ``•••`` otherwise."""
    if not is_token(value):
        return value
    shown = reveal(value, getattr(context.get("request"), "user", None))
    return MASK if is_token(shown) else shown
