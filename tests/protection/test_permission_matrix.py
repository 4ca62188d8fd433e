"""A permission matrix that cannot fall behind (issue 12).

Every API operation of the OpenAPI document, every admin model's list, add and change
pages and every other route (``tests/protection/matrix.py`` reads them from the URL conf)
is called by each principal — anonymous, and each role group (viewer, editor, steward,
admin) with and without the per-branch grants — and the answer is held against
``permission_table.py``. An operation the table does not name fails the suite, as does an
entry for an operation that is gone.

Writes are sent with an empty body: a principal who may write gets past the permission
check to a 400 (or does the write, which is rolled back); one who may not gets 401/403/404.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from tests.factories import (
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    SharedPropertyFactory,
    StructTypeFactory,
    UserFactory,
    ValueTypeFactory,
)
from tests.protection import matrix
from tests.protection.permission_table import ADMIN_MODELS, API, OTHER_ROUTES, outcomes

# --- the world every call acts on -----------------------------------------------------------


def _build_world() -> dict:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.utils import timezone
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from rest_framework.authtoken.models import Token
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from events import registry
    from events.models import Delivery, OutboxEvent, WebhookSubscription
    from ontology.models import ObjectType
    from tests.factories import BranchFactory
    from versioning import releases
    from versioning import services as versioning
    from versioning.models import Branch, Consumer
    from versioning.services import proposals

    main = BranchFactory(name="main", protected=True)
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="NONE")
    flight = ObjectTypeFactory(branch=main, api_name="Flight", properties=2)
    airport = ObjectTypeFactory(branch=main, api_name="Airport", properties=1)
    LinkTypeFactory(branch=main, api_name="flightAirport", source=flight, target=airport)
    ValueTypeFactory(branch=main, api_name="code")
    StructTypeFactory(branch=main, api_name="Address", fields=1)
    shared = SharedPropertyFactory(branch=main, api_name="label")
    interface = InterfaceFactory(branch=main, api_name="Named", properties=[shared])
    InterfaceLinkConstraintFactory(interface=interface, api_name="home", target_object_type=airport)
    versioning.commit_changes(Branch.objects.get(pk=main.pk), None, "Initial", system=True)
    release = releases.publish_release("main", None)
    dev = versioning.create_branch("dev", "main", None)
    dev_flight = ObjectType.objects.get(branch=dev, api_name="Flight")
    from ontology import services as ontology

    dev_flight.description = "changed on dev"
    ontology.save(dev_flight, user=None)
    proposal = proposals.open_proposal(dev, Branch.objects.get(name="main"), "Dev", None)
    Consumer.objects.create(name="app", contact="ops@example.com")
    event = OutboxEvent.objects.order_by("pk").first()
    delivery = Delivery.objects.create(
        event=event, sink="log", subject=event.subject, next_attempt_at=timezone.now()
    )
    from events.models import DeadLetter

    DeadLetter.objects.create(
        delivery=delivery, event=event, sink="log", reason="poison", error="x"
    )
    WebhookSubscription.objects.create(name="hook", url="https://example.com/hook")
    somebody = UserFactory(username="somebody")
    Token.objects.create(user=somebody)
    refresh = RefreshToken.for_user(somebody)
    refresh.blacklist()
    interval = IntervalSchedule.objects.create(every=1, period="days")
    PeriodicTask.objects.create(name="t", task="x", interval=interval)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    CrontabSchedule.objects.create()
    SolarSchedule.objects.create(event="sunrise", latitude=1, longitude=1)
    AccessAttempt.objects.create(username="x", ip_address="127.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="x", ip_address="127.0.0.1")
    AccessFailureLog.objects.create(username="x", ip_address="127.0.0.1")
    assert OutstandingToken.objects.exists()

    head = Branch.objects.get(name="main").head_id
    values = {
        "branch": "dev",
        "ref": "main",
        "rid": str(dev_flight.rid),
        "entity": str(dev_flight.properties.order_by("position").first().rid),
        "commit": head,
        "id": str(proposal.pk),
        "version": release.version,
        "name": "app",
        "type": registry.all_types()[0].type,
    }
    kinds = {
        "object-types": "Flight",
        "link-types": "flightAirport",
        "value-types": "code",
        "struct-types": "Address",
        "shared-properties": "label",
        "interfaces": "Named",
    }
    dev_pk = str(dev.pk)
    admin_requests = {
        "oms-select-branch": (
            "post",
            "/admin/select-branch/",
            {"branch": "dev", "next": "/admin/versioning/branch/"},
        ),
        "oms-overdue-deprecations": ("get", "/admin/ontology/overdue-deprecations/", None),
        "versioning_branch_permissions": (
            "get",
            f"/admin/versioning/branch/{dev_pk}/permissions/",
            None,
        ),
        "versioning_branch_permissions_manage_user": (
            "get",
            f"/admin/versioning/branch/{dev_pk}/permissions/user-manage/{somebody.pk}/",
            None,
        ),
        "versioning_branch_permissions_manage_group": (
            "get",
            f"/admin/versioning/branch/{dev_pk}/permissions/group-manage/"
            f"{Group.objects.get(name='viewer').pk}/",
            None,
        ),
        "versioning_changes": ("get", "/admin/versioning/commit/changes/?branch=dev", None),
        "versioning_discard": (
            "post",
            "/admin/versioning/commit/changes/discard/",
            {"branch": "dev", "scope": "all"},
        ),
        "versioning_history": ("get", "/admin/versioning/commit/history/", None),
        "versioning_diff": (
            "get",
            "/admin/versioning/commit/diff/?" + urlencode({"from": "main", "to": "dev"}),
            None,
        ),
        "versioning_revert": (
            "post",
            f"/admin/versioning/commit/{head}/revert/",
            {"branch": "dev"},
        ),
        "versioning_proposal_resolve": (
            "post",
            f"/admin/versioning/proposal/{proposal.pk}/resolve/",
            {"conflict": "none", "choice": "ours"},
        ),
        "versioning_proposal_act": (
            "post",
            f"/admin/versioning/proposal/{proposal.pk}/act/",
            {"action": "merge"},
        ),
        "versioning_proposal_comment": (
            "post",
            f"/admin/versioning/proposal/{proposal.pk}/comment/",
            {"body": "Looks right."},
        ),
        "ontology_graph": ("get", "/admin/ontology/objecttype/graph/", None),
        "oms-search": ("get", "/admin/ontology/search/?q=Flight", None),
        "auth_user_password_change": ("get", f"/admin/auth/user/{somebody.pk}/password/", None),
        "/": ("get", "/", None),
        "health-live": ("get", "/health/live", None),
        "health-ready": ("get", "/health/ready", None),
        "prometheus-django-metrics": ("get", "/metrics", None),
        "schema": ("get", "/api/schema/", None),
        "swagger-ui": ("get", "/api/docs/", None),
    }
    return {"values": values, "kinds": kinds, "admin_requests": admin_requests, "dev": dev}


def _principal(name: str, world: dict):
    if name == "anonymous":
        return None
    role, _, grant = name.partition("+")
    user = UserFactory(username=f"m-{role}-{bool(grant)}", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if grant:
        from versioning.models import Branch

        for branch in Branch.objects.filter(name__in=["dev", "main"]):
            for perm in matrix.BRANCH_GRANTS:
                assign_perm(f"versioning.{perm}", user, branch)
    return user


# --- calling --------------------------------------------------------------------------------


def _api_url(operation: str, world: dict) -> tuple[str, str, str]:
    method, path = operation.split(" ", 1)
    kind = re.search(r"/branches/\{branch\}/([a-z-]+)/\{api_name\}/", path)
    values = dict(world["values"])
    if kind:
        values["api_name"] = world["kinds"][kind.group(1)]
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    query = matrix.required_query(operation)
    return method.lower(), url, ("?" + urlencode(query)) if query else ""


def _api_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _call_api(operation: str, client: APIClient, world: dict) -> str:
    """The outcome of ``operation`` (one client for all: a new one loads every middleware)."""
    method, url, query = _api_url(operation, world)
    body = {} if method in ("post", "put", "patch") else None
    answer = matrix.rolled_back(
        lambda: (
            getattr(client, method)(url + query, body, format="json")
            if body is not None
            else getattr(client, method)(url + query)
        )
    )
    return matrix.api_outcome(answer)


def _admin_client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
        client.post("/admin/select-branch/", {"branch": "dev"})
    return client


def _call_admin_model(entry: str, client: Client, objects: dict) -> str:
    label, view = entry.split(" ")
    app_label, model_name = label.split(".")
    base = f"/admin/{app_label}/{model_name}/"
    url = {"changelist": base, "add": base + "add/"}.get(view) or f"{base}{objects[label]}/change/"
    return matrix.admin_outcome(matrix.rolled_back(lambda: client.get(url)), view)


def _call_other(name: str, client: Client, world: dict) -> str:
    method, url, data = world["admin_requests"][name]
    answer = matrix.rolled_back(lambda: getattr(client, method)(url, data or {}))
    return matrix.admin_outcome(answer, name)


# --- the tests ------------------------------------------------------------------------------


def test_every_operation_has_an_entry_and_every_entry_an_operation(db):
    assert sorted(set(matrix.api_operations()) ^ set(API)) == []
    assert sorted(set(matrix.admin_model_views()) ^ set(ADMIN_MODELS)) == []
    assert sorted(set(matrix.other_routes()) ^ set(OTHER_ROUTES)) == []


def _missing(urlconf=None) -> list[str]:
    return sorted(
        (set(matrix.api_operations(urlconf)) - set(API))
        | (set(matrix.admin_model_views()) - set(ADMIN_MODELS))
        | (set(matrix.other_routes(urlconf)) - set(OTHER_ROUTES))
    )


def test_a_new_endpoint_without_an_entry_fails(db):
    """An API view, a plain view and an admin page added to the project, each without an
    entry in the table: the coverage check names all three."""
    import sys
    import types

    from django.contrib import admin
    from django.contrib.auth.models import Permission
    from django.http import HttpResponse
    from django.urls import include, path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class NewThing(APIView):
        def get(self, request):
            return Response({})

    urlconf = types.ModuleType("matrix_new_endpoint_urls")
    urlconf.urlpatterns = [
        path("api/v1/new-thing/", NewThing.as_view()),
        path("new-page/", lambda request: HttpResponse(), name="new-page"),
        path("", include("oms_site.urls")),
    ]
    sys.modules[urlconf.__name__] = urlconf
    admin.site.register(Permission)
    try:
        assert _missing(urlconf.__name__) == [
            "GET /api/v1/new-thing/",
            "auth.permission add",
            "auth.permission change",
            "auth.permission changelist",
            "new-page",
        ]
    finally:
        admin.site.unregister(Permission)
        del sys.modules[urlconf.__name__]
    assert _missing() == []


def test_a_grant_adds_nothing_to_the_roles_called_without_one(db):
    """The roles the matrix calls without a grant hold every branch permission model-wide."""
    for role in matrix.GRANT_MOOT:
        held = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert set(matrix.BRANCH_GRANTS) <= held, role


@pytest.fixture
def quiet_refusals():
    """Hundreds of 403s: Django logs each with its traceback, which costs seconds."""
    import logging

    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.django_db
def test_each_principal_is_allowed_exactly_what_the_table_says(settings, quiet_refusals):
    """One world for every principal (building it is the slow part); every difference from
    the table is reported, not only the first."""
    settings.AXES_ENABLED = False  # force_login/force_authenticate: no credentials to count
    # the operations endpoints open to a token or a network, never to a role
    settings.OMS_OPS_TOKEN = "matrix-ops-token"
    settings.OMS_OPS_NETWORKS = []
    world = _build_world()
    objects = matrix.admin_objects()
    wrong = []
    for principal in matrix.PRINCIPALS:
        user = _principal(principal, world)
        api = _api_client(user)
        for operation, policy in API.items():
            got = _call_api(operation, api, world)
            if got != outcomes(policy)[principal]:
                wrong.append((principal, operation, got, policy))
        client = _admin_client(user)
        for entry, policy in ADMIN_MODELS.items():
            got = _call_admin_model(entry, client, objects)
            if got != outcomes(policy)[principal]:
                wrong.append((principal, entry, got, policy))
        for name, policy in OTHER_ROUTES.items():
            got = _call_other(name, client, world)
            if got != outcomes(policy)[principal]:
                wrong.append((principal, name, got, policy))
    report = [
        f"{who}: {what} answered {got}, the table says {outcomes(policy)[who]} ({policy})"
        for who, what, got, policy in wrong
    ]
    assert report == [], "\n".join(report)
