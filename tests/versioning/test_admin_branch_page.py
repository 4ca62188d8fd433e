"""A branch's change page in the admin edits its description, protection and archiving;
it never writes the head (a commit made meanwhile stays), never renames a branch, and
leaves main protected, unarchived and named main. The tests look only at what the page
leaves behind, so they hold whichever service the page calls."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.versioning.support import edit, seed_main
from versioning import services
from versioning.admin import branches as branch_admin
from versioning.exceptions import ProtectedBranchError
from versioning.models import Branch

from .test_admin_pages import login, staff_steward

pytestmark = pytest.mark.django_db


@pytest.fixture
def steward(client):
    user = staff_steward("steward")
    user.user_permissions.add(Permission.objects.get(codename="change_branch"))
    login(client, user)
    return user


def change(client, branch: Branch, **data):
    values = {
        "name": branch.name,
        "description": branch.description,
        "protected": "on" if branch.protected else "",
        "archived": "on" if branch.archived else "",
    }
    values.update(data)
    values = {k: v for k, v in values.items() if v != ""}
    return client.post(reverse("admin:versioning_branch_change", args=[branch.pk]), values)


def test_main_stays_protected_unarchived_and_named_main(client, steward):
    main = seed_main(2)
    assert change(client, main, description="The record").status_code == 302
    assert Branch.objects.get(pk=main.pk).description == "The record"
    change(client, main, name="trunk", protected="", archived="on")
    main = Branch.objects.get(pk=main.pk)
    assert (main.name, main.protected, main.archived) == ("main", True, False)


def test_a_branch_is_never_renamed_from_its_page(client, steward):
    seed_main(2)
    dev = services.create_branch("dev", "main", steward)
    change(client, dev, name="renamed", description="work")
    dev = Branch.objects.get(pk=dev.pk)
    assert (dev.name, dev.description) == ("dev", "work")


def test_archiving_from_the_page_freezes_the_branch(client, steward):
    seed_main(2)
    dev = services.create_branch("dev", "main", steward)
    edit(dev, "Type0", description="x")
    assert change(client, dev, archived="on").status_code == 302
    dev = Branch.objects.get(pk=dev.pk)
    assert dev.archived
    with pytest.raises(ProtectedBranchError):
        services.commit_changes(dev, None, "on an archived branch")
    change(client, dev, archived="")
    assert not Branch.objects.get(pk=dev.pk).archived


def test_saving_the_page_never_moves_the_head_back(client, steward, monkeypatch):
    """The page's branch was read before someone else committed: saving its description
    must not write the head it read."""
    seed_main(2)
    dev = services.create_branch("dev", "main", steward)
    stale = Branch.objects.get(pk=dev.pk)
    edit(dev, "Type0", description="committed meanwhile")
    newer = services.commit_changes(dev, None, "meanwhile")
    monkeypatch.setattr(branch_admin.BranchAdmin, "get_object", lambda *args, **kw: stale)
    response = change(client, stale, description="described")
    assert response.status_code == 302
    dev = Branch.objects.get(pk=dev.pk)
    assert dev.head_id == newer.id
    assert dev.description == "described"
