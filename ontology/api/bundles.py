"""Bundles over REST (docs/bundles.md).

* ``GET /api/v1/refs/{ref}/bundle/`` — the bundle of a branch, commit id or release, as JSON
  (``?format=json``, the default, or ``Accept: application/json``) or YAML
  (``?format=yaml`` or ``Accept: application/yaml``); ``?download=1`` answers it as a file.
* ``POST /api/v1/branches/{branch}/bundle/`` — import a bundle (JSON or YAML body) onto a
  branch: ``?commit=true&message=...`` commits it. Bodies over ``OMS_MAX_BUNDLE_BYTES`` are
  refused with 413 before they are read.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oms_site.api import ErrorSerializer
from versioning.api.renderers import revealed
from versioning.api.views import BRANCH, REF, errors
from versioning.services import get_branch

from .. import bundles, services
from ..bundles_import import import_bundle, parse
from ..models import ObjectType


class BundleJSONRenderer(renderers.BaseRenderer):
    """A bundle as :func:`ontology.bundles.dumps` writes it (the CLI's bytes)."""

    media_type = "application/json"
    format = "json"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        data = revealed(data, renderer_context)  # PII examples in clear for view_pii only
        if isinstance(data, dict) and "manifest" in data:
            return bundles.dumps(data, self.format).encode()
        return renderers.JSONRenderer().render(data, accepted_media_type, renderer_context)


class BundleYAMLRenderer(BundleJSONRenderer):
    media_type = "application/yaml"
    format = "yaml"


class BundleView(APIView):
    permission_classes = [IsAuthenticated]
    camelize_errors = False  # error fields are JSON pointers into the bundle


class BundleExportView(BundleView):
    renderer_classes = [BundleJSONRenderer, BundleYAMLRenderer]

    @extend_schema(
        operation_id="refs_bundle",
        summary="The bundle of a ref: manifest and every document, grouped by kind",
        description="See docs/bundles.md. JSON by default; YAML with ?format=yaml or "
        "Accept: application/yaml.",
        parameters=[
            REF,
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(bundles.FORMATS)),
            OpenApiParameter("download", OpenApiTypes.BOOL, description="As an attachment."),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/yaml"): OpenApiTypes.STR,
            **errors(400, 404),
        },
        tags=["bundles"],
    )
    def get(self, request, ref: str):
        bundle = bundles.export(ref)
        response = Response(bundle)
        if request.query_params.get("download") in ("1", "true", "yes"):
            fmt = request.accepted_renderer.format
            commit = (bundle["manifest"]["source"]["commit"] or "working")[:12]
            name = f"ontology-{ref.replace('/', '_')}-{commit}.{fmt}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ImportResultSerializer(serializers.Serializer):
    branch = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    commit = serializers.CharField(allow_null=True)


class BundleImportView(BundleView):
    @extend_schema(
        operation_id="branches_bundle_import",
        summary="Make the branch's ontology exactly the bundle's",
        description="Entities are matched by rid, else by kind and api name. Everything is "
        "validated before anything is written; a bad bundle gets every error (error.errors: "
        "[{pointer, message}], pointer into the bundle) and nothing changes. Bodies over "
        "OMS_MAX_BUNDLE_BYTES are refused with 413.",
        parameters=[
            BRANCH,
            OpenApiParameter("commit", OpenApiTypes.BOOL, description="Commit the import."),
            OpenApiParameter("message", OpenApiTypes.STR, description="The commit message."),
        ],
        request={"application/json": OpenApiTypes.OBJECT, "application/yaml": OpenApiTypes.STR},
        responses={
            200: ImportResultSerializer,
            413: OpenApiResponse(ErrorSerializer, description="The bundle is too large."),
            **errors(400, 403, 404),
        },
        tags=["bundles"],
    )
    def post(self, request, branch: str):
        target = get_branch(branch)
        # 403 before the body is read
        services.check_write(request.user, target, services.model_perm(ObjectType, "change"))
        limit = bundles.max_bytes()
        data = request.stream.read(limit + 1) if request.stream is not None else b""
        parsed = parse(bundles.loads(data))
        commit = request.query_params.get("commit") in ("1", "true", "yes")
        message = request.query_params.get("message") or "Import a bundle"
        result = import_bundle(target, parsed, user=request.user, message=message, commit=commit)
        return Response(result.as_dict())
