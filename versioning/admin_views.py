"""Versioning in the steward admin: changes and commit, history (DAG), diff, commits,
proposals (dry run, conflicts, resolve, approve, merge, update, close) and revert.

Every write calls :mod:`versioning.services`; a refused write (stale head 409, protected
branch 403, unresolved conflicts 409, ...) is shown as an admin error message, never a
500. The pages are registered through ``CommitAdmin.get_urls`` and
``ProposalAdmin.get_urls``; ``versioning/admin.py`` imports this module, which registers
them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from . import admin_dag, permissions, services
from .admin_display import (
    change_summary,
    conflict_groups,
    docs_at,
    entity_cards,
    merge_blockers,
    short_ref,
)
from .exceptions import VersioningError
from .models import MAIN_BRANCH, Branch, Commit, Proposal, ProposalStatus
from .selection import current_branch

HISTORY_LIMITS = (25, 50, 100, 200)


# --- the steward's branch and permissions ---------------------------------------------------


def selected_branch(request: HttpRequest) -> Branch:
    """The branch picked in the admin header (main by default)."""
    return current_branch(request)


def writable(branch: Branch) -> bool:
    return not (branch.protected or branch.archived)


# The rules are versioning.permissions' (the services enforce them); these add what the
# page needs to show a button: the branch or proposal is in a state the action fits.


def can_commit(user: Any, branch: Branch) -> bool:
    """Commit (and revert, update from target) on ``branch``: not protected or archived,
    and ``permissions.commit_refusal`` lets the user."""
    return writable(branch) and permissions.allowed(permissions.commit_refusal, user, branch)


def can_discard(user: Any, branch: Branch) -> bool:
    """Discard working changes: not protected or archived, and the right to edit."""
    return writable(branch) and permissions.allowed(permissions.edit_refusal, user, branch)


def can_approve(user: Any, proposal: Proposal) -> bool:
    """Active, ``permissions.approve_refusal`` lets the user, and they have not approved
    the source as it is now."""
    return (
        proposal.is_active
        and permissions.allowed(permissions.approve_refusal, user, proposal)
        and not services.current_approvals(proposal).filter(user=user).exists()
    )


def can_merge(user: Any, proposal: Proposal) -> bool:
    return (
        proposal.is_active
        and proposal.target is not None
        and permissions.allowed(permissions.merge_refusal, user, proposal)
    )


def can_close(user: Any, proposal: Proposal) -> bool:
    """Close: the author, or anyone who may change proposals."""
    return proposal.is_active and permissions.allowed(permissions.close_refusal, user, proposal)


def can_resolve(user: Any, proposal: Proposal) -> bool:
    """Resolve conflicts: the author, ``change_proposal`` or ``merge_branch`` on the target."""
    return proposal.is_active and permissions.allowed(permissions.resolve_refusal, user, proposal)


def can_update(user: Any, proposal: Proposal) -> bool:
    return proposal.is_active and proposal.source is not None and can_commit(user, proposal.source)


def refused(request: HttpRequest, exc: VersioningError) -> None:
    """A service's refusal as an admin error message (with its HTTP meaning)."""
    conflicts = getattr(exc, "conflicts", None) or []
    names = ", ".join(
        f"{c.get('apiName') or c.get('rid')} {'.'.join(map(str, c.get('path') or []))}".strip()
        for c in conflicts[:5]
    )
    detail = f" ({names}{', …' if len(conflicts) > 5 else ''})" if names else ""
    messages.error(request, f"{exc}{detail}")


# --- forms ----------------------------------------------------------------------------------


class CommitForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "placeholder": "Why this change?"}),
        max_length=5000,
    )
    expected_head = forms.CharField(required=False, widget=forms.HiddenInput)


class ProposalForm(forms.Form):
    source = forms.ModelChoiceField(
        Branch.objects.filter(archived=False), to_field_name="name", label="Merge branch"
    )
    target = forms.ModelChoiceField(
        Branch.objects.filter(archived=False), to_field_name="name", label="Into branch"
    )
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60}))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )
    reviewers = forms.ModelMultipleChoiceField(
        get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Who should review it (optional).",
    )


