"""Branches in the admin: list them, create one from another branch, manage who may edit
and merge into each.

Creating and deleting go through :mod:`versioning.services` (``create_branch`` copies the
source branch's rows set-based, with its head and working changes, grants its creator
``edit_branch`` on it and publishes the event). Per-branch grants (``edit_branch``,
``merge_branch``) are managed on guardian's *Object permissions* page of a branch; the
change page lists who holds them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.html import format_html_join
from guardian.admin import GuardedModelAdmin
from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

from . import permissions, services
from .exceptions import VersioningError
from .models import MAIN_BRANCH, Branch


class BranchAddForm(forms.ModelForm):
    create_from = forms.ModelChoiceField(
        queryset=Branch.objects.filter(archived=False),
        to_field_name="name",
        label="Create from branch",
        help_text="The new branch starts with a copy of this branch's ontology and head.",
    )

    class Meta:
        model = Branch
        fields = ("name", "create_from", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["create_from"].initial = self.initial.get("created_from") or MAIN_BRANCH


GRANTS = {"edit_branch": "edit", "merge_branch": "merge into"}


@admin.register(Branch)
class BranchAdmin(GuardedModelAdmin):
    add_form = BranchAddForm
    change_form_template = "admin/versioning/branch/change_form.html"
    actions = ["delete_selected"]
    list_display = ("name", "head_column", "protected", "archived", "created_from", "created_at")
    list_filter = ("protected", "archived")
    search_fields = ("name", "description")
    list_select_related = ("head",)
    readonly_fields = ("head", "created_from", "created_by", "created_at", "updated_at", "grants")
    fields = ("name", "description", "protected", "archived", *readonly_fields)

    @admin.display(description="who may edit / merge")
    def grants(self, obj: Branch) -> str:
        """The per-branch grants; model-wide holders (stewards) may do both everywhere."""
        rows = []
        holders = [
            *get_users_with_perms(obj, attach_perms=True, with_group_users=False).items(),
            *get_groups_with_perms(obj, attach_perms=True).items(),
        ]
        for holder, perms in holders:
            what = [GRANTS[p] for p in perms if p in GRANTS]
            if what:
                kind = "group" if hasattr(holder, "user_set") else "user"
                rows.append((kind, str(holder), " and ".join(what)))
        if not rows:
            return "No per-branch grants (only the model-wide permissions apply)."
        return format_html_join("; ", "{} <strong>{}</strong>: {}", rows)

    @admin.display(description="head", ordering="head__generation")
    def head_column(self, obj: Branch) -> str:
        return str(obj.head) if obj.head_id else "-"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = BranchAddForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def has_add_permission(self, request) -> bool:
        return permissions.allowed(permissions.create_branch_refusal, request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        # main and protected branches are the record; working branches are archived or deleted
        if obj is None:
            return super().has_delete_permission(request, obj)
        if obj.protected or obj.name == MAIN_BRANCH:
            return False
        return permissions.allowed(permissions.delete_branch_refusal, request.user, obj)

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, queryset):
        kept = [b.name for b in queryset if not self.has_delete_permission(request, b)]
        if kept:
            self.message_user(
                request,
                f"Protected branches cannot be deleted: {', '.join(kept)}.",
                messages.ERROR,
            )
            return None
        try:
            return django_delete_selected(self, request, queryset)
        except VersioningError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None

    def get_fields(self, request, obj=None):
        return BranchAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # a name is how commits, proposals, events and clients know a branch: never renamed;
        # main stays the protected record
        if obj.name == MAIN_BRANCH:
            return ("name", "protected", "archived", *self.readonly_fields)
        return ("name", *self.readonly_fields)

    def save_model(self, request, obj: Branch, form, change: bool) -> None:
        if change:
            self._save_change(request, obj, form)
            return
        created = services.create_branch(
            obj.name,
            form.cleaned_data["create_from"].name,
            request.user,
            description=obj.description,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def _save_change(self, request, obj: Branch, form) -> None:
        """Write only what the page edits: a full save would write the head it read and
        undo a commit made meanwhile. Archiving goes through the service (branch lock)."""
        fields = [f for f in ("description", "protected") if f in form.changed_data]
        if fields:
            obj.save(update_fields=[*fields, "updated_at"])
        if "archived" in form.changed_data:
            try:
                services.archive_branch(obj, request.user, archived=obj.archived)
            except VersioningError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def get_deleted_objects(self, objs, request):
        """A summary instead of every row of the working copies (they can be thousands)."""
        summary = [f"Branch '{b.name}' and its working copy of the ontology" for b in objs]
        return summary, {"branches": len(summary)}, set(), []

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except VersioningError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def delete_model(self, request, obj: Branch) -> None:
        services.delete_branch(obj, request.user)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for branch in queryset:
                services.delete_branch(branch, request.user)


# commits (read-only), proposals and the versioning pages: changes, history, diff, revert
# and releases (read-only) with the "Cut a release" page
from . import (  # noqa: E402
    admin_releases,  # noqa: F401  (registers ReleaseAdmin)
    admin_views,  # noqa: F401  (registers CommitAdmin and ProposalAdmin)
)
