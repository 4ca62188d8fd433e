"""Commits in the steward admin: the read-only commit list and page, and the pages
registered through ``CommitAdmin.get_urls``: changes and commit, discard, history (the
commit DAG), compare any two refs, revert.

Every write calls :mod:`versioning.services`; a refused write (stale head 409, protected
branch 403, ...) is shown as an admin error message, never a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import services
from ..exceptions import VersioningError
from ..models import MAIN_BRANCH, Branch, Commit
from . import dag
from .common import (
    can_commit,
    can_discard,
    changes_url,
    commit_url,
    is_uuid,
    read_only_reason,
    ref_choices,
    refused,
    selected_branch,
)
from .display import change_summary, docs_at, entity_cards, short_ref, words

HISTORY_LIMITS = (25, 50, 100, 200)


class CommitForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "placeholder": "Why this change?"}),
        max_length=5000,
    )
    expected_head = forms.CharField(required=False, widget=forms.HiddenInput)


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
        cards = entity_cards(found.diff, found.old, found.new, ref=branch.name, branch=branch.name)
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
            read_only_reason=read_only_reason(branch),
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
        bad = [r for r in rids if not is_uuid(r)]
        if bad:
            messages.error(request, f"Not an entity id: {', '.join(bad[:5])}.")
            return back
        if request.POST.get("confirm") != "yes":
            changes = services.changes(branch).to_dict()["changes"]
            chosen = [
                {**c, "entity_kind_text": words(c["entityKind"])}
                for c in changes
                if everything or c["rid"] in rids
            ]
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
            commits = dag.recent_commits(tips, limit)
            svg = dag.render_svg(
                commits, lambda c: commit_url(c.id), dag.ref_labels(c.id for c in commits)
            )
            if rid and is_uuid(rid):
                entity = services.entity_history(ref, rid, limit=limit)
            elif rid:
                messages.error(request, f"'{rid}' is not an entity rid (a UUID).")
        except VersioningError as exc:
            refused(request, exc)
        name = next((e["apiName"] for e in entity or [] if e.get("apiName")), None)
        context = self._context(
            request,
            f"History of '{name}' on '{ref}'" if name else f"History of '{ref}'",
            "history",
            ref=ref,
            scope=scope,
            limit=limit,
            limits=HISTORY_LIMITS,
            svg=svg,
            rid=rid,
            entity=entity,
            entity_name=name,
            refs=ref_choices(),
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
                cards = entity_cards(found.diff, found.old, found.new, ref=b, branch=b)
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
            refs=ref_choices(),
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
            cards = entity_cards(
                found.diff, found.old, found.new, ref=commit.id, branch=commit.branch_name
            )
        else:
            rids = sorted(commit.delta)
            docs = docs_at(commit.id, rids)
            cards = [
                {
                    "rid": rid,
                    "change": "added",
                    "entityKind": doc.get("kind", ""),
                    "entity_kind_text": words(doc.get("kind", "")),
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
