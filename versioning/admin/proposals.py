"""Proposals in the steward admin: open one, the proposal page (dry run, conflicts grouped
by severity, the source's changes), resolve a conflict, approve, merge, update from the
target, close.

Every write calls :mod:`versioning.services`; a refused write (unresolved conflicts 409,
missing approval, ...) is shown as an admin error message, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from .. import releases, services
from ..domain.policy import Resolution
from ..exceptions import VersioningError
from ..models import MAIN_BRANCH, Branch, Proposal
from .common import (
    can_approve,
    can_close,
    can_comment,
    can_merge,
    can_override,
    can_request_changes,
    can_resolve,
    can_update,
    commit_url,
    proposal_url,
    refused,
    selected_branch,
    status_badge,
)
from .display import (
    as_label,
    change_summary,
    conflict_groups,
    conflict_label,
    docs_at,
    entity_cards,
    merge_blockers,
)


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
            path("<int:pk>/comment/", wrap(self.comment_view), name="versioning_proposal_comment"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict:
        # the versioning bar shows the proposal's source branch on a proposal's pages
        proposal = extra.get("proposal")
        branch = proposal.source if proposal and proposal.source else selected_branch(request)
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "branch": branch,
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
        try:
            if proposal.is_active:
                run = services.dry_run(proposal)
            elif proposal.merge_commit_id:
                run = merged_record(proposal)
        except VersioningError as exc:
            refused(request, exc)
        groups, cards, predicted = [], [], None
        if run is not None:
            rids = [c["rid"] for c in run["diff"]]
            source_docs = docs_at(run["sourceHead"], rids)
            cards = entity_cards(
                run["diff"],
                docs_at(run["base"], rids),
                source_docs,
                ref=run["sourceHead"],
                branch=proposal.source_name,
            )
            named = {**docs_at(run["targetHead"], [c["rid"] for c in run["conflicts"]])}
            named.update(docs_at(run["sourceHead"], [c["rid"] for c in run["conflicts"]]))
            groups = conflict_groups(run["conflicts"], proposal.resolutions, named)
            predicted = predict_release(proposal, run)
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
            approvals=proposal.approvals.select_related("user").order_by("created_at"),
            current_approvals=set(
                services.current_approvals(proposal, run["sourceHead"]).values_list("pk", flat=True)
            )
            if run
            else set(),
            predicted=predicted,
            status_html=status_badge(proposal.status, proposal.get_status_display()),
            reviewers=proposal.reviewers.all(),
            can_approve=can_approve(user, proposal),
            can_merge=can_merge(user, proposal),
            can_override=can_override(user, proposal),
            can_update=bool(run)
            and can_update(user, proposal)
            and run["base"] != run["targetHead"],
            can_close=can_close(user, proposal),
            can_resolve=can_resolve(user, proposal),
            comments=proposal.comments.all(),
            can_comment=can_comment(user, proposal),
            can_request_changes=can_request_changes(user, proposal),
            changes_requested=services.changes_requested(proposal),
            comment_draft=request.session.pop("oms_comment_draft", ""),
            max_comment=services.MAX_COMMENT,
            merge_blockers=merge_blockers(run) if run and proposal.is_active else [],
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
            if choice == "value":
                what = f"set the edited value {as_label(value)}"
            else:
                what = done.get(choice or "", "cleared your choice")
            messages.success(
                request, f"Conflict on {_conflict_name(proposal, conflict_id)}: {what}."
            )
        return HttpResponseRedirect(url + "#conflicts")

    def comment_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Add a comment, or (the *Request changes* button) a reviewer's request for
        changes, through ``services.comment``; a refusal is a message, the text is kept."""
        proposal = get_object_or_404(Proposal.objects.select_related("target"), pk=pk)
        url = proposal_url(pk)
        if request.method != "POST":
            return HttpResponseRedirect(url)
        request_changes = "request_changes" in request.POST
        allowed = can_request_changes if request_changes else can_comment
        if not allowed(request.user, proposal):
            raise PermissionDenied
        body = request.POST.get("body", "")
        try:
            services.comment(proposal, request.user, body, request_changes=request_changes)
        except VersioningError as exc:
            refused(request, exc)
            request.session["oms_comment_draft"] = body[: services.MAX_COMMENT + 1]
        else:
            messages.success(
                request,
                "You requested changes: the merge waits for your approval."
                if request_changes
                else "Comment added.",
            )
        return HttpResponseRedirect(url + "#discussion")

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
                override = request.POST.get("override") == "yes"
                commit = services.merge_proposal(proposal, user, override=override)
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


def _conflict_name(proposal: Proposal, conflict_id: str) -> str:
    """A conflict of the proposal's dry run by entity and path names, not its id."""
    run = services.dry_run(proposal)
    conflict = next((c for c in run["conflicts"] if c["id"] == conflict_id), None)
    if conflict is None:
        return "an entity"
    rid = conflict["rid"]
    doc = docs_at(run["sourceHead"], [rid]).get(rid) or docs_at(run["targetHead"], [rid]).get(rid)
    return conflict_label(conflict, doc)


def merged_record(proposal: Proposal) -> dict[str, Any]:
    """What a merged proposal merged, recomputed from its merge commit (commits are
    immutable): the three-way merge of the source head it took into the target head it
    was made on, with the stored resolutions (who chose what), and the source's changes
    since their merge base. The same keys as ``services.dry_run`` where they apply."""
    commit = proposal.merge_commit
    resolutions = {
        cid: Resolution(item.get("choice"), item.get("value"))
        for cid, item in (proposal.resolutions or {}).items()
    }
    merge = services.three_way(commit.parent_id, commit.merge_parent_id, resolutions)
    found = services.compare_commits(merge.base, merge.theirs)
    return {
        "status": proposal.status,
        "base": merge.base,
        "targetHead": merge.ours,
        "sourceHead": merge.theirs,
        "diff": found.diff.to_dict()["changes"],
        "conflicts": [c.to_dict() for c in merge.result.conflicts],
        "merged": True,
    }


def predict_release(proposal: Proposal, run: dict[str, Any]) -> releases.Preview:
    """The compatibility class of the proposal's changes (merge base -> source head) and
    the version bump they call for after the target's latest release."""
    return releases.Preview(
        ref=proposal.source_name,
        commit=run["sourceHead"],
        since=proposal.target_name,
        since_commit=run["base"],
        base=releases.latest_release(proposal.target_name),
        changes=releases.classify_commits(run["base"], run["sourceHead"]),
    )
