"""Branch names follow a grammar like git's check-ref-format (versioning/names.py), the
same through the API, the admin form and the service (issue 9, item 5)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.versioning.support import seed_main, steward
from versioning import services
from versioning.admin.branches import BranchAddForm
from versioning.models import Branch
from versioning.names import branch_name_errors

REFUSED = [
    "a/../main",
    "a/..",
    "a//b",
    "a/./b",
    "x/",
    "refs/heads/main",
    "a/.hidden",
    "a..b",
    "feature.lock",
    "a/b.lock/c",
    "ends.",
    "HEAD",
    "tab\there",
    "a@{1}",
    "a/commits",
]
ACCEPTED = ["main2", "feature/x", "release/1.2.3", "a-b_c.d", "user/jo/fix-1", "v1.0"]


@pytest.mark.parametrize("name", REFUSED)
def test_the_grammar_refuses(name):
    assert branch_name_errors(name, frozenset({"commits"}))


@pytest.mark.parametrize("name", ACCEPTED)
def test_the_grammar_accepts(name):
    assert branch_name_errors(name) == []


@given(
    st.lists(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,8}", fullmatch=True), min_size=1, max_size=4
    )
)
def test_segments_of_plain_words_always_make_a_name(segments):
    name = "/".join(segments)
    assert branch_name_errors(name) == [] or name.startswith("refs/") or name == "HEAD"


@given(st.text(max_size=30))
def test_an_accepted_name_is_one_that_paths_do_not_normalise(name):
    if branch_name_errors(name):
        return
    segments = name.split("/")
    assert "" not in segments and "." not in segments and ".." not in segments


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["a/../main", "a/..", "a//b", "a/./b", "x/", "refs/heads/main"])
def test_api_admin_form_and_service_refuse_the_same_names(name):
    seed_main(1)
    client = APIClient()
    client.force_authenticate(steward("author"))
    response = client.post("/api/v1/branches/", {"name": name}, format="json")
    assert response.status_code == 400, response.content
    assert "name" in response.json()["error"]["fields"]
    form = BranchAddForm(data={"name": name, "create_from": "main"})
    assert not form.is_valid() and "name" in form.errors
    with pytest.raises(ValidationError) as caught:
        services.create_branch(name, "main", None)
    assert "name" in caught.value.message_dict
    assert not Branch.objects.filter(name=name).exists()


@pytest.mark.django_db
def test_a_good_name_with_slashes_is_created():
    seed_main(1)
    assert services.create_branch("team/a.b/fix-1", "main", None).name == "team/a.b/fix-1"
