"""Versioning's writes refuse what they would not use: an unknown key in a body is a 400
naming it, before anything happens (a misspelt ``expectedHead`` would otherwise commit
without the check the client asked for). The schema says so too."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.versioning.support import edit, seed_main, steward
from tests.versioning.test_api_contract import error
from versioning import services
from versioning.models import Branch, Commit, Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    seed_main(2)
    services.create_branch("work", "main", None)
    client = APIClient()
    client.force_authenticate(steward("author"))
    return client


WRITES = [
    ("post", "/api/v1/branches/", {"name": "other", "from": "main"}),
    ("post", "/api/v1/branches/work/commits/", {"message": "m"}),
    ("post", "/api/v1/branches/work/changes/discard/", {}),
    ("post", "/api/v1/branches/work/revert/", {"commit": "HEAD"}),
    ("post", "/api/v1/proposals/", {"source": "work", "title": "t"}),
    ("post", "/api/v1/releases/", {"branch": "main"}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=lambda v: str(v)[:40])
def test_an_unknown_key_is_a_400_naming_it_and_changes_nothing(api, method, url, body):
    edit(Branch.objects.get(name="work"), "Type0", description="changed")
    counts = (Branch.objects.count(), Commit.objects.count(), Proposal.objects.count())
    response = getattr(api, method)(url, {**body, "expectedHaed": "x"}, format="json")
    found = error(response, 400, "invalid", "expectedHaed")
    assert "Unknown key" in found["fields"]["expectedHaed"][0]
    assert (Branch.objects.count(), Commit.objects.count(), Proposal.objects.count()) == counts


def test_the_schema_says_request_bodies_take_no_other_keys(client):
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    for name in ("BranchCreateRequest", "CommitCreateRequest", "ProposalCreateRequest"):
        assert components[name]["additionalProperties"] is False, name
    assert components["ObjectTypeRequest"]["additionalProperties"] is False
    assert "additionalProperties" not in components["ObjectType"]  # responses may grow
