"""Where the server once disagreed with its OpenAPI schema (issue 9, item 6), one case each,
so that a regression names itself without a schemathesis run."""

import pytest
from rest_framework.test import APIClient

from tests.factories import BranchFactory, InterfaceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    BranchFactory(name="main")
    client = APIClient()
    client.force_authenticate(UserFactory(username="su", is_staff=True, is_superuser=True))
    return client


def fields_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]["fields"]


@pytest.mark.parametrize("value", ["null", "abc", "0", "501", "-1"])
def test_a_bad_page_size_is_400_not_the_default(api, value):
    assert "page_size" in fields_of(api.get(f"/api/v1/releases/?page_size={value}"), 400)
    BranchFactory(name="dev")
    response = api.get(f"/api/v1/branches/dev/object-types/?page_size={value}")
    assert "page_size" in fields_of(response, 400)


def test_a_bad_boolean_filter_is_400(api):
    assert "archived" in fields_of(api.get("/api/v1/branches/?archived=null"), 400)
    assert api.get("/api/v1/branches/?archived=true").status_code == 200


@pytest.mark.parametrize("value", [0, True, 1.5])
def test_a_string_field_takes_only_a_string(api, value):
    body = {"name": "x", "description": value}
    assert "description" in fields_of(api.post("/api/v1/branches/", body, format="json"), 400)
    BranchFactory(name="dev")
    body = {"apiName": "Code", "displayName": "C", "baseType": "string", "description": value}
    response = api.post("/api/v1/branches/dev/value-types/", body, format="json")
    assert "description" in fields_of(response, 400)


def test_a_taken_branch_name_is_409_duplicate(api):
    assert api.post("/api/v1/branches/", {"name": "x"}, format="json").status_code == 201
    response = api.post("/api/v1/branches/", {"name": "x"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "duplicate"


def test_an_unknown_reviewer_is_a_400_naming_reviewers_not_a_404(api):
    """A 400 on the field, the answer an existing user who may not review gets too (no
    username enumeration: tests/protection/test_defects.py), and a status the schema
    documents for this operation."""
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    body = {"source": "dev", "target": "main", "title": "t", "reviewers": ["nobody"]}
    assert "reviewers" in fields_of(api.post("/api/v1/proposals/", body, format="json"), 400)


def test_an_entity_named_like_a_branch_route_is_reached(api):
    dev = BranchFactory(name="dev")
    InterfaceFactory(branch=dev, api_name="Revert")
    response = api.get("/api/v1/branches/dev/interfaces/revert/")
    assert response.status_code == 200, response.content
    assert response.json()["apiName"] == "Revert"
