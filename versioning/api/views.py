"""Versioning REST endpoints: branches, commits, changes, diff, reading at any ref,
entity history, proposals and revert.

Views are thin: check the permission early (the rule of :mod:`versioning.permissions`
that the service enforces again and the admin asks too), parse, call one service,
serialise. Domain errors carry their HTTP status and are rendered in the common error
format by ``oms_site.api.exception_handler``.
"""

from __future__ import annotations

import uuid

from django.db.models import Count, Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from oms_site.api import ErrorSerializer

from .. import permissions, services
from ..exceptions import UnknownRefError
from ..models import Approval, Branch, Proposal
from . import serializers as s

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input (the field at fault)."),
    403: OpenApiResponse(ErrorSerializer, description="Forbidden or protected branch."),
    404: OpenApiResponse(ErrorSerializer, description="Unknown branch, ref or proposal."),
    409: OpenApiResponse(
        ErrorSerializer, description="Stale head, unresolved conflicts or invalid state."
    ),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


#: a parameter that must not be empty (the server refuses an empty one with a 400)
NON_EMPTY = {"type": "string", "minLength": 1}
UUID = {"type": "string", "format": "uuid"}


def _param(name: str, description: str, location=OpenApiParameter.PATH, required=True, schema=None):
    """A string parameter; a required one may not be empty."""
    schema = schema or (NON_EMPTY if required else {"type": "string"})
    return OpenApiParameter(name, schema, location, description=description, required=required)


BRANCH = _param("branch", "Branch name (may contain '/').")
REF = _param("ref", "Branch name, commit id (or unique prefix ≥ 7) or release.")
RID = _param("rid", "Stable id (UUID) of a top-level entity.", schema=UUID)
PROPOSAL = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The proposal's number."
)
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 500},
    OpenApiParameter.QUERY,
    description="Page size (≤ 500).",
)


def _limit(request, default: int = 50) -> int:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({"limit": ["A whole number."]}) from None
    if not 1 <= value <= 500:
        raise exceptions.ValidationError({"limit": ["Between 1 and 500."]})
    return value


