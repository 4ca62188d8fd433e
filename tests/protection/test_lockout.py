"""Login brute force (issue 12): the admin and HTTP Basic lock a login out after
``AXES_FAILURE_LIMIT`` failures; admins see the attempts."""

from __future__ import annotations

import base64

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "the-right-password-1"


@pytest.fixture
def steward():
    user = UserFactory(username="steward", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _admin_login(client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "steward", "password": password})


def test_the_admin_locks_out_after_the_configured_failures(client, steward, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _admin_login(client, "wrong").status_code == 200  # the form again
    locked = _admin_login(client, "wrong")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    # even the right password is refused while locked
    assert _admin_login(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="steward")
    assert attempt.failures_since_start >= 3


def test_a_success_before_the_limit_resets_the_count(client, steward, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _admin_login(client, "wrong")
    _admin_login(client, "wrong")
    assert _admin_login(client, PASSWORD).status_code == 302
    client.logout()
    assert _admin_login(client, "wrong").status_code == 200


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"steward:{password}".encode()).decode()


def test_http_basic_locks_out_after_the_configured_failures(steward, settings):
    settings.AXES_FAILURE_LIMIT = 3
    BranchFactory(name="main", protected=True)
    api = APIClient()
    for _ in range(2):
        answer = api.get("/api/v1/branches/", HTTP_AUTHORIZATION=_basic("wrong"))
        assert answer.status_code == 401
    locked = api.get("/api/v1/branches/", HTTP_AUTHORIZATION=_basic("wrong"))
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out" and locked["Retry-After"]
    refused = api.get("/api/v1/branches/", HTTP_AUTHORIZATION=_basic(PASSWORD))
    assert refused.status_code == 429


def test_admins_see_the_attempts_in_the_admin(admin_client, steward, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _admin_login(client, "wrong")
    page = admin_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "steward" in page.content.decode()
