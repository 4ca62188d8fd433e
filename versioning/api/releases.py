"""Release and compatibility endpoints: list, publish and read releases, and compare any
two refs the way a release would (``GET compatibility/?from=&to=``).

Thin like the other versioning views: parse, check ``release_branch`` (model-wide or
granted on the branch: ``permissions.release_refusal``, which ``publish_release``
enforces too), call :mod:`versioning.releases`, serialise. Errors are rendered in the common format.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from oms_site.api import Pagination, StrictCharField
from oms_site.strict import StrictSerializer

from .. import permissions, releases
from ..domain.compatibility import Compatibility
from ..models import Release
from .views import VersioningView, errors

COMPATIBILITY = [c.value for c in Compatibility]
COUNTS_HELP = "Number of changes per compatibility class."


class ChangeSerializer(serializers.Serializer):
    rid = StrictCharField(help_text="The top-level entity's rid.")
    entityKind = StrictCharField()
    entity = StrictCharField(help_text="Dotted api name, e.g. Flight.flightNumber.")
    path = serializers.ListField(child=StrictCharField())
    kind = StrictCharField(help_text="e.g. added, renamed, type_widened, removed.")
    compatibility = serializers.ChoiceField(COMPATIBILITY)
    message = StrictCharField()
    note = StrictCharField(allow_blank=True)
    details = serializers.DictField()
    consumers = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Registered consumers the change touches (breaking changes only).",
    )


class MigrationStepSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(
        ["rename", "convert", "wrap_in_list", "relink", "backfill", "verify", "remove"]
    )
    entity = StrictCharField()
    rid = StrictCharField()
    compatibility = serializers.ChoiceField(COMPATIBILITY)
    message = StrictCharField()
    to = StrictCharField(required=False, help_text="New name or type.")
    mapping = StrictCharField(required=False, help_text="The mechanical mapping.")
    what = StrictCharField(required=False)
    field = StrictCharField(required=False)
    constraint = StrictCharField(required=False)
    locals()["from"] = StrictCharField(required=False, help_text="Old name or type.")


class ReleaseSerializer(serializers.ModelSerializer):
    commit = StrictCharField(source="commit_id")
    branch = StrictCharField(source="branch_name")
    previousVersion = StrictCharField(source="previous.version", default=None, allow_null=True)
    author = StrictCharField(source="author_name")
    createdAt = serializers.DateTimeField(source="created_at")
    compatibility = serializers.ChoiceField(COMPATIBILITY)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=COUNTS_HELP)

    class Meta:
        model = Release
        fields = [
            "version",
            "commit",
            "branch",
            "previousVersion",
            "author",
            "createdAt",
            "compatibility",
            "counts",
            "notes",
        ]


class ReleaseDetailSerializer(ReleaseSerializer):
    changelog = ChangeSerializer(many=True)
    migrationPlan = MigrationStepSerializer(source="migration_plan", many=True)

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "changelog", "migrationPlan"]


def _optional(max_length: int, help_text: str) -> serializers.CharField:
    return StrictCharField(
        max_length=max_length,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text=help_text,
    )


class ReleaseCreateSerializer(StrictSerializer):
    branch = StrictCharField(max_length=100, default="main")
    version = _optional(
        100,
        "SemVer (a leading 'v' is accepted); by default the next version the changes call for.",
    )
    commit = _optional(64, "A commit of the branch (id or prefix ≥ 7); by default its head.")
    notes = StrictCharField(max_length=20000, required=False, allow_blank=True, default="")
    override = serializers.BooleanField(
        default=False,
        help_text="Publish despite the branch's compatibility findings (needs "
        "versioning.override_compatibility; recorded in the release's event).",
    )


class CompatibilitySerializer(serializers.Serializer):
    fromCommit = StrictCharField(allow_null=True)
    fromVersion = StrictCharField(allow_null=True, help_text="When 'from' is a release.")
    to = StrictCharField()
    toCommit = StrictCharField(allow_null=True)
    compatibility = serializers.ChoiceField(COMPATIBILITY, help_text="The worst class.")
    bump = serializers.ChoiceField(
        ["major", "minor", "patch"], allow_null=True, help_text="null: nothing changed."
    )
    suggestedVersion = StrictCharField(
        allow_null=True, help_text="The next version after 'from' when it is a release."
    )
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=COUNTS_HELP)
    changelog = ChangeSerializer(many=True)
    migrationPlan = MigrationStepSerializer(many=True)
    impact = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each registered consumer a breaking change touches: consumer, owner, "
        "contact, pinnedRelease, reads and the changes.",
    )
    locals()["from"] = StrictCharField(allow_null=True)


_RENAME = {
    "rid": "0b6c3c1e-5d0a-4d7e-9a53-0c6f3f1f2a10",
    "entityKind": "objectType",
    "entity": "Aircraft",
    "path": ["apiName"],
    "kind": "renamed",
    "compatibility": "MIGRATION_REQUIRED",
    "message": "The object type Plane is now called Aircraft.",
    "note": "",
    "details": {},
}
_STEP = {
    "step": 1,
    "action": "rename",
    "from": "Plane",
    "to": "Aircraft",
    "entity": "Aircraft",
    "rid": _RENAME["rid"],
    "compatibility": "MIGRATION_REQUIRED",
    "message": _RENAME["message"],
}
_COUNTS = {"COMPATIBLE": 2, "BACKWARD_COMPATIBLE": 1, "MIGRATION_REQUIRED": 1, "INCOMPATIBLE": 0}
RELEASE_EXAMPLE = OpenApiExample(
    "Release 2.0.0",
    value={
        "version": "2.0.0",
        "commit": "9f2c" + "0" * 60,
        "branch": "main",
        "previousVersion": "1.3.1",
        "author": "steward",
        "createdAt": "2026-11-22T03:00:00Z",
        "compatibility": "MIGRATION_REQUIRED",
        "counts": _COUNTS,
        "notes": "Plane renamed to Aircraft.",
        "changelog": [_RENAME],
        "migrationPlan": [_STEP],
    },
    response_only=True,
)
VERSION = OpenApiParameter(
    "version", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. 1.2.0 or v1.2.0."
)


class ReleaseListView(VersioningView):
    pagination_class = Pagination
    filter_backends: list = []  # only ?branch=

    @extend_schema(
        operation_id="releases_list",
        summary="List releases, newest first",
        parameters=[
            OpenApiParameter(
                "branch", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Cut from."
            ),
        ],
        responses={200: ReleaseSerializer(many=True), **errors(404)},
        tags=["releases"],
    )
    def get(self, request):
        qs = Release.objects.select_related("previous").defer("changelog", "migration_plan")
        branch = request.query_params.get("branch")
        if branch:
            qs = qs.filter(branch_name=branch)
        page = self.paginate_queryset(qs.order_by("-created_at", "-id"))
        return self.get_paginated_response(ReleaseSerializer(page, many=True).data)

    @extend_schema(
        operation_id="releases_create",
        summary="Publish a release of a protected branch",
        description="Tags the branch head (or `commit`) with the next SemVer: the worst "
        "compatibility class of the changes since the branch's previous release decides the "
        "bump. A `version` lower than that, or not above the previous release, is a 400 on "
        "`version`; a version or commit already released is a 409. Needs "
        "`versioning.release_branch` (model-wide or granted on the branch).",
        request=ReleaseCreateSerializer,
        responses={201: ReleaseDetailSerializer, **errors(400, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "Next version",
                value={"branch": "main", "notes": "Plane renamed to Aircraft."},
                request_only=True,
            ),
            OpenApiExample(
                "Chosen version of a commit",
                value={"branch": "main", "version": "3.0.0", "commit": "9f2c0a1"},
                request_only=True,
            ),
            RELEASE_EXAMPLE,
        ],
        tags=["releases"],
    )
    def post(self, request):
        data = self.body(ReleaseCreateSerializer)
        branch = self.branch(data["branch"])
        self.require(permissions.release_refusal, branch)
        release = releases.publish_release(
            branch,
            request.user,
            version=data["version"],
            commit=data["commit"],
            notes=data["notes"],
            override=data["override"],
        )
        return Response(ReleaseDetailSerializer(release).data, status=status.HTTP_201_CREATED)


class ReleaseDetailView(VersioningView):
    @extend_schema(
        operation_id="releases_retrieve",
        summary="One release with its changelog and migration plan",
        parameters=[VERSION],
        responses={200: ReleaseDetailSerializer, **errors(404)},
        examples=[RELEASE_EXAMPLE],
        tags=["releases"],
    )
    def get(self, request, version: str):
        return Response(ReleaseDetailSerializer(releases.get_release(version)).data)


class CompatibilityView(VersioningView):
    throttle_scope = "compatibility"  # oms_site/throttling.py

    @extend_schema(
        operation_id="compatibility",
        summary="Compatibility of the changes between two refs",
        description="What a consumer built against `from` must know before moving to `to` "
        "(any refs: branch, commit id, release): the worst class, the SemVer bump it calls "
        "for, the next version when `from` is a release, the classified changelog and the "
        "migration plan.",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="The ref you run against, e.g. 1.2.0.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="The ref you move to, e.g. main.",
            ),
        ],
        responses={200: CompatibilitySerializer, **errors(400, 404)},
        examples=[
            OpenApiExample(
                "From a release to main",
                value={
                    "from": "1.3.1",
                    "fromCommit": "51aa" + "0" * 60,
                    "fromVersion": "1.3.1",
                    "to": "main",
                    "toCommit": "9f2c" + "0" * 60,
                    "compatibility": "MIGRATION_REQUIRED",
                    "bump": "major",
                    "suggestedVersion": "2.0.0",
                    "counts": _COUNTS,
                    "changelog": [{**_RENAME, "consumers": ["fleet-app"]}],
                    "migrationPlan": [_STEP],
                    "impact": [
                        {
                            "consumer": "fleet-app",
                            "owner": "ops",
                            "contact": "ops@example.org",
                            "pinnedRelease": "1.3.1",
                            "reads": ["Plane"],
                            "changes": [
                                {
                                    "rid": _RENAME["rid"],
                                    "entity": "Aircraft",
                                    "kind": "renamed",
                                    "compatibility": "MIGRATION_REQUIRED",
                                    "message": _RENAME["message"],
                                }
                            ],
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["releases"],
    )
    def get(self, request):
        refs = {k: request.query_params.get(k, "").strip() for k in ("from", "to")}
        missing = {k: ["This parameter is required."] for k, v in refs.items() if not v}
        if missing:
            raise exceptions.ValidationError(missing)
        return Response(releases.preview(refs["to"], since=refs["from"]).to_dict())
