"""Throttling (issue 12): per-user burst and sustained rates, stricter for anonymous
callers, scoped rates for expensive operations; 429 with Retry-After in the error format."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from oms_site.throttling import DEFAULT_RATES, OPERATION_SCOPES
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    settings.OMS_THROTTLE_ENABLED = True
    settings.OMS_THROTTLE_RATES = {scope: None for scope in DEFAULT_RATES}

    def set_rates(**given):
        settings.OMS_THROTTLE_RATES = {**settings.OMS_THROTTLE_RATES, **given}

    return set_rates


def _forget(scope: str, ident) -> None:
    """A previous run may have left this user's count in a shared Redis."""
    cache.delete(f"throttle_{scope}_{ident}")


def _user_client(**perms):
    user = UserFactory(username=f"u{uuid.uuid4().hex[:8]}", **perms)
    for scope in DEFAULT_RATES:
        _forget(scope, user.pk)
    client = APIClient()
    client.force_authenticate(user)
    return client


def _assert_429(answer) -> None:
    assert answer.status_code == 429, answer.content
    assert int(answer["Retry-After"]) >= 1
    body = answer.json()["error"]
    assert body["status"] == 429 and body["code"] == "throttled"


def test_a_burst_as_one_user_gets_429_after_the_configured_burst(rates):
    rates(user_burst="10/min")
    BranchFactory(name="main", protected=True)
    client = _user_client()
    answers = [client.get("/api/v1/branches/").status_code for _ in range(30)]
    assert answers[:10] == [200] * 10
    assert set(answers[10:]) == {429}
    _assert_429(client.get("/api/v1/branches/"))
    # another user has a burst of their own
    assert _user_client().get("/api/v1/branches/").status_code == 200


def test_the_sustained_rate_counts_too(rates):
    rates(user_burst="100/min", user_sustained="5/day")
    BranchFactory(name="main", protected=True)
    client = _user_client()
    assert [client.get("/api/v1/branches/").status_code for _ in range(5)] == [200] * 5
    _assert_429(client.get("/api/v1/branches/"))


def test_anonymous_callers_have_their_own_stricter_rate(rates):
    rates(user_burst="100/min", anon_burst="3/min")
    BranchFactory(name="main", protected=True)
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    _forget("anon_burst", address)
    anon = APIClient(REMOTE_ADDR=address)
    statuses = [anon.get("/api/v1/events/schemas/").status_code for _ in range(3)]
    assert 429 not in statuses
    _assert_429(anon.get("/api/v1/events/schemas/"))
    assert _user_client().get("/api/v1/branches/").status_code == 200


def test_an_expensive_operation_has_its_own_scope(rates):
    rates(user_burst="100/min", compatibility="2/min")
    BranchFactory(name="main", protected=True)
    client = _user_client()
    for _ in range(2):
        assert client.get("/api/v1/compatibility/?from=main&to=main").status_code != 429
    _assert_429(client.get("/api/v1/compatibility/?from=main&to=main"))
    assert client.get("/api/v1/branches/").status_code == 200  # other operations go on


def test_the_views_of_expensive_operations_carry_their_scope():
    from versioning.api import releases, views

    assert views.MergeView.throttle_scope == "merge"
    assert views.DryRunView.throttle_scope == "dry_run"
    assert releases.CompatibilityView.throttle_scope == "compatibility"
    assert set(OPERATION_SCOPES) <= set(DEFAULT_RATES)


def test_every_operation_documents_429_with_retry_after(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method == "parameters":
                continue
            answer = operation["responses"].get("429")
            assert answer, (method, path)
            assert "Retry-After" in answer["headers"]


def test_rates_come_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.OMS_THROTTLE_RATES['merge'], settings.OMS_THROTTLE_RATES['anon_burst'])"
    )
    env = {**os.environ, "OMS_THROTTLE_MERGE": "7/hour", "OMS_THROTTLE_ANON_BURST": ""}
    env["DJANGO_SETTINGS_MODULE"] = "oms_site.settings"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["7/hour", "None"], done.stderr
    env["OMS_THROTTLE_MERGE"] = "lots"
    bad = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert bad.returncode != 0 and "OMS_THROTTLE_MERGE" in bad.stderr
