"""Branch awareness in the ontology lists: on a branch other than main, each row of a
top-level kind the branch changed is marked — *uncommitted* (a working change not yet
committed) or *changed* (committed on the branch, not on main yet). Children (properties,
struct fields, link constraints) are marked through their parent: *in a changed …*.

The rids are computed once per list page (``changelist_view``) and read by the column
from the queryset's annotation, so the column costs no query per row."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import BooleanField, Case, Q, Value, When

from versioning import services
from versioning.models import MAIN_BRANCH
from versioning.selection import current_branch

from ..kinds import KINDS, kind_of

#: the request attribute holding (uncommitted rids, committed rids) for the list
ATTRIBUTE = "_oms_branch_marks"


def branch_marks(branch) -> tuple[set[str], set[str]]:
    """(rids with uncommitted changes, rids changed by the branch's commits against main)."""
    uncommitted = {c.rid for c in services.changes(branch).changes}
    committed: set[str] = set()
    if branch.head_id:
        committed = {c.rid for c in services.diff(MAIN_BRANCH, branch.name).changes}
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
        if branch.name != MAIN_BRANCH:
            setattr(request, ATTRIBUTE, branch_marks(branch))
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
        kind = kind_of(self.model)
        rid_field = "rid" if kind.parent is None else f"{kind.parent_field}__rid"
        uncommitted, committed = marks
        return queryset.annotate(
            oms_uncommitted=_flag(rid_field, uncommitted),
            oms_committed=_flag(rid_field, committed),
        )

    @admin.display(description="on this branch")
    def branch_mark(self, obj) -> str:
        from .base import badge  # base builds its admin on this mixin

        kind = kind_of(self.model)
        where = "" if kind.parent is None else f"in a changed {KINDS[kind.parent].label}: "
        if getattr(obj, "oms_uncommitted", False):
            return badge(f"{where}uncommitted", "oms-badge-warn")
        if getattr(obj, "oms_committed", False):
            return badge(f"{where}changed", "oms-badge-info")
        return ""
