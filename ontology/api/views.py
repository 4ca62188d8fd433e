"""Branch-scoped REST endpoints: ``/api/v1/branches/{branch}/<kind>/{apiName or rid}/``.

One base viewset does the work: it resolves the branch once per request, refuses writes
to a protected or archived branch and writes the user may not make there (403, see
``BranchWritePermission``) before reading the body, looks entities up by api name
(case-insensitively) or rid, and lets serializers write through the services. Reads use
the kind's documents (``ontology.documents``), made REST bodies by
``representation``: one mapping for the store and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, status, viewsets
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions
from rest_framework.response import Response

from oms_site import preconditions, prepared
from versioning.models import Branch

from .. import filters as ontology_filters
from .. import services
from ..kinds import kind_of
from ..models import Interface, LinkType, ObjectType, SharedProperty, StructType, ValueType
from . import representation
from . import serializers as s

BRANCH_PARAM = OpenApiParameter(
    "branch", OpenApiTypes.STR, OpenApiParameter.PATH, description="Branch name, e.g. main."
)
LOOKUP_PARAM = OpenApiParameter(
    "api_name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="API name (case-insensitive) or rid.",
)


class SearchFilter(filters.SearchFilter):
    """``?search=`` over api name, display name and description (NUL characters dropped)."""

    def get_search_terms(self, request):
        return [t.replace("\x00", "") for t in super().get_search_terms(request)]


IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag read before: 304 Not Modified when the entity is unchanged.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag the change is based on: 412 Precondition Failed (and nothing is "
    "written) when the entity changed since.",
)


class BranchWritePermission(DjangoModelPermissions):
    """Reads: any authenticated user. Writes: the rule of :func:`services.check_write` —
    the branch is neither protected nor archived, and the user has the model permission
    of the write (``ontology.add_objecttype``, ...) and the right to edit the branch
    (``versioning.edit_branch``, model-wide or granted on it). A refusal is a 403 naming
    the missing permission."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        model = view.queryset.model
        for perm in self.get_required_permissions(request.method, model):
            services.check_write(user, view.branch, perm)
        return True


def _detail_schema(tag: str):
    """Tags every action and documents the path and conditional-request parameters."""
    write = extend_schema(tags=[tag], parameters=[BRANCH_PARAM, LOOKUP_PARAM, IF_MATCH])
    return extend_schema_view(
        list=extend_schema(tags=[tag], parameters=[BRANCH_PARAM]),
        create=extend_schema(tags=[tag], parameters=[BRANCH_PARAM]),
        retrieve=extend_schema(tags=[tag], parameters=[BRANCH_PARAM, LOOKUP_PARAM, IF_NONE_MATCH]),
        update=write,
        partial_update=write,
        destroy=write,
    )


