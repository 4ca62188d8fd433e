"""Suspected PII over REST (docs/api.md, "PII findings").

* ``GET branches/{branch}/pii-findings/`` — the WARN findings of the branch;
* ``POST branches/{branch}/pii-findings/{entity}/confirm/`` — flag the property (or shared
  property) PII on the branch;
* ``POST branches/{branch}/pii-findings/{entity}/dismiss/`` — remember "not PII" for a reason
  (``{"reason": "email"}``) or every reason found now (``{}``), on every branch.

Thin: the services of :mod:`ontology.pii` check and write.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oms_site.strict import StrictSerializer
from versioning.api.views import BRANCH, errors
from versioning.services import get_branch

from .. import pii
from ..pii_detection import REASONS

ENTITY = OpenApiParameter(
    "entity",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The rid of the property or shared property.",
)


class FindingSerializer(serializers.Serializer):
    rid = serializers.UUIDField(help_text="The property's or shared property's rid.")
    reason = serializers.ChoiceField(REASONS, help_text="What it looks like.")
    severity = serializers.ChoiceField(["WARN"])
    rule = serializers.CharField(help_text="pii-<reason>")
    kind = serializers.ChoiceField(["property", "sharedProperty"])
    apiName = serializers.CharField(help_text="ObjectType.property or the shared property.")
    document = serializers.UUIDField(help_text="The rid of the document holding it.")
    path = serializers.CharField(help_text="Its path in the document ('' for the document).")
    message = serializers.CharField()


class FindingsSerializer(serializers.Serializer):
    branch = serializers.CharField()
    findings = FindingSerializer(many=True)


class DismissSerializer(StrictSerializer):
    reason = serializers.ChoiceField(
        REASONS,
        required=False,
        help_text="The reason to dismiss; without it, every reason found now.",
    )


class ConfirmedSerializer(serializers.Serializer):
    rid = serializers.UUIDField()
    pii = serializers.BooleanField()


class DismissedSerializer(serializers.Serializer):
    rid = serializers.UUIDField()
    dismissed = serializers.ListField(child=serializers.ChoiceField(REASONS))


class PiiView(APIView):
    permission_classes = [IsAuthenticated]


class PiiFindingListView(PiiView):
    @extend_schema(
        operation_id="branches_pii_findings",
        summary="Properties that look like PII and are not flagged (WARN findings)",
        parameters=[BRANCH],
        responses={200: FindingsSerializer, **errors(404)},
        tags=["pii"],
    )
    def get(self, request, branch: str):
        target = get_branch(branch)
        found = [f.as_dict() for f in pii.branch_findings(target)]
        return Response({"branch": target.name, "findings": found})


class PiiFindingConfirmView(PiiView):
    @extend_schema(
        operation_id="branches_pii_findings_confirm",
        summary="Flag the property PII on the branch (its examples are encrypted)",
        parameters=[BRANCH, ENTITY],
        request=None,
        responses={200: ConfirmedSerializer, **errors(403, 404)},
        tags=["pii"],
    )
    def post(self, request, branch: str, entity: str):
        row = pii.confirm(get_branch(branch), entity, request.user)
        return Response({"rid": str(row.rid), "pii": row.pii})


class PiiFindingDismissView(PiiView):
    @extend_schema(
        operation_id="branches_pii_findings_dismiss",
        summary="Not PII: remember the dismissal on every branch (stewards: view_pii)",
        parameters=[BRANCH, ENTITY],
        request=DismissSerializer,
        responses={200: DismissedSerializer, **errors(400, 403, 404)},
        tags=["pii"],
    )
    def post(self, request, branch: str, entity: str):
        target = get_branch(branch)
        pii.check_dismiss(request.user)  # 403 before the body is read
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason")
        reasons = pii.dismiss(target, entity, request.user, reason)
        return Response({"rid": entity, "dismissed": reasons})
