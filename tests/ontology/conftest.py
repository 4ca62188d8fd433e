"""API fixtures: a writable ``dev`` branch and clients for users with and without rights."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.factories import BranchFactory, UserFactory

API = "/api/v1/branches"


def url(branch: str, kind: str, lookup: str | None = None) -> str:
    """``url("dev", "object-types", "Flight")`` -> ``/api/v1/branches/dev/object-types/Flight/``."""
    return f"{API}/{branch}/{kind}/" + (f"{lookup}/" if lookup else "")


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def dev(db):
    """A writable branch (``main`` is protected)."""
    return BranchFactory(name="dev")


@pytest.fixture
def editor(db):
    """A user holding every model permission of the ontology app, and the right to edit
    every branch (``versioning.edit_branch`` model-wide)."""
    user = UserFactory(username="editor", permissions=["versioning.edit_branch"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ontology"))
    return user


@pytest.fixture
def viewer(db):
    """An authenticated user without any permission: may read, may not write."""
    return UserFactory(username="viewer")


@pytest.fixture
def api(editor) -> APIClient:
    return _client(editor)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return _client(viewer)


@pytest.fixture
def anon_api(db) -> APIClient:
    return _client()
