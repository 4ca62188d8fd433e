"""Branch awareness in the ontology lists: on a branch other than main, each row of a
top-level kind the branch changed is marked — *uncommitted* (a working change not yet
committed) or *changed* (committed on the branch, not on main yet). The column appears
only in a list where some row is marked (a laptop's width is precious); children
(properties, struct fields, link constraints) are marked through their parent's list.

The rids are computed once per list page (``changelist_view``) and read by the column
from the queryset's annotation, so the column costs no query per row."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import BooleanField, Case, Q, Value, When

from versioning import services, store
from versioning.domain.graph import merge_base
from versioning.models import MAIN_BRANCH, Branch
from versioning.selection import current_branch

from ..kinds import kind_of

#: the request attribute holding (uncommitted rids, committed rids) for the list
ATTRIBUTE = "_oms_branch_marks"


def branch_marks(branch) -> tuple[set[str], set[str]]:
    """(rids with uncommitted changes, rids the branch's own commits changed since it
    diverged from main — not what main did meanwhile)."""
    uncommitted = {c.rid for c in services.changes(branch).changes}
    committed: set[str] = set()
    main = Branch.objects.filter(name=MAIN_BRANCH).values_list("head_id", flat=True).first()
    if branch.head_id:
        base = merge_base(main, branch.head_id, store.Graph()) if main else None
        committed = {c.rid for c in services.compare_commits(base, branch.head_id).diff.changes}
    return uncommitted, committed


def _flag(rid_field: str, rids: set[str]) -> Case:
    return Case(
        When(Q(**{f"{rid_field}__in": rids}), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


class BranchMarksMixin:
    """The *on this branch* column of a list (see the module's docstring)."""

    def changelist_view(self, request, extra_context=None):
        branch = current_branch(request)
        if branch.name != MAIN_BRANCH and kind_of(self.model).parent is None:
            uncommitted, committed = branch_marks(branch)
            rows = self.model._default_manager.filter(branch=branch)
            if rows.filter(rid__in=uncommitted | committed).exists():
                setattr(request, ATTRIBUTE, (uncommitted, committed))
        return super().changelist_view(request, extra_context)

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if hasattr(request, ATTRIBUTE) and "branch_mark" not in shown:
            shown.insert(1, "branch_mark")
        return shown

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        marks = getattr(request, ATTRIBUTE, None)
        if marks is None:
            return queryset
        uncommitted, committed = marks
        return queryset.annotate(
            oms_uncommitted=_flag("rid", uncommitted), oms_committed=_flag("rid", committed)
        )

    @admin.display(description="branch")
    def branch_mark(self, obj) -> str:
        """*uncommitted* or *changed* against main (the header is short: lists are tight)."""
        from .base import badge  # base builds its admin on this mixin

        if getattr(obj, "oms_uncommitted", False):
            return badge("uncommitted", "oms-badge-warn")
        if getattr(obj, "oms_committed", False):
            return badge("changed", "oms-badge-info")
        return ""
