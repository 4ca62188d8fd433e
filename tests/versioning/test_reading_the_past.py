"""Reading the past through the API: any entity or the whole ontology at a branch, a commit
id (or prefix) or a release; the history of a branch and of one entity says who changed
what, when and why. A branch from a branch is one set-based copy: its cost does not grow
with the ontology."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ontology.documents import to_documents
from tests.factories import BranchFactory, LinkTypeFactory, ObjectTypeFactory
from tests.versioning.support import edit, rid_of, seed_main, steward
from versioning import services
from versioning.models import Branch
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(steward("ann"))
    return client


def test_entity_history_says_who_changed_what_when_and_why(api):
    seed_main(2)
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    dev = Branch.objects.get(name="dev")
    rid = rid_of(dev, "Type0")
    edit(dev, "Type0", description="first words")
    first = api.post("/api/v1/branches/dev/commits/", {"message": "Describe"}, format="json")
    edit(dev, "Type1", description="elsewhere")  # not this entity: not in its history
    api.post("/api/v1/branches/dev/commits/", {"message": "Other"}, format="json")
    edit(dev, "Type0", api_name="Renamed")
    last = api.post("/api/v1/branches/dev/commits/", {"message": "Rename it"}, format="json")

    history = api.get(f"/api/v1/branches/dev/entities/{rid}/history/").json()
    assert [(h["change"], h["apiName"], h["oldApiName"]) for h in history] == [
        ("renamed", "Renamed", "Type0"),
        ("modified", "Type0", None),
        ("added", "Type0", None),
    ]
    newest, described = history[0], history[1]
    assert newest["commit"]["id"] == last.json()["id"]
    assert (newest["commit"]["author"], newest["commit"]["message"]) == ("ann", "Rename it")
    assert newest["commit"]["createdAt"] == last.json()["createdAt"]
    assert described["commit"]["id"] == first.json()["id"]
    assert described["commit"]["message"] == "Describe"
    # the hash names the entity's document after the commit: what it became
    at = api.get(f"/api/v1/refs/{first.json()['id']}/documents/{rid}/").json()
    assert at["document"]["description"] == "first words"
    assert described["hash"] == first.json()["delta"][rid]


def test_the_whole_ontology_and_one_entity_at_a_branch_a_commit_and_a_release(api):
    main = seed_main(2)
    rid = rid_of(main, "Type0")
    publish_release(main, None, version="1.0.0")
    released = api.get("/api/v1/refs/1.0.0/documents/").json()
    api.post("/api/v1/branches/", {"name": "dev"}, format="json")
    edit(Branch.objects.get(name="dev"), "Type0", description="later")
    made = api.post("/api/v1/branches/dev/commits/", {"message": "later"}, format="json").json()

    assert released["commit"] == main.head_id and len(released["documents"]) == 3
    for ref, description in (
        ("1.0.0", ""),
        ("main", ""),
        (main.head_id[:7], ""),
        ("dev", "later"),
        (made["id"], "later"),
        (made["id"][:10], "later"),
    ):
        one = api.get(f"/api/v1/refs/{ref}/documents/{rid}/")
        assert one.status_code == 200, (ref, one.content)
        assert one.json()["document"]["description"] == description, ref
    assert (
        api.get("/api/v1/refs/dev/documents/").json()["documents"][rid]
        == (services.documents_at(made["id"], [rid])[rid])
    )


def branch_of(name: str, object_types: int) -> Branch:
    branch = BranchFactory(name=name)
    made = [
        ObjectTypeFactory(branch=branch, api_name=f"Type{i}", properties=3)
        for i in range(object_types)
    ]
    LinkTypeFactory(branch=branch, api_name="typeLink", source=made[0], target=made[1])
    services.commit_changes(branch, None, "Initial ontology")
    return branch


def copy_queries(source: Branch) -> int:
    with CaptureQueriesContext(connection) as queries:
        copy = services.create_branch(f"{source.name}-copy", source.name, None)
    assert to_documents(copy.pk) == to_documents(source.pk)
    return len(queries)


def test_a_branch_from_a_branch_costs_the_same_whatever_the_size_of_the_ontology():
    assert copy_queries(branch_of("small", 2)) == copy_queries(branch_of("large", 40))
