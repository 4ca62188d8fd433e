"""A branch's settings (description, archived, protected) change only through
``services.update_branch``: its rules (main is never archived nor unprotected, the name
never changes, ``change_branch`` on the branch, model-wide for ``protected``) hold for the
service called directly, the admin's change form and ``PATCH /api/v1/branches/{b}/``, and
every change publishes one ``branch.updated.v1`` event."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from events.models import OutboxEvent
from events.registry import validate
from ontology.management.commands.ensure_admin import role_permissions
from tests.factories import UserFactory
from tests.versioning.support import seed_main
from versioning import permissions as p
from versioning import services
from versioning.admin.releases import releasable_branches
from versioning.exceptions import NotAllowedError, ProtectedBranchError, VersioningError
from versioning.models import Branch

pytestmark = pytest.mark.django_db

UPDATED = "com.oms.versioning.branch.updated.v1"


def user(name: str, *perms: str, on: Branch | None = None, role: str | None = None):
    """A staff user with model-wide ``perms``, ``change_branch`` granted ``on`` a branch,
    or the permissions of a role group as ``ensure_admin`` makes it."""
    made = UserFactory(username=name, permissions=list(perms))
    made.is_staff = True
    made.save(update_fields=["is_staff"])
    if role:
        made.user_permissions.add(*Permission.objects.filter(role_permissions()[role]))
    if on is not None:
        assign_perm(p.CHANGE_BRANCH, made, on)
    return type(made).objects.get(pk=made.pk)  # a fresh permission cache


def state() -> dict[str, Any]:
    """What a branch update could change: every branch's settings and the outbox."""
    return {
        "branches": sorted(
            Branch.objects.values_list("name", "description", "archived", "protected", "updated_at")
        ),
        "events": sorted(OutboxEvent.objects.values_list("pk", flat=True)),
    }


def updates() -> list[dict[str, Any]]:
    return [e.data for e in OutboxEvent.objects.filter(type=UPDATED).order_by("created_at")]


@pytest.fixture
def main() -> Branch:
    return seed_main(2)


@pytest.fixture
def dev(main) -> Branch:
    return services.create_branch("dev", "main", None, description="work")


@pytest.fixture
def steward():
    return user("steward", role="steward")


# --- the service -----------------------------------------------------------------------------


def test_update_branch_writes_the_changes_and_publishes_one_event(dev, steward):
    returned = services.update_branch(
        dev, steward, description="ready", archived=True, protected=True
    )
    stored = Branch.objects.get(name="dev")
    assert (stored.description, stored.archived, stored.protected) == ("ready", True, True)
    assert (dev.description, dev.archived, dev.protected) == ("ready", True, True)
    assert returned.pk == dev.pk
    (data,) = updates()
    assert data == {
        "branch": "dev",
        "head": dev.head_id,
        "actor": "steward",
        "changes": {
            "description": {"old": "work", "new": "ready"},
            "archived": {"old": False, "new": True},
            "protected": {"old": False, "new": True},
        },
    }
    assert validate(UPDATED, data) == []
    event = OutboxEvent.objects.get(type=UPDATED)
    assert (event.subject, event.branch) == ("branches/dev", "dev")


def test_settings_given_as_they_are_write_nothing(dev, steward):
    before = state()
    services.update_branch(dev, steward, description="work", archived=False, protected=False)
    assert state() == before


def test_archive_branch_is_the_archived_setting(dev, steward):
    services.archive_branch(dev, steward)
    services.archive_branch(dev, steward, archived=False)
    assert [d["changes"] for d in updates()] == [
        {"archived": {"old": False, "new": True}},
        {"archived": {"old": True, "new": False}},
    ]


@pytest.mark.parametrize(
    ("changes", "field"), [({"archived": True}, "archived"), ({"protected": False}, "protected")]
)
def test_main_is_never_archived_nor_unprotected(main, steward, changes, field):
    for who in (steward, None):
        before = state()
        with pytest.raises(ProtectedBranchError) as caught:
            services.update_branch(main, who, **changes)
        assert caught.value.http_status == 403 and caught.value.field == field
        assert "main" in str(caught.value)
        assert state() == before
    # unarchiving or protecting main is nothing to refuse
    services.update_branch(main, steward, archived=False, protected=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "renamed"}, "name"),
        ({"head": None}, "head"),
        ({"archived": "yes"}, "archived"),
        ({"protected": 1}, "protected"),
        ({"description": None}, "description"),
    ],
)
def test_names_and_values_that_are_not_settings_are_refused(dev, steward, changes, field):
    before = state()
    with pytest.raises(VersioningError) as caught:
        services.update_branch(dev, steward, **changes)
    assert caught.value.http_status == 400 and caught.value.field == field
    assert state() == before


