"""Every endpoint with and without permission.

Reads need an authenticated user; writes need the model's add / change / delete
permission and the right to edit the branch (here ``versioning.edit_branch`` model-wide;
per-branch grants are tested in ``test_branch_grants.py``); anonymous requests are refused.
"""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.ontology.conftest import url
from tests.ontology.test_api_errors import KINDS

pytestmark = pytest.mark.django_db

MODEL = {
    "object-types": "objecttype",
    "link-types": "linktype",
    "value-types": "valuetype",
    "struct-types": "structtype",
    "shared-properties": "sharedproperty",
    "interfaces": "interface",
}

EDIT = "versioning.edit_branch"

VALUE_TYPE = {"apiName": "Code", "displayName": "Code", "baseType": "string"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_anonymous_users_can_neither_read_nor_write(anon_api, dev, kind):
    row = KINDS[kind](branch=dev)
    for response in (
        anon_api.get(url("dev", kind)),
        anon_api.get(url("dev", kind, row.api_name)),
        anon_api.post(url("dev", kind), {}, format="json"),
        anon_api.patch(url("dev", kind, row.api_name), {}, format="json"),
        anon_api.delete(url("dev", kind, row.api_name)),
    ):
        # 401 with a challenge: consumers should authenticate with an API token
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["error"]["status"] == 401


def test_api_token_authenticates_a_consumer(dev):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests.factories import ObjectTypeFactory, UserFactory

    ObjectTypeFactory(branch=dev, api_name="Tokened")
    token = Token.objects.create(user=UserFactory())
    client = APIClient()
    assert client.get(url("dev", "object-types")).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(url("dev", "object-types"))
    assert response.status_code == 200
    assert [r["apiName"] for r in response.json()["results"]] == ["Tokened"]
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(url("dev", "object-types")).status_code == 401


@pytest.mark.parametrize("kind", list(KINDS))
def test_users_without_permissions_can_read_but_not_write(viewer_api, dev, kind):
    row = KINDS[kind](branch=dev)
    assert viewer_api.get(url("dev", kind)).status_code == 200
    assert viewer_api.get(url("dev", kind, row.api_name)).status_code == 200
    assert viewer_api.post(url("dev", kind), {}, format="json").status_code == 403
    assert viewer_api.patch(url("dev", kind, row.api_name), {}, format="json").status_code == 403
    assert viewer_api.put(url("dev", kind, row.api_name), {}, format="json").status_code == 403
    assert viewer_api.delete(url("dev", kind, row.api_name)).status_code == 403


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_write_needs_its_own_permission(dev, kind):
    from rest_framework.test import APIClient

    row = KINDS[kind](branch=dev)
    model = MODEL[kind]
    client = APIClient()
    client.force_authenticate(UserFactory(permissions=[f"ontology.change_{model}", EDIT]))
    assert client.patch(url("dev", kind, row.api_name), {}, format="json").status_code == 200
    assert client.post(url("dev", kind), {}, format="json").status_code == 403
    assert client.delete(url("dev", kind, row.api_name)).status_code == 403

    client.force_authenticate(UserFactory(permissions=[f"ontology.delete_{model}", EDIT]))
    assert client.delete(url("dev", kind, row.api_name)).status_code == 204


def test_add_permission_allows_create(dev):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(UserFactory(permissions=["ontology.add_valuetype", EDIT]))
    assert client.post(url("dev", "value-types"), VALUE_TYPE, format="json").status_code == 201


def test_basic_authentication(dev):
    from rest_framework.test import APIClient

    UserFactory(username="basic", permissions=["ontology.add_valuetype", EDIT])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YmFzaWM6cGFzc3dvcmQ=")  # basic:password
    assert client.post(url("dev", "value-types"), VALUE_TYPE, format="json").status_code == 201
