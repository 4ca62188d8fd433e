"""Per-branch grants: writing ontology rows on a branch needs the ontology model permission
and the right to edit that branch (``versioning.edit_branch`` model-wide, or granted on
the branch with guardian). The API, the admin and the services ask the same question."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from ontology import services as ontology
from ontology.exceptions import NotAllowedError
from ontology.models import ObjectType, ValueType
from tests.factories import BranchFactory, ObjectTypeFactory, UserFactory, ValueTypeFactory
from tests.ontology.conftest import url
from versioning import permissions, services
from versioning.exceptions import ProtectedBranchError as VersioningProtectedBranchError
from versioning.models import Branch

pytestmark = pytest.mark.django_db

EDIT = "versioning.edit_branch"
VALUE_TYPE = {"apiName": "Code", "displayName": "Code", "baseType": "string"}


def ontology_user(name: str, *extra: str, staff: bool = False):
    """Every ontology model permission (as the editor role), and ``extra``."""
    user = UserFactory(username=name, permissions=list(extra))
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ontology"))
    if staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def b():
    return BranchFactory(name="b")


@pytest.fixture
def c():
    return BranchFactory(name="c")


# --- API -------------------------------------------------------------------------------------


def test_a_grant_on_b_lets_the_user_edit_b_and_not_c(b, c):
    user = ontology_user("granted")
    assign_perm(EDIT, user, b)
    api = client_for(user)
    for branch in (b, c):
        ValueTypeFactory(branch=branch, api_name="Existing")

    assert api.post(url("b", "value-types"), VALUE_TYPE, format="json").status_code == 201
    assert (
        api.patch(
            url("b", "value-types", "Existing"), {"description": "x"}, format="json"
        ).status_code
        == 200
    )
    assert api.delete(url("b", "value-types", "Code")).status_code == 204

    for response in (
        api.post(url("c", "value-types"), VALUE_TYPE, format="json"),
        api.patch(url("c", "value-types", "Existing"), {"description": "x"}, format="json"),
        api.delete(url("c", "value-types", "Existing")),
    ):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert error["permission"] == EDIT
        assert "'versioning.edit_branch'" in error["message"] and "'c'" in error["message"]
    assert not ValueType.objects.filter(branch=c, api_name="Code").exists()
    assert ValueType.objects.get(branch=c, api_name="Existing").description == ""
    # reading needs no grant
    assert api.get(url("c", "value-types")).status_code == 200


def test_without_the_model_permission_the_grant_is_not_enough(b):
    user = UserFactory(username="grant-only", permissions=["ontology.change_valuetype"])
    assign_perm(EDIT, user, b)
    response = client_for(user).post(url("b", "value-types"), VALUE_TYPE, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["permission"] == "ontology.add_valuetype"


def test_the_model_wide_permission_edits_every_branch_but_not_a_protected_one(b, c):
    api = client_for(ontology_user("steward", EDIT))
    for name in ("b", "c"):
        assert api.post(url(name, "value-types"), VALUE_TYPE, format="json").status_code == 201
    response = api.post(url("main", "value-types"), VALUE_TYPE, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "protected_branch"


def test_a_group_grant_counts(b):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="flight-team")
    assign_perm(EDIT, team, b)
    user = ontology_user("member")
    user.groups.add(team)
    api = client_for(user)
    assert api.post(url("b", "value-types"), VALUE_TYPE, format="json").status_code == 201
    assert api.post(url("main", "value-types"), VALUE_TYPE, format="json").status_code == 403


def test_the_creator_of_a_branch_gets_the_grant_and_may_edit_it():
    BranchFactory(name="main")
    user = ontology_user("creator", "versioning.add_branch")
    api = client_for(user)
    created = api.post("/api/v1/branches/", {"name": "mine", "from": "main"}, format="json")
    assert created.status_code == 201, created.content
    mine = Branch.objects.get(name="mine")
    assert user.has_perm(EDIT, mine) and not user.has_perm(EDIT)
    assert api.post(url("mine", "value-types"), VALUE_TYPE, format="json").status_code == 201
    # someone else's branch stays closed to them
    creator = UserFactory(username="other", permissions=["versioning.add_branch"])
    other = services.create_branch("theirs", "main", creator)
    assert api.post(url(other.name, "value-types"), VALUE_TYPE, format="json").status_code == 403


def test_deleting_a_branch_deletes_its_grants():
    from guardian.models import UserObjectPermission

    BranchFactory(name="main")
    user = UserFactory(
        username="creator", permissions=["versioning.add_branch", "versioning.delete_branch"]
    )
    branch = services.create_branch("short-lived", "main", user)
    assert UserObjectPermission.objects.filter(object_pk=str(branch.pk)).exists()
    services.delete_branch(branch, user)
    assert not UserObjectPermission.objects.filter(object_pk=str(branch.pk)).exists()


def test_commit_needs_add_commit_and_the_right_to_edit(b, c):
    user = ontology_user("committer", "versioning.add_commit")
    assign_perm(EDIT, user, b)
    for branch in (b, c):
        ontology.save(
            ValueType(branch=branch, api_name="Code", display_name="C", base_type="string")
        )
    api = client_for(user)
    assert (
        api.post("/api/v1/branches/b/commits/", {"message": "m"}, format="json").status_code == 201
    )
    refused = api.post("/api/v1/branches/c/commits/", {"message": "m"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["permission"] == EDIT
    # the grant alone does not commit
    grant_only = ontology_user("grant-only")
    assign_perm(EDIT, grant_only, c)
    refused = client_for(grant_only).post(
        "/api/v1/branches/c/commits/", {"message": "m"}, format="json"
    )
    assert refused.status_code == 403 and "add_commit" in refused.json()["error"]["message"]


# --- services ------------------------------------------------------------------------------


def test_the_services_refuse_an_acting_user_without_the_grant(b, c):
    user = ontology_user("service-user")
    assign_perm(EDIT, user, b)
    ontology.save(
        ValueType(branch=b, api_name="Ok", display_name="Ok", base_type="string"), user=user
    )
    with pytest.raises(NotAllowedError) as refused:
        ontology.save(
            ValueType(branch=c, api_name="No", display_name="No", base_type="string"), user=user
        )
    assert refused.value.permission == EDIT
    row = ObjectTypeFactory(branch=c)
    with pytest.raises(NotAllowedError):
        ontology.delete(row, user=user)
    with pytest.raises(NotAllowedError):
        ontology.save_object_type(c, {"api_name": "Nope", "display_name": "N"}, user=user)
    assert ObjectType.objects.filter(pk=row.pk).exists()
    # no acting user: an internal write (loaders, fixtures)
    ontology.save(ValueType(branch=c, api_name="Internal", display_name="I", base_type="string"))


# --- admin -----------------------------------------------------------------------------------


def admin_user(name: str, *extra: str):
    user = ontology_user(name, "versioning.view_branch", *extra, staff=True)
    return user


def select(client, branch: Branch):
    return client.post(reverse("oms-select-branch"), {"branch": branch.name, "next": "/admin/"})


def change_url(row) -> str:
    return reverse(f"admin:ontology_{row._meta.model_name}_change", args=[row.pk])


def test_admin_edits_only_granted_branches(client, b, c):
    user = admin_user("granted")
    assign_perm(EDIT, user, b)
    client.force_login(user)
    rows = {branch.name: ValueTypeFactory(branch=branch, api_name="Code") for branch in (b, c)}

    select(client, b)
    page = client.get(change_url(rows["b"]))
    assert page.status_code == 200 and 'name="_save"' in page.content.decode()
    assert client.get(reverse("admin:ontology_valuetype_add")).status_code == 200
    data = {
        "api_name": "Code",
        "display_name": "Renamed",
        "base_type": "string",
        "status": "ACTIVE",
        "constraints": "{}",
        "_save": "Save",
    }
    saved = client.post(change_url(rows["b"]), data)
    assert saved.status_code == 302, saved.content
    assert ValueType.objects.get(pk=rows["b"].pk).display_name == "Renamed"

    select(client, c)
    page = client.get(change_url(rows["c"]))
    text = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in text  # read-only, like main
    assert "You may not edit branch" in text and "versioning.edit_branch" in text
    assert client.post(change_url(rows["c"]), data).status_code == 403
    assert client.get(reverse("admin:ontology_valuetype_add")).status_code == 403
    assert ValueType.objects.get(pk=rows["c"].pk).display_name != "Renamed"


def test_admin_branch_selector_marks_branches_the_user_may_not_edit(client, b, c):
    user = admin_user("selector")
    assign_perm(EDIT, user, b)
    client.force_login(user)
    select(client, b)
    text = client.get(reverse("admin:index")).content.decode()
    assert "c (read-only)</option>" in text
    assert "b (read-only)" not in text
    assert 'oms-branch-state rw">editing' in text
    select(client, c)
    text = client.get(reverse("admin:index")).content.decode()
    assert 'oms-branch-state ro">read-only' in text


def test_admin_branch_creator_gets_the_grant(client):
    BranchFactory(name="main")
    user = admin_user("creator", "versioning.add_branch")
    client.force_login(user)
    response = client.post(
        reverse("admin:versioning_branch_add"),
        {"name": "from-admin", "create_from": "main", "description": ""},
    )
    assert response.status_code == 302, response.content
    branch = Branch.objects.get(name="from-admin")
    assert user.has_perm(EDIT, branch)
    select(client, branch)
    assert client.get(reverse("admin:ontology_valuetype_add")).status_code == 200


def test_admin_lists_and_manages_grants(admin_client, b):
    user = UserFactory(username="someone")
    assign_perm(EDIT, user, b)
    page = admin_client.get(reverse("admin:versioning_branch_change", args=[b.pk]))
    text = page.content.decode()
    assert "user <strong>someone</strong>: edit" in text
    assert reverse("admin:versioning_branch_permissions", args=[b.pk]) in text
    manage = admin_client.get(reverse("admin:versioning_branch_permissions", args=[b.pk]))
    assert manage.status_code == 200 and "someone" in manage.content.decode()
    # grant merge through guardian's page
    granted = admin_client.post(
        reverse("admin:versioning_branch_permissions_manage_user", args=[b.pk, user.pk]),
        {"permissions": ["edit_branch", "merge_branch"]},
    )
    assert granted.status_code == 302
    assert permissions.has_branch_perm(user, "merge_branch", b)
    text = admin_client.get(reverse("admin:versioning_branch_change", args=[b.pk])).content
    assert "edit and merge into" in text.decode()


def test_the_migration_grants_the_creators_of_existing_branches():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("ontology.migrations.0002_grant_branch_creators")
    maker = UserFactory(username="maker")
    old = BranchFactory(name="old", created_by=maker)  # made before create_branch granted
    assert not maker.has_perm(EDIT, old)
    migration.grant_creators(apps, None)
    migration.grant_creators(apps, None)  # idempotent
    maker = type(maker).objects.get(pk=maker.pk)
    assert maker.has_perm(EDIT, old)
    assert not maker.has_perm(EDIT, Branch.objects.get(name="main"))


def test_role_groups_editors_work_on_their_own_branches_stewards_on_all():
    from django.contrib.auth.models import Group

    from ontology.management.commands.ensure_admin import role_permissions

    BranchFactory(name="main")
    groups = {}
    for name, perms in role_permissions().items():
        groups[name], _ = Group.objects.get_or_create(name=name)  # the migration made them
        groups[name].permissions.set(Permission.objects.filter(perms))

    def member(name: str, role: str) -> APIClient:
        user = UserFactory(username=name)
        user.groups.add(groups[role])
        return client_for(user)

    alice, bob, steward = (
        member("alice", "editor"),
        member("bob", "editor"),
        member("st", "steward"),
    )
    assert (
        alice.post("/api/v1/branches/", {"name": "a", "from": "main"}, format="json").status_code
        == 201
    )
    assert alice.post(url("a", "value-types"), VALUE_TYPE, format="json").status_code == 201
    commit = alice.post("/api/v1/branches/a/commits/", {"message": "code"}, format="json")
    assert commit.status_code == 201, commit.content
    proposal = alice.post("/api/v1/proposals/", {"source": "a", "title": "t"}, format="json")
    assert proposal.status_code == 201, proposal.content
    # another editor may read but not write alice's branch; a steward may
    assert bob.get(url("a", "value-types")).status_code == 200
    assert bob.patch(url("a", "value-types", "Code"), {}, format="json").status_code == 403
    assert steward.patch(url("a", "value-types", "Code"), {}, format="json").status_code == 200
    # nobody edits main directly
    assert steward.post(url("main", "value-types"), VALUE_TYPE, format="json").status_code == 403


def test_admin_model_wide_permission_edits_every_branch(client, b, c):
    client.force_login(admin_user("steward", EDIT))
    for branch in (b, c):
        select(client, branch)
        row = ValueTypeFactory(branch=branch, api_name="Code")
        assert 'name="_save"' in client.get(change_url(row)).content.decode()
        assert client.get(reverse("admin:ontology_valuetype_add")).status_code == 200


def test_an_archived_branch_refuses_an_edit_and_a_commit_with_the_same_error(b):
    """One rule says whether a branch may change, and one error says it did not: an edit of
    the ontology's rows and a versioning write are refused alike, through the API (the same
    403 body) and to a caller of the services (one class, whichever layer raised it)."""
    user = ontology_user("archiver", EDIT, "versioning.add_commit")
    b.archived = True
    b.save(update_fields=["archived"])
    api = client_for(user)
    edited = api.post(url("b", "value-types"), VALUE_TYPE, format="json")
    committed = api.post("/api/v1/branches/b/commits/", {"message": "x"}, format="json")
    assert edited.status_code == committed.status_code == 403
    assert (
        edited.json()["error"]["code"] == committed.json()["error"]["code"] == ("protected_branch")
    )
    assert edited.json()["error"]["message"] == committed.json()["error"]["message"]
    assert "archived" in edited.json()["error"]["message"]
    with pytest.raises(VersioningProtectedBranchError):
        ontology.save(
            ValueType(branch=b, api_name="Late", display_name="L", base_type="string"), user=user
        )
    with pytest.raises(VersioningProtectedBranchError):
        services.commit_changes(b, user, "late")
    assert not ValueType.objects.filter(branch=b, api_name__in=["Code", "Late"]).exists()


def test_a_patch_by_a_grantee_reads_the_grant_once_and_no_more_than_it_needs(b):
    """The view and then the service ask for the grant: it is read once per request. The
    write reads neither the branch again (to validate the row's reference to it) nor the
    properties it does not change; and the count does not grow with the properties."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = ontology_user("patcher")
    assign_perm(EDIT, user, b)
    few, many = (
        ObjectTypeFactory(branch=b, properties=2),
        ObjectTypeFactory(branch=b, properties=20),
    )
    counts = []
    for ot in (few, many):
        api = client_for(type(user).objects.get(pk=user.pk))  # each request its own user
        with CaptureQueriesContext(connection) as ctx:
            response = api.patch(
                url("b", "object-types", ot.api_name), {"description": "new"}, format="json"
            )
        assert response.status_code == 200, response.content
        sql = [q["sql"] for q in ctx.captured_queries]
        assert sum("guardian_userobjectpermission" in q for q in sql) == 1
        assert not [q for q in sql if q.startswith('SELECT 1 AS "a" FROM "versioning_branch"')]
        counts.append(len(sql))
    # the bound: the grant, the row lock and write (about a dozen), plus the rule set's
    # neighbourhood, one query per kind that may reference or be referenced (about 15)
    assert counts[0] == counts[1] <= 32, counts
    assert ObjectType.objects.get(pk=many.pk).description == "new"
