"""Change feed and event catalogue. Reads only; writes go through events.services."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import registry
from ..envelope import dataschema_url, to_dict
from ..exceptions import UnknownEventType
from ..models import OutboxEvent
from .serializers import EventTypeListSerializer, FeedPageSerializer, FeedQuerySerializer


class CanReadEvents(BasePermission):
    """Events carry ontology metadata (possibly PII-marked): the feed needs
    ``events.view_outboxevent``."""

    message = "Reading the change feed needs the events.view_outboxevent permission."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("events.view_outboxevent"))


def _types_param(request) -> list[str]:
    return [
        t.strip()
        for value in request.query_params.getlist("type")
        for t in value.split(",")
        if t.strip()
    ]


class EventFeedView(APIView):
    reveals_pii = False  # events always carry protected values masked (as tokens)
    permission_classes = [CanReadEvents]

    @extend_schema(
        operation_id="events_feed",
        summary="Change feed: events in commit order, with a cursor",
        parameters=[FeedQuerySerializer],
        responses=FeedPageSerializer,
        tags=["events"],
    )
    def get(self, request):
        query = FeedQuerySerializer(
            data={
                **{
                    k: request.query_params[k]
                    for k in ("after", "subject", "limit")
                    if k in request.query_params
                },
                **({"type": _types_param(request)} if "type" in request.query_params else {}),
            }
        )
        query.is_valid(raise_exception=True)
        params = query.validated_data
        after = int(params.get("after") or 0)
        limit = params["limit"]
        qs = OutboxEvent.objects.filter(position__gt=after)
        if params.get("type"):
            stored: set[str] = set()
            for t in params["type"]:
                stored |= registry.older_types(t)
            qs = qs.filter(type__in=sorted(stored))
        subject = params.get("subject")
        if subject:
            qs = qs.filter(
                Q(subject__startswith=subject[:-1]) if subject.endswith("*") else Q(subject=subject)
            )
        rows = list(qs.order_by("position")[: limit + 1])
        page, more = rows[:limit], len(rows) > limit
        return Response(
            {
                "events": [to_dict(e) for e in page],
                "next": str(page[-1].position if page else after),
                "hasMore": more,
            }
        )


class EventTypeListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="events_schemas_list",
        summary="The event catalogue",
        responses=EventTypeListSerializer,
        tags=["events"],
    )
    def get(self, request):
        return Response(
            {
                "types": [
                    {
                        "type": t.type,
                        "area": t.area,
                        "description": t.description,
                        "dataschema": dataschema_url(t.type),
                    }
                    for t in registry.all_types()
                ]
            }
        )


class EventTypeSchemaView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="events_schemas_retrieve",
        summary="JSON Schema of one event type's `data`",
        responses={
            (200, "application/schema+json"): OpenApiTypes.OBJECT,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
        tags=["events"],
    )
    def get(self, request, type: str):
        entry = registry.get(type)
        if entry is None:
            raise UnknownEventType(f"Unknown event type: {type}")
        return Response(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": dataschema_url(type),
                "title": type,
                "description": entry.description,
                **{k: v for k, v in entry.schema.items() if k not in ("$id", "$schema")},
            }
        )