def test_who_may_change_which_setting(main, dev):
    nobody = user("nobody")
    grantee = user("grantee", on=dev)  # change_branch granted on dev only
    keeper = user("keeper", p.CHANGE_BRANCH)
    for field, value in (("description", "x"), ("archived", True), ("protected", True)):
        before = state()
        with pytest.raises(NotAllowedError) as caught:
            services.update_branch(dev, nobody, **{field: value})
        assert caught.value.permission == p.CHANGE_BRANCH
        assert state() == before
    services.update_branch(dev, grantee, description="grantee's", archived=True)
    before = state()
    with pytest.raises(NotAllowedError) as caught:
        services.update_branch(dev, grantee, protected=True)
    assert caught.value.permission == p.CHANGE_BRANCH and "not enough" in str(caught.value)
    assert state() == before
    with pytest.raises(NotAllowedError):  # the grant is on dev, not on other branches
        services.update_branch(main, grantee, description="x")
    services.update_branch(dev, keeper, protected=True)
    services.update_branch(dev, None, protected=False)  # an internal write: no user
    assert [d["actor"] for d in updates()] == ["grantee", "keeper", None]


def test_stewards_hold_the_permission_and_editors_do_not(dev):
    assert p.protect_branch_refusal(user("steward", role="steward"), dev) is None
    assert p.protect_branch_refusal(user("editor", role="editor"), dev) is not None
    assert p.describe_branch_refusal(user("editor2", role="editor"), dev) is not None


# --- the admin's change form ---------------------------------------------------------------


def change_url(branch: Branch) -> str:
    return reverse("admin:versioning_branch_change", args=[branch.pk])


