"""API tokens (issue 12): every user manages their own; stewards manage others' in the
admin (the README said they could; the steward role got 403)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_makes_rotates_and_deletes_their_own_token():
    BranchFactory(name="main", protected=True)
    user = UserFactory(username="svc")
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/v1/auth/api-token/").json()["exists"] is False
    first = api.post("/api/v1/auth/api-token/").json()["key"]
    second = api.post("/api/v1/auth/api-token/").json()["key"]
    assert first != second and Token.objects.get(user=user).key == second
    shown = api.get("/api/v1/auth/api-token/")
    assert shown.json()["exists"] is True and second not in shown.content.decode()
    with_token = APIClient()
    assert (
        with_token.get("/api/v1/branches/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200
    )
    assert (
        with_token.get("/api/v1/branches/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    )
    assert api.delete("/api/v1/auth/api-token/").status_code == 204
    assert not Token.objects.filter(user=user).exists()
    assert APIClient().post("/api/v1/auth/api-token/").status_code == 401


def _member(client, role: str, name: str):
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_a_steward_manages_others_tokens_in_the_admin(client):
    _member(client, "steward", "stew")
    other = UserFactory(username="other")
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 200
    added = client.post("/admin/authtoken/tokenproxy/add/", {"user": other.pk})
    assert added.status_code == 302, added.content.decode()[:500]
    assert Token.objects.filter(user=other).exists()


def test_an_editor_may_not_manage_others_tokens(client):
    _member(client, "editor", "ed")
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 403
