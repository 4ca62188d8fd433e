"""The versioning REST API end to end: every endpoint, its errors in the common format,
and its permission."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.versioning.support import edit, object_type, rid_of, seed_main, steward
from versioning.models import Branch, Proposal

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def author():
    return steward("author")


@pytest.fixture
def reviewer():
    return steward("reviewer")


@pytest.fixture
def api(author):
    seed_main(3)
    return client_for(author)


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


def test_branches_create_list_get_delete(api):
    created = api.post("/api/v1/branches/", {"name": "feature/x", "from": "main"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["createdFrom"] == "main"
    names = [b["name"] for b in api.get("/api/v1/branches/").json()]
    assert names == ["feature/x", "main"]
    detail = api.get("/api/v1/branches/feature/x/").json()
    assert detail["head"] == Branch.objects.get(name="main").head_id
    assert detail["uncommittedChanges"] == 0
    # the ontology's routes of a branch with a slash still resolve
    assert api.get("/api/v1/branches/feature/x/object-types/").status_code == 200
    assert api.delete("/api/v1/branches/feature/x/").status_code == 204
    error(api.get("/api/v1/branches/feature/x/"), 404, "unknown_ref")


def test_branch_create_errors(api):
    body = error(api.post("/api/v1/branches/", {"name": "bad name"}, format="json"), 400)
    assert "name" in body["fields"]
    error(api.post("/api/v1/branches/", {"name": "a/commits"}, format="json"), 400)
    error(api.post("/api/v1/branches/", {"name": "x", "from": "nowhere"}, format="json"), 404)
    error(api.delete("/api/v1/branches/main/"), 403, "protected_branch")


def test_commit_history_changes_and_stale_head(api, author):
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    dev = Branch.objects.get(name="dev")
    head = dev.head_id
    edit(dev, "Type0", display_name="Changed")
    changes = api.get("/api/v1/branches/dev/changes/").json()
    assert [c["change"] for c in changes["changes"]] == ["modified"]
    stale = api.post(
        "/api/v1/branches/dev/commits/", {"message": "x", "expectedHead": "f" * 64}, format="json"
    )
    body = error(stale, 409, "stale_head")
    assert body["actualHead"] == head and "expectedHead" in body["fields"]
    error(api.post("/api/v1/branches/dev/commits/", {"message": ""}, format="json"), 400)
    made = api.post(
        "/api/v1/branches/dev/commits/", {"message": "rename", "expectedHead": head}, format="json"
    )
    assert made.status_code == 201, made.content
    commit = made.json()
    assert commit["parents"] == [head] and commit["author"] == "author"
    assert list(commit["delta"]) == [rid_of(dev, "Type0")]
    error(api.post("/api/v1/branches/dev/commits/", {"message": "again"}, format="json"), 409)
    page = api.get("/api/v1/branches/dev/commits/?limit=1").json()
    assert [c["id"] for c in page["results"]] == [commit["id"]] and page["next"] == commit["id"]
    rest = api.get(f"/api/v1/branches/dev/commits/?limit=1&after={page['next']}").json()
    assert rest["results"][0]["id"] == head and rest["next"] is None
    error(api.get("/api/v1/branches/dev/commits/?limit=0"), 400)
    assert api.get(f"/api/v1/commits/{commit['id'][:8]}/").json()["id"] == commit["id"]
    error(api.get("/api/v1/commits/abcdef0123/"), 404)
    history = api.get(f"/api/v1/branches/dev/entities/{rid_of(dev, 'Type0')}/history/").json()
    assert [h["change"] for h in history] == ["modified", "added"]
    error(api.get("/api/v1/branches/dev/entities/not-a-uuid/history/"), 400)


def test_protected_branch_commit_is_forbidden(api):
    main = Branch.objects.get(name="main")
    edit(main, "Type0", description="direct")
    error(api.post("/api/v1/branches/main/commits/", {"message": "x"}, format="json"), 403)


def test_read_at_refs_and_diff(api):
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    dev = Branch.objects.get(name="dev")
    edit(dev, "Type1", api_name="Renamed")
    api.post("/api/v1/branches/dev/commits/", {"message": "rename"}, format="json")
    rid = rid_of(dev, "Renamed")
    docs = api.get("/api/v1/refs/main/documents/").json()
    assert len(docs["documents"]) == 4
    one = api.get(f"/api/v1/refs/dev/documents/{rid}/").json()
    assert one["document"]["apiName"] == "Renamed"
    old = api.get(f"/api/v1/refs/{docs['commit'][:7]}/documents/{rid}/").json()
    assert old["document"]["apiName"] == "Type1"
    picked = api.get(f"/api/v1/refs/dev/documents/?rid={rid}").json()
    assert list(picked["documents"]) == [rid]
    error(api.get("/api/v1/refs/nope/documents/"), 404, "unknown_ref")
    error(api.get(f"/api/v1/refs/main/documents/{'0' * 8}-0000-0000-0000-{'0' * 12}/"), 404)
    diff = api.get("/api/v1/diff/?from=main&to=dev").json()
    (change,) = diff["changes"]
    assert (change["change"], change["oldApiName"], change["apiName"]) == (
        "renamed",
        "Type1",
        "Renamed",
    )
    body = error(api.get("/api/v1/diff/?from=main"), 400)
    assert "to" in body["fields"]


def test_proposal_flow_with_conflict_resolution(api, author, reviewer):
    for name in ("other", "dev"):
        api.post("/api/v1/branches/", {"name": name}, format="json")
    other, dev = Branch.objects.get(name="other"), Branch.objects.get(name="dev")
    edit(other, "Type0", display_name="Other's")
    api.post("/api/v1/branches/other/commits/", {"message": "other"}, format="json")
    first = api.post(
        "/api/v1/proposals/", {"source": "other", "title": "Other"}, format="json"
    ).json()
    as_reviewer = client_for(reviewer)
    error(api.post(f"/api/v1/proposals/{first['id']}/approve/"), 403)  # the author
    assert as_reviewer.post(f"/api/v1/proposals/{first['id']}/approve/").json()["approvals"] == [
        "reviewer"
    ]
    merged = as_reviewer.post(f"/api/v1/proposals/{first['id']}/merge/")
    assert merged.status_code == 200, merged.content
    assert merged.json()["proposal"]["status"] == "merged"
    error(as_reviewer.post(f"/api/v1/proposals/{first['id']}/merge/"), 409)

    edit(dev, "Type0", display_name="Dev's")
    api.post("/api/v1/branches/dev/commits/", {"message": "dev"}, format="json")
    created = api.post(
        "/api/v1/proposals/",
        {"source": "dev", "title": "Dev", "reviewers": ["reviewer"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["reviewers"] == ["reviewer"]
    run = api.get(f"/api/v1/proposals/{pk}/dry-run/").json()
    assert not run["canMerge"] and run["counts"]["ERROR"] == 1
    conflict = run["conflicts"][0]
    as_reviewer.post(f"/api/v1/proposals/{pk}/approve/")
    body = error(as_reviewer.post(f"/api/v1/proposals/{pk}/merge/"), 409, "unresolved_conflicts")
    assert body["conflicts"][0]["id"] == conflict["id"]
    bad = api.post(
        f"/api/v1/proposals/{pk}/resolve/", {"conflictId": "x", "choice": "ours"}, format="json"
    )
    assert "conflictId" in error(bad, 400)["fields"]
    resolved = api.post(
        f"/api/v1/proposals/{pk}/resolve/",
        {"conflictId": conflict["id"], "choice": "theirs"},
        format="json",
    )
    assert resolved.json()["resolutions"][conflict["id"]]["choice"] == "theirs"
    assert api.get(f"/api/v1/proposals/{pk}/dry-run/").json()["mergeable"]
    assert as_reviewer.post(f"/api/v1/proposals/{pk}/merge/").status_code == 200
    assert object_type(Branch.objects.get(name="main"), "Type0").display_name == "Dev's"
    listed = api.get("/api/v1/proposals/?status=merged").json()
    assert {p["id"] for p in listed} == {first["id"], pk}


def test_update_from_target_close_and_revert(api, author, reviewer):
    for name in ("other", "dev"):
        api.post("/api/v1/branches/", {"name": name}, format="json")
    other, dev = Branch.objects.get(name="other"), Branch.objects.get(name="dev")
    edit(other, "Type1", description="main moved")
    api.post("/api/v1/branches/other/commits/", {"message": "other"}, format="json")
    first = api.post("/api/v1/proposals/", {"source": "other", "title": "O"}, format="json").json()
    client_for(reviewer).post(f"/api/v1/proposals/{first['id']}/approve/")
    client_for(reviewer).post(f"/api/v1/proposals/{first['id']}/merge/")
    edit(dev, "Type0", description="dev work")
    made = api.post("/api/v1/branches/dev/commits/", {"message": "work"}, format="json").json()
    pk = api.post("/api/v1/proposals/", {"source": "dev", "title": "D"}, format="json").json()["id"]
    updated = api.post(f"/api/v1/proposals/{pk}/update-from-target/")
    assert updated.status_code == 201, updated.content
    assert object_type(dev, "Type1").description == "main moved"
    error(api.post(f"/api/v1/proposals/{pk}/update-from-target/"), 409)
    reverted = api.post("/api/v1/branches/dev/revert/", {"commit": made["id"]}, format="json")
    assert reverted.status_code == 201, reverted.content
    assert object_type(dev, "Type0").description == ""
    closed = api.post(f"/api/v1/proposals/{pk}/", {"action": "close"}, format="json")
    assert closed.json()["status"] == "closed"
    error(api.post(f"/api/v1/proposals/{pk}/", {"action": "close"}, format="json"), 409)
    error(api.post(f"/api/v1/proposals/{pk}/", {"action": "reopen"}, format="json"), 400)
    error(api.get("/api/v1/proposals/999999/"), 404)


def test_permissions(api):
    nobody = client_for(UserFactory(username="nobody"))
    anonymous = client_for()
    # reads need a login, as the ontology's do: the whole ontology is not public
    for url in ("/api/v1/branches/", "/api/v1/refs/main/documents/", "/api/v1/proposals/"):
        assert error(anonymous.get(url), 401)["code"] == "not_authenticated"
    error(anonymous.post("/api/v1/branches/", {"name": "x"}, format="json"), 401)
    assert nobody.get("/api/v1/branches/").status_code == 200
    error(nobody.post("/api/v1/branches/", {"name": "x"}, format="json"), 403)
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    error(nobody.post("/api/v1/branches/dev/commits/", {"message": "m"}, format="json"), 403)
    error(nobody.delete("/api/v1/branches/dev/"), 403)
    error(nobody.post("/api/v1/proposals/", {"source": "dev", "title": "t"}, format="json"), 403)
    pk = api.post("/api/v1/proposals/", {"source": "dev", "title": "t"}, format="json").json()["id"]
    for action in ("approve", "merge", "update-from-target"):
        error(nobody.post(f"/api/v1/proposals/{pk}/{action}/"), 403)
    error(
        nobody.post(
            f"/api/v1/proposals/{pk}/resolve/", {"conflictId": "x", "choice": "ours"}, format="json"
        ),
        403,
    )
    error(nobody.post(f"/api/v1/proposals/{pk}/", {"action": "close"}, format="json"), 403)
    assert Proposal.objects.get(pk=pk).status == "open"