def post(client, branch: Branch, **values):
    """Post the change form as shown, with ``values`` changed (False: unticked)."""
    fields = {"description": branch.description, "archived": branch.archived}
    fields["protected"] = branch.protected
    fields.update(values)
    data = {k: ("on" if v is True else v) for k, v in fields.items() if v is not False}
    return client.post(change_url(branch), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_archiving_main_is_refused_on_the_form(client, main, steward):
    client.force_login(steward)
    before = state()
    response = post(client, main, archived=True)
    assert response.status_code == 200  # the form again, with the refusal on its field
    assert response.context["adminform"].form.errors["archived"] == [
        "The main branch cannot be archived."
    ]
    assert "The main branch cannot be archived." in response.content.decode()
    assert state() == before


def test_admin_unprotecting_main_is_refused_on_the_form(client, main, steward):
    client.force_login(steward)
    before = state()
    response = post(client, main, protected=False)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "stays protected" in errors["protected"][0]
    assert state() == before


def test_admin_archiving_a_working_branch_goes_through_the_service(client, dev, steward):
    client.force_login(steward)
    response = post(client, dev, archived=True, description="done")
    assert response.status_code == 302
    stored = Branch.objects.get(name="dev")
    assert stored.archived and stored.description == "done"
    (data,) = updates()
    assert data["actor"] == "steward"
    assert data["changes"] == {
        "description": {"old": "work", "new": "done"},
        "archived": {"old": False, "new": True},
    }
    # saving the form unchanged writes nothing and publishes nothing
    before = state()
    assert post(client, stored).status_code == 302
    assert state() == before


def test_admin_name_is_read_only(client, dev, steward):
    client.force_login(steward)
    page = client.get(change_url(dev))
    assert "name" not in page.context["adminform"].form.fields
    assert services.NAME_IS_FIXED in page.content.decode()
    assert post(client, dev, name="renamed", description="x").status_code == 302
    assert Branch.objects.filter(name="dev", description="x").exists()
    assert not Branch.objects.filter(name="renamed").exists()


def test_admin_add_form_still_creates_branches(client, main, steward):
    client.force_login(steward)
    response = client.post(
        reverse("admin:versioning_branch_add"),
        {"name": "feature/x", "create_from": "main", "description": "new"},
    )
    assert response.status_code == 302
    made = Branch.objects.get(name="feature/x")
    assert made.head_id == main.head_id and made.description == "new"


def test_admin_protected_needs_change_branch_on_every_branch(client, dev):
    grantee = user("grantee", "versioning.view_branch", on=dev)
    client.force_login(grantee)
    page = client.get(change_url(dev))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "protected" not in form.fields and "archived" in form.fields
    # grants are managed with change_branch model-wide: no link for a grantee
    assert reverse("admin:versioning_branch_permissions", args=[dev.pk]) not in (
        page.content.decode()
    )
    assert post(client, dev, protected=True, description="grantee's").status_code == 302
    stored = Branch.objects.get(name="dev")
    assert not stored.protected and stored.description == "grantee's"
    assert list(updates()[0]["changes"]) == ["description"]
    # without change_branch at all: the form may be seen, not posted
    reader = user("reader", "versioning.view_branch")
    client.force_login(reader)
    before = state()
    assert client.get(change_url(dev)).status_code == 200
    assert post(client, dev, protected=True).status_code == 403
    assert state() == before


def test_admin_steward_protects_a_branch(client, dev, steward):
    client.force_login(steward)
    page = client.get(change_url(dev))
    assert "protected" in page.context["adminform"].form.fields
    assert reverse("admin:versioning_branch_permissions", args=[dev.pk]) in page.content.decode()
    assert post(client, dev, protected=True).status_code == 302
    assert Branch.objects.get(name="dev").protected
    assert updates()[0]["changes"] == {"protected": {"old": False, "new": True}}


def test_admin_refusal_at_save_is_a_message_not_an_error(client, dev, steward, monkeypatch):
    """The form was valid, then the service refused under the lock (a race)."""
    client.force_login(steward)

    def refuse(*args, **kwargs):
        raise ProtectedBranchError("Branch 'dev' changed meanwhile.")

    monkeypatch.setattr(services, "update_branch", refuse)
    before = state()
    response = post(client, dev, archived=True)
    assert response.status_code == 302 and response.url == change_url(dev)
    assert messages_of(response) == ["Branch 'dev' changed meanwhile."]
    assert state() == before


# --- the REST API ----------------------------------------------------------------------------


def api(who) -> APIClient:
    client = APIClient()
    if who is not None:
        client.force_authenticate(who)
    return client


def patch(who, name: str, body):
    return api(who).patch(f"/api/v1/branches/{name}/", body, format="json")


def test_api_patch_changes_settings_through_the_service(dev, steward):
    response = patch(steward, "dev", {"archived": True, "description": "done"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["archived"] is True and body["description"] == "done"
    assert body["name"] == "dev" and body["uncommittedChanges"] == 0
    assert Branch.objects.get(name="dev").archived
    assert updates()[0]["changes"]["archived"] == {"old": False, "new": True}
    # a branch name with '/'
    services.create_branch("feature/x", "main", None)
    assert patch(steward, "feature/x", {"protected": True}).json()["protected"] is True


@pytest.mark.parametrize(
    ("body", "field"), [({"protected": False}, "protected"), ({"archived": True}, "archived")]
)
def test_api_patch_refuses_main(main, steward, body, field):
    before = state()
    response = patch(steward, "main", body)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "protected_branch" and field in error["fields"]
    assert state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "renamed"}, "name"),
        ({"head": "0" * 64}, "head"),
        ({"archived": "maybe"}, "archived"),
        ({"description": 5 * "x" * 2001}, "description"),
    ],
)
def test_api_patch_bad_input_is_400_naming_the_field(dev, steward, body, field):
    before = state()
    response = patch(steward, "dev", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert state() == before


def test_api_patch_name_says_why(dev, steward):
    response = patch(steward, "dev", {"name": "renamed", "description": "x"})
    assert response.json()["error"]["fields"]["name"] == [services.NAME_IS_FIXED]


def test_api_patch_permissions(main, dev):
    before = state()
    assert patch(None, "dev", {"description": "x"}).status_code == 401
    denied = patch(user("nobody"), "dev", {"description": "x"})
    assert denied.status_code == 403
    assert denied.json()["error"]["permission"] == p.CHANGE_BRANCH
    grantee = user("grantee", on=dev)
    refused = patch(grantee, "dev", {"protected": True})
    assert refused.status_code == 403
    assert refused.json()["error"]["permission"] == p.CHANGE_BRANCH
    assert patch(grantee, "main", {"description": "x"}).status_code == 403
    assert state() == before
    assert patch(grantee, "dev", {"description": "grantee's"}).status_code == 200


def test_api_patch_unknown_branch_is_404(main, steward):
    response = patch(steward, "nope", {"description": "x"})
    assert response.status_code == 404
    assert "branch" in response.json()["error"]["fields"]


def test_patch_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/branches/{branch}/"]["patch"]
    assert operation["operationId"] == "branches_partial_update"
    assert {"200", "400", "403", "404"} <= set(operation["responses"])


# --- the "Cut a release" page asks the release rule ---------------------------------------------


def test_releasable_branches_ask_the_release_rule(main):
    lts = Branch.objects.create(name="lts", protected=True)
    Branch.objects.create(name="old", protected=True, archived=True)
    Branch.objects.create(name="work")
    assert releasable_branches(user("nobody")) == []
    assert releasable_branches(user("releaser", p.RELEASE_BRANCH)) == [lts, main]
    granted = user("granted")
    assign_perm(p.RELEASE_BRANCH, granted, lts)
    assert releasable_branches(type(granted).objects.get(pk=granted.pk)) == [lts]


def test_releasable_branches_follow_the_rule_not_a_copy_of_it(main, monkeypatch):
    """Whatever ``release_refusal`` says is what the page lists: the rule is not written a
    second time as a permission query."""
    lts = Branch.objects.create(name="lts", protected=True)
    monkeypatch.setattr(p, "release_refusal", lambda user, branch: None)
    assert releasable_branches(user("nobody")) == [lts, main]
    monkeypatch.setattr(
        p, "release_refusal", lambda user, branch: NotAllowedError("no", permission="x")
    )
    assert releasable_branches(user("releaser", p.RELEASE_BRANCH)) == []
