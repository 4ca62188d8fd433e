"""Routes under ``/api/v1/branches/{branch}/``; branch names may contain ``/``.

A router builds the usual list and detail routes; each is prefixed with the branch in
one regular expression, so that ``branches/feature/x/object-types/`` resolves (nested
``include()`` s cannot backtrack over a slash in the branch name).
"""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from versioning.api.urls import NAME

from ..kinds import ROUTE_SEGMENTS
from . import bundles, pii, schemas, views

BRANCH = r"^branches/(?P<branch>[A-Za-z0-9][A-Za-z0-9._/-]{0,99}?)/"

router = SimpleRouter()
router.register(ROUTE_SEGMENTS["objectType"], views.ObjectTypeViewSet, basename="object-type")
router.register(ROUTE_SEGMENTS["linkType"], views.LinkTypeViewSet, basename="link-type")
router.register(ROUTE_SEGMENTS["valueType"], views.ValueTypeViewSet, basename="value-type")
router.register(ROUTE_SEGMENTS["structType"], views.StructTypeViewSet, basename="struct-type")
router.register(
    ROUTE_SEGMENTS["sharedProperty"], views.SharedPropertyViewSet, basename="shared-property"
)
router.register(ROUTE_SEGMENTS["interface"], views.InterfaceViewSet, basename="interface")

urlpatterns = [
    re_path(BRANCH + route.pattern.regex.pattern.removeprefix("^"), route.callback, name=route.name)
    for route in router.urls
]
REF = rf"^refs/(?P<ref>{NAME})/"
urlpatterns += [
    re_path(REF + r"schema\.graphql$", schemas.GraphQLSchemaView.as_view(), name="ref-graphql"),
    re_path(REF + r"schema\.json$", schemas.JSONSchemaView.as_view(), name="ref-json-schema"),
    re_path(REF + r"openapi\.json$", schemas.OpenAPIView.as_view(), name="ref-openapi"),
    re_path(BRANCH + "bundle/$", bundles.BundleImportView.as_view(), name="branch-bundle"),
    re_path(
        rf"^refs/(?P<ref>{NAME})/bundle/$", bundles.BundleExportView.as_view(), name="ref-bundle"
    ),
    re_path(BRANCH + "pii-findings/$", pii.PiiFindingListView.as_view(), name="pii-findings"),
    re_path(
        BRANCH + r"pii-findings/(?P<entity>[0-9a-fA-F-]{36})/confirm/$",
        pii.PiiFindingConfirmView.as_view(),
        name="pii-finding-confirm",
    ),
    re_path(
        BRANCH + r"pii-findings/(?P<entity>[0-9a-fA-F-]{36})/dismiss/$",
        pii.PiiFindingDismissView.as_view(),
        name="pii-finding-dismiss",
    ),
]
