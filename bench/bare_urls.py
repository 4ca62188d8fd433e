"""The ceiling for ``bench/api.py``: a bare DRF list of object types, no serializer.

Wired into ``oms_site/urls.py`` only when ``OMS_BENCH_BARE=1``. It returns the same page of
object types as ``/api/v1/branches/{branch}/object-types/`` (ordered by api name, with
their properties), read with ``.values()`` and grouped in Python: the same rows, the same
authentication, middleware and JSON rendering, without the serializers and the filters.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ontology.models import ObjectType, Property
from versioning.models import Branch

OBJECT_TYPE_FIELDS = (
    "id",
    "rid",
    "api_name",
    "display_name",
    "plural_display_name",
    "description",
    "status",
    "visibility",
    "icon",
    "primary_key_id",
    "title_property_id",
)
PROPERTY_FIELDS = (
    "object_type_id",
    "rid",
    "api_name",
    "display_name",
    "description",
    "base_type",
    "item_type",
    "value_type_id",
    "required",
    "pii",
    "status",
    "position",
)


class BareObjectTypeList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, branch: str):
        branch_id = get_object_or_404(Branch.objects.only("id"), name=branch).id
        size = min(int(request.GET.get("page_size", 100)), 500)
        start = (max(int(request.GET.get("page", 1)), 1) - 1) * size
        rows = list(
            ObjectType.objects.filter(branch_id=branch_id)
            .order_by("api_name")
            .values(*OBJECT_TYPE_FIELDS)[start : start + size]
        )
        by_id = {row["id"]: row for row in rows}
        for row in rows:
            row["properties"] = []
        properties = Property.objects.filter(object_type_id__in=by_id).order_by(
            "object_type_id", "position"
        )
        for prop in properties.values(*PROPERTY_FIELDS):
            by_id[prop.pop("object_type_id")]["properties"].append(prop)
        return Response({"results": rows})


urlpatterns = [
    path(
        "branches/<str:branch>/object-types/",
        BareObjectTypeList.as_view(),
        name="bench-bare-object-types",
    ),
]