def _rid(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise exceptions.ValidationError({"rid": ["Not a UUID."]}) from None


class VersioningView(GenericAPIView):
    """Reads are public like the rest of the API; writes need the named permission."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.BranchSerializer  # per method in the schema; unused otherwise
    pagination_class = None

    def require(self, rule: permissions.Rule, *args) -> None:
        """Answer 403 before reading the body when the service's rule refuses the user."""
        permissions.check(rule, self.request.user, *args)

    def body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def branch(name: str) -> Branch:
        return services.get_branch(name)

    def get_queryset(self):  # pragma: no cover - schema generation only
        return Branch.objects.none()


# --- branches ------------------------------------------------------------------------------


class BranchListView(VersioningView):
    @extend_schema(
        operation_id="branches_list",
        summary="List branches",
        parameters=[
            OpenApiParameter("archived", OpenApiTypes.BOOL, OpenApiParameter.QUERY),
        ],
        responses={200: s.BranchSerializer(many=True)},
        tags=["versioning"],
    )
    def get(self, request):
        qs = Branch.objects.select_related("created_by").order_by("name")
        archived = request.query_params.get("archived")
        if archived is not None:
            if archived not in ("true", "false"):
                raise exceptions.ValidationError({"archived": ["Give true or false."]})
            qs = qs.filter(archived=archived == "true")
        return Response(s.BranchSerializer(qs, many=True).data)

    @extend_schema(
        operation_id="branches_create",
        summary="Create a branch from a branch, commit or release",
        request=s.BranchCreateSerializer,
        responses={201: s.BranchSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request):
        self.require(permissions.create_branch_refusal)
        data = self.body(s.BranchCreateSerializer)
        branch = services.create_branch(
            data["name"], data["from"], request.user, description=data["description"]
        )
        return Response(s.BranchSerializer(branch).data, status=status.HTTP_201_CREATED)


class BranchDetailView(VersioningView):
    @extend_schema(
        operation_id="branches_retrieve",
        summary="One branch",
        parameters=[BRANCH],
        responses={200: s.BranchDetailSerializer, **errors(404)},
        tags=["versioning"],
    )
    def get(self, request, branch: str):
        return Response(s.BranchDetailSerializer(self.detail(branch)).data)

    @staticmethod
    def detail(name: str) -> Branch:
        found = (
            Branch.objects.annotate(uncommitted_count=Count("working_changes"))
            .select_related("created_by")
            .filter(name=name)
            .first()
        )
        if found is None:
            raise UnknownRefError(f"No branch '{name}'.", field="branch")
        return found

    @extend_schema(
        operation_id="branches_partial_update",
        summary="Change a branch's description, archived or protected setting",
        description="Only the fields sent change (one transaction under the branch lock, one "
        "branch.updated.v1 event when something changed). Needs versioning.change_branch "
        "model-wide or granted on the branch; protected needs it model-wide. main can be "
        "neither archived nor unprotected (403 protected_branch). The name never changes: "
        "any other field is refused (400 naming it).",
        parameters=[BRANCH],
        request=s.BranchUpdateSerializer,
        responses={200: s.BranchDetailSerializer, **errors(400, 403, 404)},
        tags=["versioning"],
    )
    def patch(self, request, branch: str):
        found = self.branch(branch)
        self.require(permissions.describe_branch_refusal, found)
        data = self.body(s.BranchUpdateSerializer)
        services.update_branch(found, request.user, **data)
        return Response(s.BranchDetailSerializer(self.detail(branch)).data)

    @extend_schema(
        operation_id="branches_destroy",
        summary="Delete a branch and its working copy",
        parameters=[BRANCH],
        responses={204: None, **errors(403, 404, 409)},
        tags=["versioning"],
    )
    def delete(self, request, branch: str):
        found = self.branch(branch)
        self.require(permissions.delete_branch_refusal, found)
        services.delete_branch(found, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommitListView(VersioningView):
    @extend_schema(
        operation_id="branches_commits_list",
        summary="History of a branch (first parent, newest first)",
        parameters=[
            BRANCH,
            LIMIT,
            _param("after", "Last commit id of the previous page.", OpenApiParameter.QUERY, False),
        ],
        responses={200: s.CommitPageSerializer, **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request, branch: str):
        self.branch(branch)
        limit = _limit(request)
        commits = services.history(
            branch, limit=limit + 1, after=request.query_params.get("after") or None
        )
        page = commits[:limit]
        cursor = page[-1].id if len(commits) > limit else None
        return Response({"results": s.CommitSerializer(page, many=True).data, "next": cursor})

    @extend_schema(
        operation_id="branches_commits_create",
        summary="Commit the branch's working changes",
        parameters=[BRANCH],
        request=s.CommitCreateSerializer,
        responses={201: s.CommitDetailSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, branch: str):
        found = self.branch(branch)
        self.require(permissions.commit_refusal, found)
        data = self.body(s.CommitCreateSerializer)
        commit = services.commit_changes(
            found, request.user, data["message"], expected_head=data["expectedHead"]
        )
        return Response(s.CommitDetailSerializer(commit).data, status=status.HTTP_201_CREATED)


class ChangesView(VersioningView):
    @extend_schema(
        operation_id="branches_changes",
        summary="Uncommitted changes of a branch (entity and field level)",
        parameters=[BRANCH],
        responses={200: s.ChangesSerializer, **errors(404)},
        tags=["versioning"],
    )
    def get(self, request, branch: str):
        found = self.branch(branch)
        diff = services.changes(found)
        return Response(
            {"branch": found.name, "head": found.head_id, "changes": diff.to_dict()["changes"]}
        )


class DiscardView(VersioningView):
    @extend_schema(
        operation_id="branches_changes_discard",
        summary="Discard uncommitted changes (all, or those of the given rids)",
        description="Each changed entity goes back to its document at the branch head: "
        "deleted ones are re-created, new ones deleted, updated ones restored. Needs the "
        "right to edit the branch (versioning.edit_branch, model-wide or granted on it). "
        "Rids without an uncommitted change are skipped.",
        parameters=[BRANCH],
        request=s.DiscardSerializer,
        responses={200: s.DiscardResultSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, branch: str):
        found = self.branch(branch)
        data = self.body(s.DiscardSerializer)
        rids = data["rids"]
        discarded = services.discard_changes(
            found, request.user, None if rids is None else [str(r) for r in rids]
        )
        return Response({"branch": found.name, "head": found.head_id, "discarded": discarded})


class EntityHistoryView(VersioningView):
    @extend_schema(
        operation_id="branches_entity_history",
        summary="Commits of a branch that changed one entity",
        parameters=[BRANCH, RID, LIMIT],
        responses={200: s.EntityHistorySerializer(many=True), **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request, branch: str, rid: str):
        self.branch(branch)
        rows = services.entity_history(branch, _rid(rid), limit=_limit(request))
        return Response(s.EntityHistorySerializer(rows, many=True).data)


class RevertView(VersioningView):
    throttle_scope = "merge"  # oms_site/throttling.py

    @extend_schema(
        operation_id="branches_revert",
        summary="Revert a commit as a new commit on the branch",
        parameters=[BRANCH],
        request=s.RevertSerializer,
        responses={201: s.CommitDetailSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, branch: str):
        found = self.branch(branch)
        self.require(permissions.commit_refusal, found)
        data = self.body(s.RevertSerializer)
        commit = services.revert_commit(
            found, data["commit"], request.user, expected_head=data["expectedHead"]
        )
        return Response(s.CommitDetailSerializer(commit).data, status=status.HTTP_201_CREATED)


# --- commits, diff, reading at a ref --------------------------------------------------------


class CommitDetailView(VersioningView):
    @extend_schema(
        operation_id="commits_retrieve",
        summary="One commit with its delta",
        parameters=[_param("commit", "Commit id or unique prefix (≥ 7).")],
        responses={200: s.CommitDetailSerializer, **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request, commit: str):
        if Branch.objects.filter(name=commit).exists():
            raise UnknownRefError(f"No commit '{commit}' (that is a branch).", field="commit")
        return Response(s.CommitDetailSerializer(services.resolve_ref(commit)).data)


class DiffView(VersioningView):
    @extend_schema(
        operation_id="diff",
        summary="Differences between two refs (entity and field level, rename-aware)",
        parameters=[
            _param("from", "Ref to compare from.", OpenApiParameter.QUERY),
            _param("to", "Ref to compare to.", OpenApiParameter.QUERY),
        ],
        responses={200: s.DiffSerializer, **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request):
        missing = {k: ["This parameter is required."] for k in ("from", "to")}
        refs = {k: request.query_params.get(k, "").strip() for k in ("from", "to")}
        missing = {k: v for k, v in missing.items() if not refs[k]}
        if missing:
            raise exceptions.ValidationError(missing)
        a, b = services.commit_id_of(refs["from"]), services.commit_id_of(refs["to"])
        diff = services.compare_commits(a, b).diff
        return Response({"from": a, "to": b, "changes": diff.to_dict()["changes"]})


class DocumentsView(VersioningView):
    @extend_schema(
        operation_id="refs_documents",
        summary="Every document (or those of ?rid=) at a ref",
        parameters=[
            REF,
            OpenApiParameter(
                "rid", OpenApiTypes.UUID, OpenApiParameter.QUERY, many=True, required=False
            ),
        ],
        responses={200: s.DocumentsSerializer, **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request, ref: str):
        rids = [_rid(r) for r in request.query_params.getlist("rid")] or None
        commit = services.commit_id_of(ref)
        docs = services.documents_at(ref, rids)
        return Response({"ref": ref, "commit": commit, "documents": docs})


class DocumentView(VersioningView):
    @extend_schema(
        operation_id="refs_document",
        summary="One entity's document at a ref",
        parameters=[REF, RID],
        responses={200: s.DocumentSerializer, **errors(400, 404)},
        tags=["versioning"],
    )
    def get(self, request, ref: str, rid: str):
        rid = _rid(rid)
        commit = services.commit_id_of(ref)
        doc = services.documents_at(ref, [rid]).get(rid)
        if doc is None:
            raise UnknownRefError(f"No entity {rid} at '{ref}'.", field="rid")
        return Response({"ref": ref, "commit": commit, "document": doc})


# --- proposals --------------------------------------------------------------------------------


def _proposals():
    return Proposal.objects.select_related("author", "merged_by").prefetch_related(
        "reviewers", Prefetch("approvals", Approval.objects.select_related("user"))
    )


class ProposalListView(VersioningView):
    pagination_class = None

    @extend_schema(
        operation_id="proposals_list",
        summary="List proposals",
        parameters=[
            _param("status", "open, approved, merged or closed.", OpenApiParameter.QUERY, False),
            _param("source", "Source branch name.", OpenApiParameter.QUERY, False),
            _param("target", "Target branch name.", OpenApiParameter.QUERY, False),
        ],
        responses={200: s.ProposalSerializer(many=True)},
        tags=["versioning"],
    )
    def get(self, request):
        qs = _proposals()
        for param, field in (
            ("status", "status"),
            ("source", "source_name"),
            ("target", "target_name"),
        ):
            value = request.query_params.get(param)
            if value:
                qs = qs.filter(**{field: value})
        return Response(s.ProposalSerializer(qs[:500], many=True).data)

    @extend_schema(
        operation_id="proposals_create",
        summary="Open a proposal to merge a branch into another",
        request=s.ProposalCreateSerializer,
        responses={201: s.ProposalSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request):
        self.require(permissions.open_proposal_refusal)
        data = self.body(s.ProposalCreateSerializer)
        users = permissions.eligible_reviewers(data["reviewers"])
        if len(users) != len(set(data["reviewers"])):
            # one answer whether a name is unknown, inactive or may not review: no
            # username enumeration
            raise exceptions.ValidationError({"reviewers": [permissions.REVIEWERS_MESSAGE]})
        proposal = services.open_proposal(
            self.branch(data["source"]),
            self.branch(data["target"]),
            data["title"],
            request.user,
            description=data["description"],
            reviewers=users,
        )
        return Response(
            s.ProposalSerializer(_proposals().get(pk=proposal.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ProposalView(VersioningView):
    def proposal(self, pk: int, queryset=None) -> Proposal:
        """The proposal to act on: its row and branches (the services read the rest under
        their locks); :meth:`fresh` reads everything the answer shows."""
        qs = Proposal.objects.select_related("source", "target") if queryset is None else queryset
        found = qs.filter(pk=pk).first()
        if found is None:
            raise UnknownRefError(f"No proposal #{pk}.", field="proposal")
        return found

    def fresh(self, pk: int) -> dict:
        return s.ProposalSerializer(self.proposal(pk, _proposals())).data


class ProposalDetailView(ProposalView):
    @extend_schema(
        operation_id="proposals_retrieve",
        summary="One proposal",
        parameters=[PROPOSAL],
        responses={200: s.ProposalSerializer, **errors(404)},
        tags=["versioning"],
    )
    def get(self, request, pk: int):
        return Response(self.fresh(pk))

    @extend_schema(
        operation_id="proposals_action",
        summary="Act on a proposal ({'action': 'close'})",
        parameters=[PROPOSAL],
        request=s.ProposalActionSerializer,
        responses={200: s.ProposalSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, pk: int):
        proposal = self.proposal(pk)
        self.require(permissions.close_refusal, proposal)
        self.body(s.ProposalActionSerializer)
        services.close_proposal(proposal, request.user)
        return Response(self.fresh(pk))


class DryRunView(ProposalView):
    throttle_scope = "dry_run"  # oms_site/throttling.py

    @extend_schema(
        operation_id="proposals_dry_run",
        summary="What merging would do: diff, conflicts, whether it can merge",
        parameters=[PROPOSAL],
        responses={200: s.DryRunSerializer, **errors(404, 409)},
        tags=["versioning"],
    )
    def get(self, request, pk: int):
        return Response(services.dry_run(self.proposal(pk)))


class ResolveView(ProposalView):
    @extend_schema(
        operation_id="proposals_resolve",
        summary="Choose ours, theirs or an edited value for one conflict",
        parameters=[PROPOSAL],
        request=s.ResolveSerializer,
        responses={200: s.ProposalSerializer, **errors(400, 403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, pk: int):
        proposal = self.proposal(pk)
        self.require(permissions.resolve_refusal, proposal)
        data = self.body(s.ResolveSerializer)
        services.resolve(proposal, data["conflictId"], data["choice"], data["value"], request.user)
        return Response(self.fresh(pk))


class ApproveView(ProposalView):
    @extend_schema(
        operation_id="proposals_approve",
        summary="Approve a proposal (not its author)",
        parameters=[PROPOSAL],
        request=None,
        responses={200: s.ProposalSerializer, **errors(403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, pk: int):
        proposal = self.proposal(pk)
        self.require(permissions.approve_refusal, proposal)
        services.approve(proposal, request.user)
        return Response(self.fresh(pk))


class MergeView(ProposalView):
    throttle_scope = "merge"  # oms_site/throttling.py

    @extend_schema(
        operation_id="proposals_merge",
        summary="Merge a proposal: one merge commit, target rows updated",
        description="Refused (409 compatibility, with the findings) when the target's "
        "compatibility mode refuses a change, unless override is true and the user has "
        "versioning.override_compatibility (403 otherwise); the override is recorded on the "
        "merge commit and in proposal.merged.v1.",
        parameters=[PROPOSAL],
        request=s.MergeSerializer,
        responses={200: s.MergeResultSerializer, **errors(403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, pk: int):
        proposal = self.proposal(pk)
        self.require(permissions.merge_refusal, proposal)
        data = self.body(s.MergeSerializer)
        commit = services.merge_proposal(proposal, request.user, override=data["override"])
        return Response(
            {"proposal": self.fresh(pk), "commit": s.CommitSerializer(commit).data},
        )


class UpdateFromTargetView(ProposalView):
    throttle_scope = "merge"  # oms_site/throttling.py

    @extend_schema(
        operation_id="proposals_update_from_target",
        summary="Merge the target's new commits into the source branch",
        parameters=[PROPOSAL],
        request=None,
        responses={201: s.CommitDetailSerializer, **errors(403, 404, 409)},
        tags=["versioning"],
    )
    def post(self, request, pk: int):
        proposal = self.proposal(pk)
        if proposal.source is not None:
            self.require(permissions.commit_refusal, proposal.source)
        commit = services.update_from_target(proposal, request.user)
        return Response(s.CommitDetailSerializer(commit).data, status=status.HTTP_201_CREATED)
