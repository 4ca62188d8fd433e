"""Release and compatibility endpoints: every code, in the common error format."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from tests.factories import UserFactory
from tests.versioning.support import edit
from tests.versioning.test_api import client_for, error
from versioning import services
from versioning.models import Branch, Release

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/releases/"


def next_commit(main: Branch, **values) -> None:
    edit(main, "Type0", **(values or {"description": "more"}))
    services.commit_changes(main, None, "change", system=True)


def test_publish_read_and_list(main, releaser):
    api = client_for(releaser)
    created = api.post(RELEASES, {"branch": "main", "notes": "first"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["version"] == "1.0.0" and body["branch"] == "main"
    assert body["commit"] == Branch.objects.get(name="main").head_id
    assert body["compatibility"] == "BACKWARD_COMPATIBLE" and body["previousVersion"] is None
    assert body["author"] == "releaser" and body["notes"] == "first"
    assert len(body["changelog"]) == 4 and body["migrationPlan"] == []
    assert body["counts"]["BACKWARD_COMPATIBLE"] == 4

    main.refresh_from_db()
    next_commit(main, api_name="Vessel")
    second = api.post(RELEASES, {}, format="json")  # branch defaults to main
    assert second.status_code == 201, second.content
    assert second.json()["version"] == "2.0.0"
    assert second.json()["migrationPlan"][0]["action"] == "rename"

    for version in ("2.0.0", "v2.0.0"):
        detail = api.get(f"{RELEASES}{version}/")
        assert detail.status_code == 200
        assert detail.json()["previousVersion"] == "1.0.0"
        assert detail.json()["changelog"][0]["kind"] == "renamed"

    listed = api.get(RELEASES).json()
    assert listed["count"] == 2
    assert [r["version"] for r in listed["results"]] == ["2.0.0", "1.0.0"]  # newest first
    assert "changelog" not in listed["results"][0]
    paged = api.get(RELEASES, {"page_size": 1, "page": 2}).json()
    assert [r["version"] for r in paged["results"]] == ["1.0.0"]
    assert api.get(RELEASES, {"branch": "lts"}).json()["count"] == 0
    assert api.get(RELEASES, {"branch": "main"}).json()["count"] == 2
    error(api.get(RELEASES, {"page": 9}), 404)


def test_reads_need_no_release_permission(main, releaser):
    client_for(releaser).post(RELEASES, {}, format="json")
    reader = client_for(UserFactory())
    assert reader.get(RELEASES).status_code == 200
    assert client_for().get(RELEASES).status_code == 401  # a login, like the other reads
    assert reader.get(f"{RELEASES}1.0.0/").status_code == 200
    assert reader.get("/api/v1/compatibility/", {"from": "1.0.0", "to": "main"}).status_code == 200


def test_publish_needs_release_branch_model_wide_or_on_the_branch(main):
    user = UserFactory(permissions=["versioning.merge_branch", "versioning.add_commit"])
    body = error(client_for(user).post(RELEASES, {"branch": "main"}, format="json"), 403)
    assert "release_branch" in body["message"]
    anonymous = client_for().post(RELEASES, {"branch": "main"}, format="json")
    assert anonymous.status_code in (401, 403)
    assign_perm("versioning.release_branch", user, main)
    granted = client_for(type(user).objects.get(pk=user.pk))
    assert granted.post(RELEASES, {"branch": "main"}, format="json").status_code == 201
    assert Release.objects.count() == 1


def test_publish_errors(main, releaser):
    api = client_for(releaser)
    error(api.post(RELEASES, {"branch": "nowhere"}, format="json"), 404, "unknown_ref")
    body = error(api.post(RELEASES, {"version": "one"}, format="json"), 400, "invalid")
    assert "version" in body["fields"]
    body = error(api.post(RELEASES, {"commit": "0" * 64}, format="json"), 404, "unknown_ref")
    assert "ref" in body["fields"]
    body = error(api.post(RELEASES, {"version": ["1.0.0"]}, format="json"), 400, "invalid")
    assert "version" in body["fields"]
    services.create_branch("dev", "main", None)
    body = error(api.post(RELEASES, {"branch": "dev"}, format="json"), 409, "invalid_state")
    assert "branch" in body["fields"]

    assert api.post(RELEASES, {"version": "1.2.0"}, format="json").status_code == 201
    error(api.post(RELEASES, {}, format="json"), 409, "duplicate")  # head already released
    main.refresh_from_db()
    next_commit(main, api_name="Vessel")
    body = error(api.post(RELEASES, {"version": "1.3.0"}, format="json"), 400, "invalid")
    assert "at least 2.0.0" in body["fields"]["version"][0]
    body = error(api.post(RELEASES, {"version": "1.1.0"}, format="json"), 400, "invalid")
    assert "not above" in body["message"]
    body = error(api.post(RELEASES, {"version": "1.2.0"}, format="json"), 409, "duplicate")
    assert "version" in body["fields"]
    assert api.post(RELEASES, {"version": "v3.0.0"}, format="json").json()["version"] == "3.0.0"


def test_unknown_release(main):
    api = client_for(UserFactory())
    body = error(api.get(f"{RELEASES}1.0.0/"), 404, "unknown_ref")
    assert "version" in body["fields"]
    error(api.get(f"{RELEASES}not-a-version/"), 404, "unknown_ref")


def test_compatibility_between_refs(main, releaser):
    api = client_for(releaser)
    api.post(RELEASES, {}, format="json")
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type2", api_name="Ship")
    edit(dev, "Type1", description="docs")
    services.commit_changes(dev, None, "rename and document")
    answer = api.get("/api/v1/compatibility/", {"from": "v1.0.0", "to": "dev"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["compatibility"] == "MIGRATION_REQUIRED"
    assert (body["bump"], body["suggestedVersion"], body["fromVersion"]) == (
        "major",
        "2.0.0",
        "1.0.0",
    )
    assert body["counts"] == {
        "COMPATIBLE": 1,
        "BACKWARD_COMPATIBLE": 0,
        "MIGRATION_REQUIRED": 1,
        "INCOMPATIBLE": 0,
    }
    assert [c["entity"] for c in body["changelog"]] == ["Ship", "Type1"]
    assert body["migrationPlan"][0]["to"] == "Ship"
    assert body["toCommit"] == Branch.objects.get(name="dev").head_id
    same = api.get("/api/v1/compatibility/", {"from": "main", "to": "1.0.0"}).json()
    assert same["changelog"] == [] and same["bump"] is None

    body = error(api.get("/api/v1/compatibility/", {"to": "main"}), 400, "invalid")
    assert set(body["fields"]) == {"from"}
    body = error(api.get("/api/v1/compatibility/", {"from": "9.0.0", "to": "main"}), 404)
    assert "ref" in body["fields"]
