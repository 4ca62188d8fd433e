"""Branches in the admin: list them, create one from another branch, change a branch's
settings, manage who may edit and merge into each.

Every write goes through :mod:`versioning.services`: ``create_branch`` (copies the source
branch's rows set-based, with its head and working changes, grants its creator
``edit_branch`` on it and publishes the event), ``update_branch`` for the change form
(description, archived, protected: its rules are asked when the form is validated, so a
refusal shows on its field, and again under the branch lock when it is saved) and
``delete_branch``. The name is read-only once the branch exists. Per-branch grants
(``edit_branch``, ``merge_branch``) are managed on guardian's *Object permissions* page of
a branch (``change_branch`` model-wide); the change page lists who holds them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.options import csrf_protect_m
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from guardian.admin import GuardedModelAdmin
from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

from .. import permissions, services, store
from ..domain.graph import is_ancestor
from ..exceptions import VersioningError
from ..models import MAIN_BRANCH, Branch, Proposal, ProposalStatus
from ..selection import current_branch
from .display import ref_downloads


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


class BranchChangeForm(forms.ModelForm):
    """A branch's settings, validated by the rules of ``services.update_branch``."""

    #: the acting user, set on the class ``BranchAdmin.get_form`` builds for a request
    user = None

    class Meta:
        model = Branch
        fields = ("description", "protected", "archived", "compatibility_mode")
        help_texts = {
            "name": services.NAME_IS_FIXED,
            "protected": "Protected branches change only by merging a proposal, and releases "
            "are cut from them. main stays protected. Needs the versioning.change_branch "
            "permission on every branch (a grant on this branch is not enough).",
            "archived": "An archived branch is read-only (no edits, commits or merges into "
            "it); its old commits may be compacted. main cannot be archived.",
            "compatibility_mode": "Checked when a proposal merges into this branch and when "
            "a release is published from it (docs/releases.md). Needs the "
            "versioning.change_branch permission on every branch.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "compatibility_mode" in self.fields:
            self.fields["compatibility_mode"].required = False  # left out: unchanged

    def clean_compatibility_mode(self):
        return self.cleaned_data.get("compatibility_mode") or self.instance.compatibility_mode

    def settings_changed(self) -> dict:
        """The settings the steward changed, as ``update_branch`` takes them."""
        return {f: self.cleaned_data[f] for f in self.changed_data if f in services.BRANCH_SETTINGS}

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            changes = self.settings_changed()
            refusals = services.branch_update_refusals(self.instance, self.user, changes)
            for field, refusal in refusals.items():
                self.add_error(field, str(refusal))
        return cleaned


GRANTS = {"edit_branch": "edit", "merge_branch": "merge into"}


@admin.register(Branch)
class BranchAdmin(GuardedModelAdmin):
    add_form = BranchAddForm
    change_form_template = "admin/versioning/branch/change_form.html"
    actions = ["delete_selected", "archive_selected"]
    list_display = (
        "name",
        "state_column",
        "against_main",
        "uncommitted",
        "open_proposals",
        "head_column",
        "created_from",
    )
    list_filter = ("protected", "archived")
    search_fields = ("name", "description")
    list_select_related = ("head",)
    readonly_fields = (
        "head",
        "created_from",
        "created_by",
        "created_at",
        "updated_at",
        "grants",
        "downloads",
    )
    fields = (
        "name",
        "description",
        "protected",
        "archived",
        "compatibility_mode",
        *readonly_fields,
    )

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

    @admin.display(description="download")
    def downloads(self, obj: Branch) -> str:
        return ref_downloads(obj.name) if obj.pk else "-"

    @admin.display(description="head", ordering="head__generation")
    def head_column(self, obj: Branch) -> str:
        if not obj.head_id:
            return "-"
        url = reverse("admin:versioning_commit_change", args=[obj.head_id])
        return format_html('<a href="{}"><code>{}</code></a>', url, obj.head_id[:12])

    def get_changelist(self, request, **kwargs):
        self._main = Branch.objects.filter(name=MAIN_BRANCH).select_related("head").first()
        return super().get_changelist(request, **kwargs)

    @admin.display(description="state")
    def state_column(self, obj: Branch) -> str:
        return format_html('<span class="oms-badge {}">{}</span>', *_state(obj, self._main))

    @admin.display(description="vs main")
    def against_main(self, obj: Branch) -> str:
        """Commits ahead of and behind main."""
        if obj.name == MAIN_BRANCH:
            return "—"
        ahead, behind = ahead_behind(obj, self._main)
        return f"{ahead} ahead · {behind} behind"

    @admin.display(description="uncommitted", boolean=True)
    def uncommitted(self, obj: Branch) -> bool:
        return services.has_uncommitted_changes(obj)

    @admin.display(description="proposals")
    def open_proposals(self, obj: Branch) -> str:
        count = obj.outgoing_proposals.filter(status__in=Proposal.ACTIVE).count()
        if not count:
            return "0"
        url = reverse("admin:versioning_proposal_changelist")
        query = urlencode({"source_name": obj.name, "status__in": "open,approved"})
        return format_html('<a href="{}?{}">{}</a>', url, query, count)

    @admin.action(description="Archive selected branches")  # the service asks the rule
    def archive_selected(self, request, queryset):
        done = []
        for branch in queryset:
            try:
                services.archive_branch(branch, request.user)
            except VersioningError as exc:
                self.message_user(request, f"'{branch.name}': {exc}", messages.ERROR)
            else:
                done.append(branch.name)
        if done:
            self.message_user(request, f"Archived {', '.join(done)}.", messages.SUCCESS)

    def response_add(self, request, obj, post_url_continue=None):
        """Created: its page, which offers to switch to it (the header's selector)."""
        self.message_user(request, f"Created branch '{obj.name}' from '{obj.created_from}'.")
        return HttpResponseRedirect(reverse("admin:versioning_branch_change", args=[obj.pk]))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = BranchAddForm.Meta.fields
            return super().get_form(request, obj, change=change, **kwargs)
        kwargs["form"] = BranchChangeForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class built for this request by modelform_factory
        return form

    def has_change_permission(self, request, obj=None) -> bool:
        # a branch's page asks the service's rule (a grant on the branch counts); the
        # list and guardian's grant pages (obj=None) need change_branch model-wide
        if obj is None:
            return super().has_change_permission(request, obj)
        return permissions.allowed(permissions.describe_branch_refusal, request.user, obj)

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
        allowed = permissions.allowed(permissions.protect_branch_refusal, request.user, obj)
        stewards = ("protected", "compatibility_mode")  # change_branch model-wide, both
        return ("name", *(() if allowed else stewards), *self.readonly_fields)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None and request.method == "POST":
            # adding writes only through services.create_branch, in its own transaction:
            # as the outermost one it copies the source branch in one snapshot (REPEATABLE
            # READ), which Django's wrapping transaction, already used by the form's
            # queries, would prevent (an edit committed mid-copy would be half copied)
            return self._changeform_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        branch = Branch.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        main = Branch.objects.filter(name=MAIN_BRANCH).select_related("head").first()
        extra_context = {
            **(extra_context or {}),
            "can_manage_grants": super().has_change_permission(request),
            "offer_switch": branch is not None and branch != current_branch(request),
            "state": _state(branch, main) if branch else None,
        }
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except VersioningError as exc:  # refused under the lock after the form was valid
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request, obj: Branch, form, change: bool) -> None:
        if change:
            services.update_branch(obj, request.user, **form.settings_changed())
            return
        created = services.create_branch(
            obj.name,
            form.cleaned_data["create_from"].name,
            request.user,
            description=obj.description,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

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


def ahead_behind(branch: Branch, main: Branch | None) -> tuple[int, int]:
    """How many commits ``branch`` has that ``main`` lacks, and the reverse."""
    if main is None:
        return 0, 0
    ahead, behind = store.exclusive(store.Graph(), branch.head_id, main.head_id)
    return len(ahead), len(behind)


def _state(branch: Branch, main: Branch | None) -> tuple[str, str]:
    """(badge class, label): archived, protected, merged (a merged proposal took it and
    main has every commit of it: archive it) or active."""
    if branch.archived:
        return "", "archived"
    if branch.protected:
        return "oms-badge-warn", "protected"
    merged = (
        main is not None
        and branch.head_id
        and main.head_id
        and branch.outgoing_proposals.filter(status=ProposalStatus.MERGED).exists()
        and is_ancestor(branch.head_id, main.head_id, store.Graph())
    )
    if merged:
        return "oms-badge-info", "merged"
    return "oms-badge-ok", "active"
