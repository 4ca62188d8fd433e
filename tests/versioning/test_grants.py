"""``versioning.grants.holds``: the one-query answer to "may this user ..." is the answer of
Django's ``ModelBackend`` and django-guardian's ``ObjectPermissionBackend`` together, for
any mix of model permissions and per-branch grants, given to the user or to their groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from versioning.grants import holds
from versioning.models import Branch

pytestmark = pytest.mark.django_db

PERMS = [
    "versioning.edit_branch",
    "versioning.merge_branch",
    "versioning.release_branch",
    "versioning.add_commit",
    "ontology.change_objecttype",
]
BRANCH_PERMS = PERMS[:3]  # the branch model's own: guardian grants these on one branch
SOME_PERMS = st.sets(st.sampled_from(PERMS), max_size=3)
GRANTS = st.sets(st.tuples(st.sampled_from(BRANCH_PERMS), st.sampled_from("ab")), max_size=3)
HOLDERS = st.fixed_dictionaries(
    {
        # mostly an active, plain user: the case where the sources of a permission matter
        "active": st.integers(0, 9).map(lambda n: n > 0),
        "superuser": st.integers(0, 9).map(lambda n: n == 0),
        "groups": st.sets(st.sampled_from(["g1", "g2"])),
        "perms": SOME_PERMS,
        "grants": GRANTS,
        "group_perms": st.fixed_dictionaries({"g1": SOME_PERMS, "g2": SOME_PERMS}),
        "group_grants": st.fixed_dictionaries({"g1": GRANTS, "g2": GRANTS}),
    }
)


def _perm(full: str) -> Permission:
    app_label, codename = full.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _django_answer(user, perm: str, branch: Branch | None) -> bool:
    """What Django and guardian say (guardian only asked about a branch's own perms)."""
    if user.has_perm(perm):
        return True
    return branch is not None and perm in BRANCH_PERMS and user.has_perm(perm, branch)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(HOLDERS)
@example(  # a group's grant on one branch reaches its member there, not on the other
    {
        "active": True,
        "superuser": False,
        "groups": {"g1"},
        "perms": set(),
        "grants": set(),
        "group_perms": {"g1": set(), "g2": {"versioning.merge_branch"}},
        "group_grants": {"g1": {("versioning.edit_branch", "a")}, "g2": set()},
    }
)
def test_holds_is_what_django_and_guardian_say(case):
    with transaction.atomic():
        branches = {n: Branch.objects.create(name=f"grants-{n}") for n in "ab"}
        groups = {n: Group.objects.create(name=f"grants-{n}") for n in ("g1", "g2")}
        user = UserFactory(username="grantee")
        user.is_active, user.is_superuser = case["active"], case["superuser"]
        user.save()
        user.groups.add(*(groups[g] for g in case["groups"]))
        user.user_permissions.add(*(_perm(p) for p in case["perms"]))
        for perm, b in case["grants"]:
            assign_perm(perm, user, branches[b])
        for g, perms in case["group_perms"].items():
            groups[g].permissions.add(*(_perm(p) for p in perms))
        for g, grants in case["group_grants"].items():
            for perm, b in grants:
                assign_perm(perm, groups[g], branches[b])
        for perm in PERMS:
            for branch in (None, branches["a"], branches["b"]):
                ours = holds(type(user).objects.get(pk=user.pk), perm, branch)
                theirs = _django_answer(type(user).objects.get(pk=user.pk), perm, branch)
                assert ours == theirs, (perm, branch and branch.name, case)
        transaction.set_rollback(True)


def test_one_query_answers_the_model_permission_and_the_branch_grant():
    branch = Branch.objects.create(name="grants-one")
    user = UserFactory(username="one", permissions=["ontology.change_objecttype"])
    assign_perm("versioning.edit_branch", user, branch)
    with CaptureQueriesContext(connection) as queries:
        assert holds(user, "versioning.edit_branch", branch)
        assert holds(user, "ontology.change_objecttype")
        assert holds(user, "versioning.edit_branch", branch)
        assert not holds(user, "versioning.merge_branch")  # model-wide: remembered
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]


def test_a_grant_given_after_a_refusal_in_the_same_request_counts():
    """A branch's grants are read again before a refusal, as guardian did: creating a
    branch grants its creator ``edit_branch``, and the same request then writes to it."""
    branch = Branch.objects.create(name="grants-later")
    user = UserFactory(username="later")
    assert not holds(user, "versioning.edit_branch", branch)
    assign_perm("versioning.edit_branch", user, branch)
    assert holds(user, "versioning.edit_branch", branch)
