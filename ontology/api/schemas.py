"""Generated schemas of a ref over REST (docs/schemas.md):
``/api/v1/refs/{ref}/schema.graphql``, ``/schema.json``, ``/openapi.json``.

A commit id or a release answers with ``Cache-Control: public, max-age=31536000,
immutable``; a branch with ``no-cache`` (revalidate: its answer changes with every edit).
Every answer carries a strong ``ETag``; ``If-None-Match`` with it answers 304.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from versioning.api.views import REF, errors

from ..schemas import serving

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag read before: 304 Not Modified when the schema is the same.",
)


class AnyRenderer(renderers.BaseRenderer):
    """Lets any Accept header through (the answer has its own content type); errors are
    rendered as the API's JSON."""

    media_type = "*/*"
    format = "schema"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class SchemaView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [AnyRenderer]
    fmt = ""

    def get(self, request, ref: str):
        found = serving.answer(ref, self.fmt)
        wanted = parse_etags(request.headers.get("If-None-Match", ""))
        if found.etag in wanted or "*" in wanted:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(found.body, content_type=found.content_type)
            if request.query_params.get("download") in ("1", "true", "yes"):
                name = f"{ref.replace('/', '_')}-{serving.FILE_NAMES[self.fmt]}"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["ETag"] = found.etag
        response["Cache-Control"] = IMMUTABLE if found.immutable else REVALIDATE
        if found.commit:
            response["X-OMS-Commit"] = found.commit
        return response


def _schema(fmt: str, media: str, summary: str):
    return extend_schema(
        operation_id=f"refs_schema_{fmt}",
        summary=summary,
        description="Generated from the ontology at the ref (docs/schemas.md). Immutable for "
        "a commit id or a release; a branch answers its current state, uncommitted edits "
        "included. ?download=1 answers it as a file.",
        parameters=[
            REF,
            IF_NONE_MATCH,
            OpenApiParameter("download", OpenApiTypes.BOOL, description="As an attachment."),
        ],
        responses={
            (200, media): OpenApiTypes.STR if fmt == "graphql" else OpenApiTypes.OBJECT,
            304: OpenApiResponse(description="Not modified (the ETag matched)."),
            **errors(400, 404),
        },
        tags=["schemas"],
    )


class GraphQLSchemaView(SchemaView):
    fmt = "graphql"

    @_schema("graphql", "application/graphql", "GraphQL SDL of the ontology at a ref")
    def get(self, request, ref: str):
        return super().get(request, ref)


class JSONSchemaView(SchemaView):
    fmt = "json"

    @_schema("json", "application/schema+json", "JSON Schema 2020-12 of the ontology at a ref")
    def get(self, request, ref: str):
        return super().get(request, ref)


class OpenAPIView(SchemaView):
    fmt = "openapi"

    @_schema("openapi", "application/vnd.oai.openapi+json", "OpenAPI 3.1 of a CRUD surface")
    def get(self, request, ref: str):
        return super().get(request, ref)
