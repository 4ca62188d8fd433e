"""The versioning REST operations of issue 3 are in the OpenAPI schema with the error
answers they can give, and those answers come in the common error format: 409 for a stale
head or unresolved conflicts, 403 for a protected branch, 404 for an unknown ref."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.versioning.support import edit, rid_of, seed_main, steward
from versioning import services
from versioning.models import Branch

pytestmark = pytest.mark.django_db

OPERATIONS = {
    # (method, path): error statuses the operation must document
    ("get", "/api/v1/branches/"): set(),
    ("post", "/api/v1/branches/"): {400, 403, 404, 409},
    ("get", "/api/v1/branches/{branch}/"): {404},
    ("delete", "/api/v1/branches/{branch}/"): {403, 404, 409},
    ("get", "/api/v1/branches/{branch}/commits/"): {400, 404},
    ("post", "/api/v1/branches/{branch}/commits/"): {400, 403, 404, 409},
    ("get", "/api/v1/commits/{commit}/"): {404},
    ("get", "/api/v1/branches/{branch}/changes/"): {404},
    ("get", "/api/v1/diff/"): {400, 404},
    ("get", "/api/v1/branches/{branch}/entities/{rid}/history/"): {400, 404},
    ("get", "/api/v1/refs/{ref}/documents/"): {400, 404},
    ("get", "/api/v1/refs/{ref}/documents/{rid}/"): {400, 404},
    ("get", "/api/v1/proposals/"): set(),
    ("post", "/api/v1/proposals/"): {400, 403, 404, 409},
    ("get", "/api/v1/proposals/{id}/"): {404},
    ("post", "/api/v1/proposals/{id}/"): {400, 403, 404, 409},  # close
    ("get", "/api/v1/proposals/{id}/dry-run/"): {404},
    ("post", "/api/v1/proposals/{id}/resolve/"): {400, 403, 404, 409},
    ("post", "/api/v1/proposals/{id}/approve/"): {403, 404, 409},
    ("post", "/api/v1/proposals/{id}/merge/"): {403, 404, 409},
    ("post", "/api/v1/proposals/{id}/update-from-target/"): {403, 404, 409},
    ("post", "/api/v1/branches/{branch}/revert/"): {400, 403, 404, 409},
}


def test_every_operation_is_in_the_schema_with_its_errors_in_the_common_format():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error_ref = "#/components/schemas/Error"
    assert "Error" in schema["components"]["schemas"]
    for (method, path), codes in OPERATIONS.items():
        operation = schema["paths"].get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is not in the schema"
        assert "versioning" in operation["tags"]
        documented = {int(code) for code in operation["responses"] if code.isdigit()}
        assert codes <= documented, (method, path, codes - documented)
        for code in documented:
            if code >= 400:
                content = operation["responses"][str(code)]["content"]["application/json"]
                assert content["schema"] == {"$ref": error_ref}, (method, path, code)


# --- the named answers, in the common format -----------------------------------------------


def error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"status", "code", "message", "fields"} <= set(error)
    assert (error["status"], error["code"]) == (status, code)
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


@pytest.fixture
def api():
    seed_main(3)
    client = APIClient()
    client.force_authenticate(steward("author"))
    return client


@pytest.fixture
def reviewer():
    client = APIClient()
    client.force_authenticate(steward("reviewer"))
    return client


def commit_on(api, name, entity="Type0", description="work") -> dict:
    edit(Branch.objects.get(name=name), entity, description=description)
    made = api.post(f"/api/v1/branches/{name}/commits/", {"message": description}, format="json")
    assert made.status_code == 201, made.content
    return made.json()


def branch_with_commit(api, name="dev", entity="Type0", description="work") -> dict:
    api.post("/api/v1/branches/", {"name": name}, format="json")
    return commit_on(api, name, entity, description)


def conflicting_proposal(api, reviewer) -> int:
    """Both from main: main took one description of Type0 (through a proposal), dev
    another."""
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    branch_with_commit(api, "other", description="main's")
    first = api.post("/api/v1/proposals/", {"source": "other", "title": "O"}, format="json")
    reviewer.post(f"/api/v1/proposals/{first.json()['id']}/approve/")
    assert reviewer.post(f"/api/v1/proposals/{first.json()['id']}/merge/").status_code == 200
    commit_on(api, "dev", description="dev's")
    created = api.post("/api/v1/proposals/", {"source": "dev", "title": "D"}, format="json")
    return created.json()["id"]


def test_409_stale_head_on_commit_and_revert(api):
    made = branch_with_commit(api)
    edit(Branch.objects.get(name="dev"), "Type1", description="more")
    stale = {"message": "late", "expectedHead": "a" * 64}
    body = error(api.post("/api/v1/branches/dev/commits/", stale, format="json"), 409, "stale_head")
    assert body["actualHead"] == made["id"] and body["expectedHead"] == "a" * 64
    assert "expectedHead" in body["fields"]
    api.post("/api/v1/branches/dev/commits/", {"message": "more"}, format="json")
    revert = {"commit": made["id"], "expectedHead": made["id"]}  # the head moved since
    body = error(api.post("/api/v1/branches/dev/revert/", revert, format="json"), 409, "stale_head")
    assert body["actualHead"] == Branch.objects.get(name="dev").head_id


def test_409_unresolved_conflicts_on_merge_update_and_revert(api, reviewer):
    pk = conflicting_proposal(api, reviewer)
    reviewer.post(f"/api/v1/proposals/{pk}/approve/")
    body = error(reviewer.post(f"/api/v1/proposals/{pk}/merge/"), 409, "unresolved_conflicts")
    (conflict,) = body["conflicts"]
    assert conflict["severity"] == "ERROR" and conflict["path"] == ["description"]
    body = error(
        api.post(f"/api/v1/proposals/{pk}/update-from-target/"), 409, "unresolved_conflicts"
    )
    assert [c["id"] for c in body["conflicts"]] == [conflict["id"]]

    first = services.history("dev", limit=1)[0]
    edit(Branch.objects.get(name="dev"), "Type0", description="dev's again")
    api.post("/api/v1/branches/dev/commits/", {"message": "again"}, format="json")
    revert = api.post("/api/v1/branches/dev/revert/", {"commit": first.id}, format="json")
    body = error(revert, 409, "unresolved_conflicts")
    assert body["conflicts"][0]["rid"] == rid_of(Branch.objects.get(name="dev"), "Type0")


def test_403_protected_branch_for_every_write_to_main(api):
    made = branch_with_commit(api)
    main = Branch.objects.get(name="main")
    edit(main, "Type0", description="hotfix")
    error(
        api.post("/api/v1/branches/main/commits/", {"message": "x"}, format="json"),
        403,
        "protected_branch",
    )
    error(
        api.post("/api/v1/branches/main/revert/", {"commit": made["id"]}, format="json"),
        403,
        "protected_branch",
    )
    error(api.delete("/api/v1/branches/main/"), 403, "protected_branch")
    error(
        api.post("/api/v1/branches/main/changes/discard/", {}, format="json"),
        403,
        "protected_branch",
    )
    assert Branch.objects.get(name="main").head_id == main.head_id


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("get", "/api/v1/diff/?from=nope&to=main", None, "ref"),
        ("get", "/api/v1/diff/?from=main&to=nope", None, "ref"),
        ("get", "/api/v1/branches/nope/commits/", None, "branch"),
        ("post", "/api/v1/branches/nope/commits/", {"message": "m"}, "branch"),
        ("get", "/api/v1/branches/nope/changes/", None, "branch"),
        ("get", "/api/v1/branches/nope/", None, "branch"),
        ("delete", "/api/v1/branches/nope/", None, "branch"),
        (
            "get",
            f"/api/v1/branches/nope/entities/{'1' * 8}-1111-4111-8111-{'1' * 12}/history/",
            None,
            "branch",
        ),
        ("get", "/api/v1/refs/nope/documents/", None, "ref"),
        ("get", f"/api/v1/refs/nope/documents/{'1' * 8}-1111-4111-8111-{'1' * 12}/", None, "ref"),
        ("get", "/api/v1/commits/0123456789abcdef/", None, "ref"),
        ("post", "/api/v1/branches/", {"name": "x", "from": "nope"}, "ref"),
        ("post", "/api/v1/branches/dev/revert/", {"commit": "0123456789abcdef"}, "ref"),
        ("post", "/api/v1/proposals/", {"source": "nope", "title": "t"}, "branch"),
        ("get", "/api/v1/proposals/424242/dry-run/", None, "proposal"),
        ("post", "/api/v1/proposals/424242/merge/", None, "proposal"),
    ],
)
def test_404_unknown_ref(api, method, url, body, field):
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    response = getattr(api, method)(url, body, format="json") if body else getattr(api, method)(url)
    error(response, 404, "unknown_ref", field)