# --- Commit admin: commit page, changes, history, diff, revert ------------------------------


@admin.register(Commit)
class CommitAdmin(admin.ModelAdmin):
    """Commits are immutable: a read-only list, and the commit page as the change view."""

    list_display = ("short_id", "first_line", "author_name", "branch_name", "created_at")
    list_filter = ("branch_name",)
    search_fields = ("id", "message", "author_name")
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="commit", ordering="id")
    def short_id(self, obj: Commit) -> str:
        return obj.id[:12]

    @admin.display(description="message")
    def first_line(self, obj: Commit) -> str:
        line = (obj.message.splitlines() or [""])[0][:100]
        if obj.merge_parent_id:
            return format_html('<span class="oms-badge oms-badge-info">merge</span> {}', line)
        return line

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("changes/", wrap(self.changes_view), name="versioning_changes"),
            path("changes/discard/", wrap(self.discard_view), name="versioning_discard"),
            path("history/", wrap(self.history_view), name="versioning_history"),
            path("diff/", wrap(self.diff_view), name="versioning_diff"),
            path("<str:object_id>/revert/", wrap(self.revert_view), name="versioning_revert"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, page: str, **extra: Any) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        branch = extra.pop("branch", None) or selected_branch(request)
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "page": page,
            "branch": branch,
            **extra,
        }

    # changes of a branch and the commit form

    def changes_view(self, request: HttpRequest) -> HttpResponse:
        name = request.GET.get("branch")
        branch = get_object_or_404(Branch, name=name) if name else selected_branch(request)
        allowed = can_commit(request.user, branch)
        form = CommitForm(initial={"expected_head": branch.head_id or ""})
        status = 200
        if request.method == "POST":
            if not allowed:
                raise PermissionDenied
            form = CommitForm(request.POST)
            if form.is_valid():
                try:
                    commit = services.commit_changes(
                        branch,
                        request.user,
                        form.cleaned_data["message"],
                        expected_head=form.cleaned_data["expected_head"] or None,
                    )
                except VersioningError as exc:
                    refused(request, exc)
                    status = exc.http_status
                else:
                    messages.success(
                        request,
                        f"Committed {commit.id[:12]} on '{branch.name}': "
                        f"{len(commit.delta)} entity change(s).",
                    )
                    return HttpResponseRedirect(commit_url(commit.id))
            branch.refresh_from_db()
        found = services.compare_working_copy(branch)
        cards = entity_cards(found.diff, found.old, found.new)
        context = self._context(
            request,
            f"Uncommitted changes on '{branch.name}'",
            "changes",
            branch=branch,
            cards=cards,
            summary=change_summary(cards),
            form=form,
            can_commit=allowed,
            can_discard=can_discard(request.user, branch),
            read_only_reason=_read_only_reason(branch),
            head=branch.head,
        )
        return TemplateResponse(request, "admin/versioning/changes.html", context, status=status)

    def discard_view(self, request: HttpRequest) -> HttpResponse:
        """Discard a branch's uncommitted changes (all, or the entities ticked), after a
        confirmation page listing them; through ``services.discard_changes``."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:versioning_changes"))
        branch = get_object_or_404(Branch, name=request.POST.get("branch", ""))
        back = HttpResponseRedirect(changes_url(branch.name))
        if not can_discard(request.user, branch):
            raise PermissionDenied
        everything = request.POST.get("scope") == "all"
        rids = [] if everything else [r for r in request.POST.getlist("rid") if r]
        if not everything and not rids:
            messages.error(request, "Tick the entities whose changes to discard.")
            return back
        bad = [r for r in rids if not _is_uuid(r)]
        if bad:
            messages.error(request, f"Not an entity id: {', '.join(bad[:5])}.")
            return back
        if request.POST.get("confirm") != "yes":
            changes = services.changes(branch).to_dict()["changes"]
            chosen = [c for c in changes if everything or c["rid"] in rids]
            context = self._context(
                request,
                f"Discard changes on '{branch.name}'?",
                "changes",
                branch=branch,
                chosen=chosen,
                rids=rids,
                scope="all" if everything else "selected",
                head=branch.head,
            )
            return TemplateResponse(request, "admin/versioning/discard.html", context)
        try:
            discarded = services.discard_changes(branch, request.user, None if everything else rids)
        except VersioningError as exc:
            refused(request, exc)
        else:
            messages.success(
                request,
                f"Discarded the changes of {len(discarded)} entit"
                f"{'y' if len(discarded) == 1 else 'ies'} on '{branch.name}': back to "
                f"{(branch.head_id or '')[:12]}.",
            )
        return back

    # history with the commit DAG

    def history_view(self, request: HttpRequest) -> HttpResponse:
        branch = selected_branch(request)
        ref = (request.GET.get("ref") or branch.name).strip()
        scope = request.GET.get("scope", "main")
        try:
            limit = max(1, min(int(request.GET.get("limit", 50)), 500))
        except ValueError:
            limit = 50
        svg = None
        entity = None
        rid = request.GET.get("rid", "").strip()
        try:
            tips = [services.resolve_ref(ref).id]
            if scope == "all":
                tips += Branch.objects.filter(archived=False, head__isnull=False).values_list(
                    "head_id", flat=True
                )
            elif scope == "main":
                tips += Branch.objects.filter(name=MAIN_BRANCH).values_list("head_id", flat=True)
            commits = admin_dag.recent_commits(tips, limit)
            svg = admin_dag.render_svg(
                commits, lambda c: commit_url(c.id), admin_dag.branch_labels(c.id for c in commits)
            )
            if rid and _is_uuid(rid):
                entity = services.entity_history(ref, rid, limit=limit)
            elif rid:
                messages.error(request, f"'{rid}' is not an entity rid (a UUID).")
        except VersioningError as exc:
            refused(request, exc)
        context = self._context(
            request,
            f"History of '{ref}'",
            "history",
            ref=ref,
            scope=scope,
            limit=limit,
            limits=HISTORY_LIMITS,
            svg=svg,
            rid=rid,
            entity=entity,
            refs=_ref_choices(),
        )
        return TemplateResponse(request, "admin/versioning/history.html", context)

    # diff of any two refs

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        branch = selected_branch(request)
        default_b = branch.name if branch.name != MAIN_BRANCH else ""
        a = (request.GET.get("a") or MAIN_BRANCH).strip()
        b = (request.GET.get("b") or default_b).strip()
        cards = None
        if a and b:
            try:
                found = services.compare_commits(services.commit_id_of(a), services.commit_id_of(b))
                cards = entity_cards(found.diff, found.old, found.new)
            except VersioningError as exc:
                refused(request, exc)
        context = self._context(
            request,
            "Compare refs",
            "diff",
            a=a,
            b=b,
            a_label=short_ref(a),
            b_label=short_ref(b),
            cards=cards,
            summary=change_summary(cards or []),
            refs=_ref_choices(),
        )
        return TemplateResponse(request, "admin/versioning/diff.html", context)

    # the commit page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        commit = Commit.objects.filter(id=object_id).select_related("author").first()
        if commit is None:
            raise Http404(f"No commit {object_id}.")
        cards: list[dict] = []
        if commit.parent_id:
            found = services.compare_commits(commit.parent_id, commit.id)
            cards = entity_cards(found.diff, found.old, found.new)
        else:
            rids = sorted(commit.delta)
            docs = docs_at(commit.id, rids)
            cards = [
                {
                    "rid": rid,
                    "change": "added",
                    "entityKind": doc.get("kind", ""),
                    "apiName": doc.get("apiName", ""),
                    "fields": [],
                    "rows": None,
                }
                for rid, doc in sorted(docs.items(), key=lambda i: i[1].get("apiName", ""))
            ]
        children = Commit.objects.filter(Q(parent=commit) | Q(merge_parent=commit)).only(
            "id", "message"
        )
        branches = [b for b in Branch.objects.filter(archived=False) if can_commit(request.user, b)]
        selected = selected_branch(request)
        context = self._context(
            request,
            f"Commit {commit.id[:12]}",
            "commit",
            commit=commit,
            parents=Commit.objects.filter(id__in=commit.parent_ids).only("id", "message"),
            children=children,
            heads=Branch.objects.filter(head=commit).values_list("name", flat=True),
            cards=cards,
            summary=change_summary(cards),
            root=commit.parent_id is None,
            revert_branches=branches,
            revert_default=selected.name if selected in branches else commit.branch_name,
            object_id=commit.id,
            original=commit,
        )
        return TemplateResponse(request, "admin/versioning/commit.html", context)

    def revert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(commit_url(object_id))
        commit = get_object_or_404(Commit, id=object_id)
        branch = get_object_or_404(Branch, name=request.POST.get("branch", ""))
        if not can_commit(request.user, branch):
            raise PermissionDenied
        try:
            revert = services.revert_commit(branch, commit, request.user)
        except VersioningError as exc:
            refused(request, exc)
            return HttpResponseRedirect(commit_url(commit.id))
        messages.success(
            request, f"Reverted {commit.id[:12]} on '{branch.name}' with {revert.id[:12]}."
        )
        return HttpResponseRedirect(commit_url(revert.id))


def changes_url(branch: str) -> str:
    return f"{reverse('admin:versioning_changes')}?{urlencode({'branch': branch})}"


def commit_url(commit_id: str) -> str:
    return reverse("admin:versioning_commit_change", args=[commit_id])


def proposal_url(pk: int) -> str:
    return reverse("admin:versioning_proposal_change", args=[pk])


def _read_only_reason(branch: Branch) -> str:
    if branch.archived:
        return f"'{branch.name}' is archived."
    if branch.protected:
        return f"'{branch.name}' is protected: it changes only by merging a proposal."
    return ""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _ref_choices() -> list[str]:
    """Branch names and the newest commit ids, for the ref pickers."""
    names = list(Branch.objects.filter(archived=False).values_list("name", flat=True))
    return names + [c[:12] for c in Commit.objects.values_list("id", flat=True)[:20]]


# --- Proposal admin: the proposal page and its actions --------------------------------------


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "branches", "status_badge", "author", "created_at")
    list_display_links = ("number", "title")
    list_filter = ("status", "target_name")
    search_fields = ("title", "description", "source_name", "target_name")
    list_select_related = ("author",)

    @admin.display(description="#", ordering="pk")
    def number(self, obj: Proposal) -> str:
        return f"#{obj.pk}"

    @admin.display(description="source → target")
    def branches(self, obj: Proposal) -> str:
        return f"{obj.source_name} → {obj.target_name}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Proposal) -> str:
        return status_badge(obj.status, obj.get_status_display())

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a proposal is a record: close it instead

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/resolve/", wrap(self.resolve_view), name="versioning_proposal_resolve"),
            path("<int:pk>/act/", wrap(self.act_view), name="versioning_proposal_act"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "branch": selected_branch(request),
            **extra,
        }

    # create

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        branch = selected_branch(request)
        initial = {"source": branch.name if not branch.protected else None}
        initial["target"] = (
            branch.created_from
            if branch.created_from and Branch.objects.filter(name=branch.created_from).exists()
            else MAIN_BRANCH
        )
        form = ProposalForm(initial=initial)
        if request.method == "POST":
            form = ProposalForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    proposal = services.open_proposal(
                        data["source"],
                        data["target"],
                        data["title"],
                        request.user,
                        description=data["description"],
                        reviewers=data["reviewers"],
                    )
                except VersioningError as exc:
                    refused(request, exc)
                else:
                    messages.success(request, f"Opened proposal #{proposal.pk}.")
                    return HttpResponseRedirect(proposal_url(proposal.pk))
        context = self._context(request, "New proposal", form=form, page="proposal_add")
        return TemplateResponse(request, "admin/versioning/proposal_add.html", context)

    # the proposal page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = (
            Proposal.objects.select_related("source", "target", "author", "merge_commit")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if proposal is None:
            raise Http404(f"No proposal {object_id}.")
        if not self.has_view_or_change_permission(request, proposal):
            raise PermissionDenied
        user = request.user
        run = None
        if proposal.is_active:
            try:
                run = services.dry_run(proposal)
            except VersioningError as exc:
                refused(request, exc)
        groups, cards = [], []
        if run is not None:
            groups = conflict_groups(run["conflicts"], proposal.resolutions)
            rids = [c["rid"] for c in run["diff"]]
            cards = entity_cards(
                run["diff"], docs_at(run["base"], rids), docs_at(run["sourceHead"], rids)
            )
        context = self._context(
            request,
            f"Proposal #{proposal.pk}: {proposal.title}",
            page="proposal",
            proposal=proposal,
            original=proposal,
            object_id=proposal.pk,
            run=run,
            groups=groups,
            cards=cards,
            summary=change_summary(cards),
            approvals=proposal.approvals.select_related("user"),
            reviewers=proposal.reviewers.all(),
            can_approve=can_approve(user, proposal),
            can_merge=can_merge(user, proposal),
            can_update=bool(run)
            and can_update(user, proposal)
            and run["base"] != run["targetHead"],
            can_close=can_close(user, proposal),
            can_resolve=can_resolve(user, proposal),
            merge_blockers=merge_blockers(run) if run else [],
        )
        return TemplateResponse(request, "admin/versioning/proposal.html", context)

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = get_object_or_404(Proposal.objects.select_related("target"), pk=pk)
        url = proposal_url(pk)
        if request.method != "POST":
            return HttpResponseRedirect(url)
        if not can_resolve(request.user, proposal):
            raise PermissionDenied
        conflict_id = request.POST.get("conflict", "")
        choice = request.POST.get("choice") or None
        value = None
        if choice is None:
            messages.error(request, "Choose ours, theirs or an edited value.")
            return HttpResponseRedirect(url + "#conflicts")
        if choice == "clear":
            choice = None
        elif choice == "value":
            try:
                value = json.loads(request.POST.get("value", ""))
            except ValueError as exc:
                messages.error(
                    request,
                    f"The edited value is not valid JSON ({exc}); put text in double quotes.",
                )
                return HttpResponseRedirect(url)
        try:
            services.resolve(proposal, conflict_id, choice, value, request.user)
        except VersioningError as exc:
            refused(request, exc)
        else:
            done = {"ours": "kept the target's value", "theirs": "took the source's value"}
            what = done.get(choice or "", "set an edited value") if choice else "cleared"
            messages.success(request, f"Conflict {conflict_id}: {what}.")
        return HttpResponseRedirect(url + "#conflicts")

    def act_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = get_object_or_404(Proposal.objects.select_related("source", "target"), pk=pk)
        url = proposal_url(pk)
        if request.method != "POST":
            return HttpResponseRedirect(url)
        action = request.POST.get("action")
        user = request.user
        checks = {
            "approve": can_approve,
            "merge": can_merge,
            "update": can_update,
            "close": can_close,
        }
        if action not in checks:
            messages.error(request, f"Unknown action {action!r}.")
            return HttpResponseRedirect(url)
        if not checks[action](user, proposal):
            raise PermissionDenied
        try:
            if action == "approve":
                services.approve(proposal, user)
                messages.success(request, f"You approved proposal #{pk}.")
            elif action == "merge":
                commit = services.merge_proposal(proposal, user)
                messages.success(
                    request,
                    format_html(
                        "Merged '{}' into '{}' with commit <a href=\"{}\">{}</a>.",
                        proposal.source_name,
                        proposal.target_name,
                        commit_url(commit.id),
                        commit.id[:12],
                    ),
                )
            elif action == "update":
                commit = services.update_from_target(proposal, user)
                messages.success(
                    request,
                    f"Brought '{proposal.target_name}' into '{proposal.source_name}' "
                    f"with commit {commit.id[:12]}.",
                )
            else:
                services.close_proposal(proposal, user)
                messages.success(request, f"Closed proposal #{pk}.")
        except VersioningError as exc:
            refused(request, exc)
        return HttpResponseRedirect(url)


def status_badge(status: str, label: str) -> str:
    css = {
        ProposalStatus.OPEN: "oms-badge-info",
        ProposalStatus.APPROVED: "oms-badge-ok",
        ProposalStatus.MERGED: "oms-badge-ok",
        ProposalStatus.CLOSED: "",
    }.get(status, "")
    return format_html('<span class="oms-badge {}">{}</span>', css, label)
