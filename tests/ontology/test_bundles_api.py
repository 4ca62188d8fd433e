"""Bundles over REST: GET /api/v1/refs/{ref}/bundle/, POST /api/v1/branches/{branch}/bundle/."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings

from ontology.documents import to_documents
from versioning.models import Branch

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo_ontology", stdout=io.StringIO())
    return Branch.objects.get(name="main")


def test_export_json_and_yaml(api, demo):
    response = api.get("/api/v1/refs/main/bundle/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["manifest"]["source"]["commit"] == demo.head_id
    assert len(data["documents"]["objectType"]) == 17
    as_yaml = api.get("/api/v1/refs/main/bundle/?format=yaml&download=1")
    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/yaml")
    assert "attachment" in as_yaml["Content-Disposition"]
    assert yaml.safe_load(as_yaml.content)["documents"] == data["documents"]
    by_commit = api.get(f"/api/v1/refs/{demo.head_id[:9]}/bundle/")
    assert json.loads(by_commit.content)["documents"] == data["documents"]


def test_export_of_an_unknown_ref_is_404(api, demo):
    response = api.get("/api/v1/refs/nope/bundle/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_ref"


def test_import_onto_a_branch_and_commit(api, editor, demo, dev):
    body = api.get("/api/v1/refs/main/bundle/").content
    refused = api.post(
        "/api/v1/branches/dev/bundle/?commit=true&message=seed",
        body,
        content_type="application/json",
    )
    assert refused.status_code == 403  # committing needs versioning.add_commit
    assert to_documents(dev.pk) == {}
    editor.user_permissions.add(Permission.objects.get(codename="add_commit"))
    api.force_authenticate(type(editor).objects.get(pk=editor.pk))  # fresh permission cache
    body = api.get("/api/v1/refs/main/bundle/").content
    response = api.post(
        "/api/v1/branches/dev/bundle/?commit=true&message=seed",
        body,
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["created"] == 66 and result["commit"]
    dev.refresh_from_db()
    assert dev.head_id == result["commit"] and dev.head.message == "seed"
    again = api.post("/api/v1/branches/dev/bundle/", body, content_type="application/json")
    assert again.json() == {
        "branch": "dev",
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "commit": None,
    }


def test_import_yaml_body(api, demo, dev):
    body = api.get("/api/v1/refs/main/bundle/?format=yaml").content
    response = api.post("/api/v1/branches/dev/bundle/", body, content_type="application/yaml")
    assert response.status_code == 200, response.content
    assert len(to_documents(dev.pk)) == 66


def test_bad_bundle_gets_every_error_and_nothing_changes(api, demo, dev):
    data = json.loads(api.get("/api/v1/refs/main/bundle/").content)
    data["documents"]["objectType"][0]["apiName"] = "bad name"
    data["documents"]["valueType"][1]["constraints"] = {"regex": {"pattern": "("}}
    response = api.post("/api/v1/branches/dev/bundle/", data, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_bundle"
    pointers = {e["pointer"] for e in error["errors"]}
    assert "/documents/objectType/0/apiName" in pointers
    assert "/documents/objectType/0/apiName" in error["fields"]
    assert to_documents(dev.pk) == {}


def test_a_value_too_long_for_its_column_is_a_located_400(api, demo, dev):
    """Not a database error: the rows' values are checked before anything is written."""
    data = json.loads(api.get("/api/v1/refs/main/bundle/").content)
    ot = data["documents"]["objectType"][0]
    prid = next(iter(ot["properties"]))
    ot["icon"] = "i" * 61
    ot["properties"][prid]["displayName"] = "d" * 201
    response = api.post("/api/v1/branches/dev/bundle/", data, format="json")
    assert response.status_code == 400, response.content
    pointers = {e["pointer"] for e in response.json()["error"]["errors"]}
    assert pointers == {
        "/documents/objectType/0/icon",
        f"/documents/objectType/0/properties/{prid}/displayName",
    }
    assert to_documents(dev.pk) == {}


def test_import_needs_the_right_to_write(viewer_api, demo, dev):
    response = viewer_api.post("/api/v1/branches/dev/bundle/", {}, format="json")
    assert response.status_code == 403


def test_import_onto_a_protected_branch_is_refused(api, demo):
    body = api.get("/api/v1/refs/main/bundle/").content
    response = api.post("/api/v1/branches/main/bundle/", body, content_type="application/json")
    assert response.status_code == 403


@override_settings(OMS_MAX_BUNDLE_BYTES=1000)
def test_a_bundle_over_the_size_limit_is_413(api, dev):
    body = json.dumps({"manifest": {}, "documents": {"x": "y" * 2000}})
    response = api.post("/api/v1/branches/dev/bundle/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@override_settings(OMS_MAX_BODY_BYTES=1000)
def test_bundle_uploads_have_their_own_limit_above_the_body_limit(api, demo, dev):
    body = api.get("/api/v1/refs/main/bundle/").content
    assert len(body) > 1000
    response = api.post("/api/v1/branches/dev/bundle/", body, content_type="application/json")
    assert response.status_code == 200
