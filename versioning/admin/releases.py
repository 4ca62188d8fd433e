"""Releases in the steward admin: a read-only list and page (changelog and migration plan
shown as tables), and the "Cut a release" page (the add view): preview the protected
branch's changes since its previous release with their class and the suggested version,
then publish through :func:`versioning.releases.publish_release`. The page also shows the
branch's compatibility mode with the findings publishing would meet
(:func:`versioning.compat_modes.check_release`), the registered consumers the breaking
changes touch, and, to a steward with ``override_compatibility``, the override checkbox.

Publishing needs ``versioning.release_branch`` on the branch (``permissions.release_refusal``,
the rule the API asks and ``publish_release`` enforces); a refusal (400/409) is shown as
an error message, never a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from .. import compat_modes, permissions, releases, services
from ..domain.compatibility import Compatibility
from ..exceptions import VersioningError
from ..models import MAIN_BRANCH, Branch, Release
from .common import commit_url, refused, selected_branch
from .display import ref_downloads, words


def compatibility_badge(value: str) -> str:
    """The class as a badge; each class has its own colour (``oms-compat-*`` in
    static/oms/admin.css)."""
    return format_html('<span class="oms-badge oms-compat-{}">{}</span>', value, words(value))


def changelog_rows(changelog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A changelog as a steward reads it: worst class first (entity order within a class),
    its codes in plain words."""
    rows = [
        {
            **change,
            "kind_text": words(change["kind"]),
            "class_text": words(change["compatibility"]),
            "entity_kind_text": words(change["entityKind"]),
        }
        for change in changelog
    ]
    rows.sort(key=lambda row: -Compatibility(row["compatibility"]).rank)
    return rows


def plan_rows(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A migration plan's steps with their action in words (``wrap_in_list`` -> ``wrap in
    list``)."""
    return [{**step, "action_text": words(step["action"])} for step in plan]


def releasable_branches(user: Any) -> list[Branch]:
    """Protected, active branches the user may release from: those
    ``permissions.release_refusal`` allows (model-wide or granted on the branch). The
    protected branches are few, so the one rule is asked of each."""
    protected = Branch.objects.filter(protected=True, archived=False).order_by("name")
    return [b for b in protected if permissions.allowed(permissions.release_refusal, user, b)]


class CutForm(forms.Form):
    version = forms.CharField(
        required=False,
        max_length=100,
        help_text="Leave empty for the suggested version; a higher one is allowed.",
    )
    notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )
    commit = forms.CharField(widget=forms.HiddenInput, max_length=64)
    override = forms.BooleanField(
        required=False,
        label="Publish despite the compatibility findings",
        help_text="Needs versioning.override_compatibility; recorded in the release's event.",
    )


def release_url(release: Release) -> str:
    return reverse("admin:versioning_release_change", args=[release.pk])


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "branch_name",
        "compatibility_column",
        "commit_column",
        "author_name",
        "created_at",
    )
    list_filter = ("branch_name", "compatibility")
    search_fields = ("version", "notes", "author_name")
    ordering = ("-created_at", "-id")
    fields = (
        "version",
        "branch_name",
        "commit_column",
        "previous",
        "compatibility_column",
        "author_name",
        "created_at",
        "notes",
        "downloads",
        "changes_table",
    )
    readonly_fields = fields

    @admin.display(description="download")
    def downloads(self, obj: Release) -> str:
        return ref_downloads(obj.version)

    @admin.display(description="compatibility", ordering="compatibility")
    def compatibility_column(self, obj: Release) -> str:
        return compatibility_badge(obj.compatibility)

    @admin.display(description="commit")
    def commit_column(self, obj: Release) -> str:
        return format_html(
            '<a href="{}"><code>{}</code></a>', commit_url(obj.commit_id), obj.commit_id[:12]
        )

    @admin.display(description="changelog and migration plan")
    def changes_table(self, obj: Release) -> str:
        return render_to_string(
            "admin/versioning/release_changes.html",
            {"changelog": changelog_rows(obj.changelog), "plan": plan_rows(obj.migration_plan)},
        )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("changelog", "migration_plan")

    def get_object(self, request, object_id, from_field=None):
        return Release.objects.select_related("previous").filter(pk=object_id).first()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(releasable_branches(request.user))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # published releases are immutable

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # the "Cut a release" page

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        branches = list(Branch.objects.filter(protected=True, archived=False).order_by("name"))
        branch = _pick(request, branches)
        allowed = branch is not None and permissions.allowed(
            permissions.release_refusal, request.user, branch
        )
        form = CutForm(initial={"commit": branch.head_id if branch else ""})
        status = 200
        if request.method == "POST":
            if not allowed:
                raise PermissionDenied
            form = CutForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    release = releases.publish_release(
                        branch,
                        request.user,
                        version=data["version"] or None,
                        commit=data["commit"],
                        notes=data["notes"],
                        override=data["override"],
                    )
                except VersioningError as exc:
                    refused(request, exc)
                    status = exc.http_status
                else:
                    messages.success(
                        request,
                        f"Published release {release.version} of '{branch.name}' "
                        f"({release.compatibility.replace('_', ' ').lower()}).",
                    )
                    return HttpResponseRedirect(release_url(release))
        return self._cut_page(request, branches, branch, allowed, form, status)

    def _cut_page(
        self,
        request: HttpRequest,
        branches: list[Branch],
        branch: Branch | None,
        allowed: bool,
        form: CutForm,
        status: int,
    ) -> HttpResponse:
        preview = previous = None
        if branch is not None and branch.head_id:
            try:
                preview = releases.preview(branch.name)
                previous = preview.base  # the branch's latest release
            except VersioningError as exc:
                refused(request, exc)
                previous = releases.latest_release(branch.name)
        released = (
            previous is not None and preview is not None and (previous.commit_id == preview.commit)
        )
        findings = []
        if branch is not None and preview is not None and previous is not None and not released:
            findings = compat_modes.check_release(branch, previous, preview.commit, preview.changes)
        shown = preview.to_dict() if preview else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Cut a release",
            "page": "release_cut",
            "branch": selected_branch(request),
            "branches": branches,
            "cut_branch": branch,
            "previous": previous,
            "preview": shown,
            "changelog": changelog_rows(shown["changelog"]) if shown else [],
            "plan": plan_rows(shown["migrationPlan"]) if shown else [],
            "badge": compatibility_badge(preview.compatibility.value) if preview else "",
            "released": released,
            "dirty": branch is not None and services.has_uncommitted_changes(branch),
            "can_release": allowed,
            "mode": compat_modes.mode_of(branch).value if branch is not None else None,
            "findings": [f.to_dict() for f in findings],
            "can_override": allowed
            and permissions.allowed(
                permissions.override_compatibility_refusal, request.user, branch
            ),
            "form": form,
        }
        return TemplateResponse(
            request, "admin/versioning/release_cut.html", context, status=status
        )


def _pick(request: HttpRequest, branches: list[Branch]) -> Branch | None:
    """The branch asked for, else the steward's selected branch if protected, else main."""
    by_name = {b.name: b for b in branches}
    wanted = request.GET.get("branch") or request.POST.get("branch")
    if wanted:
        return by_name.get(wanted)
    selected = selected_branch(request)
    return by_name.get(selected.name) or by_name.get(MAIN_BRANCH) or next(iter(branches), None)