class BranchScopedViewSet(viewsets.ModelViewSet):
    """Entities of one branch; writes go through :mod:`ontology.services`."""

    lookup_field = "api_name"
    lookup_value_regex = r"[^/]+"
    permission_classes = [BranchWritePermission]
    filter_backends = [DjangoFilterBackend, SearchFilter]
    search_fields = ["api_name", "display_name", "description"]
    error_field_aliases = {
        "deprecation_message": "deprecation.message",
        "deprecation_deadline": "deprecation.deadline",
    }

    @cached_property
    def branch(self) -> Branch:
        name = self.kwargs.get("branch", "")
        branch = prepared.first("api.branch", _branch_named, name)
        if branch is None:
            raise exceptions.NotFound(f"There is no branch '{name}'.")
        return branch

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _ = self.branch  # an unknown branch is a 404 for every method, OPTIONS included

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(branch=self.branch)

    def not_found(self) -> exceptions.NotFound:
        label = self.queryset.model._meta.verbose_name
        value = self.kwargs[self.lookup_field]
        return exceptions.NotFound(f"There is no {label} '{value}' on branch '{self.branch.name}'.")

    def _lookup(self) -> tuple[str, Callable[[int, str], QuerySet], str]:
        """How the URL names the entity: the key of its prepared query, the query
        (``(branch_id, value) -> QuerySet``) and the value, a rid or the api name in lower
        case; a 404 for a value no entity can have (PostgreSQL takes no NUL in text)."""
        value = self.kwargs[self.lookup_field]
        if prepared.is_uuid_text(value):
            way, narrow = "rid", _by_rid
        elif "\x00" in value:
            raise self.not_found()
        else:
            way, narrow, value = "name", _by_name, value.lower()
        queryset = self.queryset

        def named(branch_id: int, value: str) -> QuerySet:
            return narrow(queryset.filter(branch_id=branch_id), value)

        return f"api.{queryset.model._meta.label_lower}.{way}", named, value

    def get_object(self, *, lock: bool = False):
        key, build, value = self._lookup()
        if lock:
            named = build
            key, build = f"{key}.locked", lambda *a: named(*a).select_for_update(of=("self",))
        obj = prepared.first(key, build, self.branch.pk, value)
        if obj is None:
            raise self.not_found()
        self.check_object_permissions(self.request, obj)
        return obj

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["branch"] = self.branch
        return context

    @property
    def kind(self) -> str:
        return kind_of(self.queryset.model).name

    def represent(self, row, *, stamps: bool = False) -> tuple[dict, str]:
        """The entity's REST body (:mod:`.representation`, from its document as stored
        now) and its entity tag. ``stamps``: read its timestamps afresh (after a write)."""
        if stamps:
            stamp = representation.stamped(self.get_queryset().filter(pk=row.pk)).get()
        else:
            stamp = (row.rid, row.created_at, row.updated_at)
        data = representation.entities(self.branch.pk, self.kind, [stamp])[0]
        return data, preconditions.entity_tag(data)

    def respond(self, row, status_code: int = status.HTTP_200_OK) -> Response:
        """The answer to a write: made from the document the service wrote and the row's
        own timestamps (``services.record_written``), else read afresh."""
        written = getattr(row, "written_document", None)
        if written is None:
            data, tag = self.represent(row, stamps=True)
        else:
            data = representation.represent(
                self.branch.pk, [(written, row.created_at, row.updated_at)]
            )[0]
            tag = preconditions.entity_tag(data)
        return Response(data, status=status_code, headers={"ETag": tag})

    def list(self, request, *args, **kwargs):
        """A page of bodies read in a fixed number of queries (docs/api.md)."""
        rows = representation.stamped(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        data = representation.entities(
            self.branch.pk, self.kind, page if page is not None else rows
        )
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        # a read needs the entity's stamps, not a model instance (no object permission
        # applies to a read: BranchWritePermission lets any signed-in user read)
        key, named, value = self._lookup()
        stamp = prepared.first_row(
            f"{key}.stamp", lambda *a: representation.stamped(named(*a)), self.branch.pk, value
        )
        if stamp is None:
            raise self.not_found()
        data = representation.entities(self.branch.pk, self.kind, [stamp])[0]
        tag = preconditions.entity_tag(data)
        if preconditions.none_match(request, tag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(data, headers={"ETag": tag})

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.respond(serializer.save(), status.HTTP_201_CREATED)

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        instance = self.locked_object()
        serializer = self.get_serializer(
            instance, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        return self.respond(serializer.save())

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        services.delete(self.locked_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def locked_object(self):
        """The row read afresh under a row lock (in the write's transaction), so a PATCH
        applies its fields to what is stored now, not to a stale copy; then the request's
        ``If-Match`` (if any) is checked against it."""
        instance = self.get_object(lock=True)
        if preconditions.has_if_match(self.request):
            preconditions.require_match(self.request, self.represent(instance)[1])
        return instance


def _branch_named(name: str) -> QuerySet:
    return Branch.objects.filter(name=name)


def _by_rid(queryset: QuerySet, rid: str) -> QuerySet:
    return queryset.filter(rid=rid)


def _by_name(queryset: QuerySet, lowered: str) -> QuerySet:
    return queryset.alias(lower_name=Lower("api_name")).filter(lower_name=lowered)


@_detail_schema("value types")
class ValueTypeViewSet(BranchScopedViewSet):
    queryset = ValueType.objects.all()
    serializer_class = s.ValueTypeSerializer
    filterset_class = ontology_filters.ValueTypeFilterSet


@_detail_schema("struct types")
class StructTypeViewSet(BranchScopedViewSet):
    queryset = StructType.objects.all()
    serializer_class = s.StructTypeSerializer
    filterset_class = ontology_filters.StructTypeFilterSet


@_detail_schema("shared properties")
class SharedPropertyViewSet(BranchScopedViewSet):
    queryset = SharedProperty.objects.all()
    serializer_class = s.SharedPropertySerializer
    filterset_class = ontology_filters.SharedPropertyFilterSet


@_detail_schema("interfaces")
class InterfaceViewSet(BranchScopedViewSet):
    queryset = Interface.objects.all()
    serializer_class = s.InterfaceSerializer
    filterset_class = ontology_filters.InterfaceFilterSet


@_detail_schema("object types")
class ObjectTypeViewSet(BranchScopedViewSet):
    queryset = ObjectType.objects.all()
    serializer_class = s.ObjectTypeSerializer
    filterset_class = ontology_filters.ObjectTypeFilterSet


@_detail_schema("link types")
class LinkTypeViewSet(BranchScopedViewSet):
    queryset = LinkType.objects.all()
    serializer_class = s.LinkTypeSerializer
    filterset_class = ontology_filters.LinkTypeFilterSet
    search_fields = ["api_name", "description", "source_api_name", "target_api_name"]
    error_field_aliases = {
        **BranchScopedViewSet.error_field_aliases,
        "source_api_name": "sourceSide.apiName",
        "source_display_name": "sourceSide.displayName",
        "source_visibility": "sourceSide.visibility",
        "target_api_name": "targetSide.apiName",
        "target_display_name": "targetSide.displayName",
        "target_visibility": "targetSide.visibility",
    }
