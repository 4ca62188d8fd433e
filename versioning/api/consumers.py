"""Registered consumers: ``GET/POST consumers/``, ``GET/PATCH/DELETE consumers/{name}/``.

Thin: parse, check the rule (``permissions.consumer_refusal``, which the service enforces
too), call :mod:`versioning.consumers`, serialise.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from oms_site.api import StrictCharField
from oms_site.strict import StrictSerializer

from .. import consumers, permissions
from ..exceptions import UnknownRefError, VersioningError
from ..models import Consumer
from .views import VersioningView, errors

NAME = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)


class ConsumerSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    owner = StrictCharField(
        required=False, allow_null=True, allow_blank=True, help_text="A username."
    )
    contact = StrictCharField(max_length=200, required=False, allow_blank=True)
    pinnedRelease = StrictCharField(
        max_length=100, required=False, allow_null=True, allow_blank=True
    )
    reads = serializers.ListField(
        child=StrictCharField(validators=[RegexValidator(consumers.API_NAME_PATH_RE)]),
        max_length=consumers.MAX_READS,
        required=False,
        help_text="Entity api names (Flight) or property paths (Flight.flightNumber).",
    )
    description = StrictCharField(required=False, allow_blank=True)

    def unknown_key(self, key: str, writable: list[str]) -> str:
        return "Not a field of a consumer."


class ConsumerUpdateSerializer(ConsumerSerializer):
    name = StrictCharField(max_length=100, required=False)


def _data(validated: dict) -> dict:
    data = dict(validated)
    if "owner" in data:
        username = data["owner"]
        data["owner"] = None
        if username:
            data["owner"] = get_user_model().objects.filter(username=username).first()
            if data["owner"] is None:
                raise VersioningError(f"No user '{username}'.", field="owner")
    return data


def _shown(consumer: Consumer) -> dict:
    """The consumer as the API shows it (``name``, as it is written)."""
    described = consumers.describe(consumer)
    return {
        "name": described.pop("consumer"),
        **described,
        "description": consumer.description,
    }


def _consumer(name: str) -> Consumer:
    found = Consumer.objects.select_related("owner", "pinned_release").filter(name=name).first()
    if found is None:
        raise UnknownRefError(f"No consumer '{name}'.", field="name")
    return found


class ConsumerListView(VersioningView):
    serializer_class = ConsumerSerializer

    @extend_schema(
        operation_id="consumers_list",
        summary="Registered consumers",
        responses={200: ConsumerSerializer(many=True)},
        tags=["consumers"],
    )
    def get(self, request):
        rows = Consumer.objects.select_related("owner", "pinned_release").order_by("name")
        return Response([_shown(c) for c in rows])

    @extend_schema(
        operation_id="consumers_create",
        summary="Register a consumer",
        request=ConsumerSerializer,
        responses={201: ConsumerSerializer, **errors(400, 403, 404, 409)},
        tags=["consumers"],
    )
    def post(self, request):
        self.require(permissions.consumer_refusal, "add")
        data = _data(self.body(ConsumerSerializer))
        consumer = consumers.save_consumer(None, request.user, **data)
        return Response(_shown(_consumer(consumer.name)), status=status.HTTP_201_CREATED)


class ConsumerDetailView(VersioningView):
    serializer_class = ConsumerSerializer

    @extend_schema(
        operation_id="consumers_retrieve",
        summary="One consumer",
        parameters=[NAME],
        responses={200: ConsumerSerializer, **errors(404)},
        tags=["consumers"],
    )
    def get(self, request, name: str):
        return Response(_shown(_consumer(name)))

    @extend_schema(
        operation_id="consumers_partial_update",
        summary="Change a consumer (only the fields sent)",
        parameters=[NAME],
        request=ConsumerUpdateSerializer,
        responses={200: ConsumerSerializer, **errors(400, 403, 404, 409)},
        tags=["consumers"],
    )
    def patch(self, request, name: str):
        found = _consumer(name)
        self.require(permissions.consumer_refusal, "change")
        data = _data(self.body(ConsumerUpdateSerializer))
        consumer = consumers.save_consumer(found, request.user, **data)
        return Response(_shown(_consumer(consumer.name)))

    @extend_schema(
        operation_id="consumers_destroy",
        summary="Unregister a consumer",
        parameters=[NAME],
        responses={204: None, **errors(403, 404)},
        tags=["consumers"],
    )
    def delete(self, request, name: str):
        found = _consumer(name)
        self.require(permissions.consumer_refusal, "delete")
        consumers.delete_consumer(found, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
