"""Every versioning write service checks its permission itself: called directly (as a
Celery task, a management command or a new view would), it refuses a user its rule
refuses with ``NotAllowedError`` (403) naming the permission and writes nothing, lets
the permitted user act, and takes ``user=None`` as an internal (system) write.

The rules are those of ``versioning.permissions``; the REST API and the admin ask the same
ones (checked at the end through the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from events.models import OutboxEvent
from ontology.models import ObjectType
from tests.factories import UserFactory
from tests.versioning.support import edit, seed_main
from versioning import permissions as p
from versioning import services
from versioning.exceptions import NotAllowedError
from versioning.models import Approval, Branch, Commit, Proposal, Release, WorkingChange
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db

WHO = ["permitted", "system"]


# --- helpers -------------------------------------------------------------------------------


def user(name: str, *perms: str, on: dict[str, Branch] | None = None):
    """A user with model-wide ``perms`` and per-branch (guardian) grants ``on``."""
    made = UserFactory(username=name, permissions=list(perms))
    for perm, branch in (on or {}).items():
        assign_perm(perm, made, branch)
    return type(made).objects.get(pk=made.pk)  # a fresh permission cache


def snapshot() -> dict[str, Any]:
    """Everything a versioning write could change."""
    return {
        "branches": sorted(Branch.objects.values_list("name", "head_id", "archived")),
        "commits": Commit.objects.count(),
        "events": sorted(OutboxEvent.objects.values_list("pk", flat=True)),
        "proposals": list(
            Proposal.objects.order_by("pk").values_list(
                "pk", "status", "resolutions", "merge_commit_id"
            )
        ),
        "approvals": Approval.objects.count(),
        "releases": Release.objects.count(),
        "marks": sorted(WorkingChange.objects.values_list("branch_id", "rid", "changed_at")),
        "grants": UserObjectPermission.objects.count() + GroupObjectPermission.objects.count(),
        "rows": sorted(
            ObjectType.objects.values_list("branch_id", "api_name", "display_name", "description")
        ),
    }


def refused(act: Callable[[Any], Any], who, permission: str) -> NotAllowedError:
    """``act(who)`` is refused by the service with 403 naming ``permission``; nothing is
    written (no commit, no head moved, no event in the outbox, no row changed)."""
    before = snapshot()
    with pytest.raises(NotAllowedError) as caught:
        act(who)
    assert caught.value.http_status == 403
    assert caught.value.permission == permission
    assert caught.value.extra == {"permission": permission}
    assert snapshot() == before
    return caught.value


def branch(name: str, *, frm: str = "main", commit: str | None = None, **names: str) -> Branch:
    """A branch made by the system, with ``TypeN="display name"`` edits (committed when
    ``commit`` names the message)."""
    made = services.create_branch(name, frm, None)
    for api_name, display in names.items():
        edit(made, api_name, display_name=display)
    if commit:
        services.commit_changes(made, None, commit)
    made.refresh_from_db()
    return made


def acting(who: str, permitted):
    return permitted if who == "permitted" else None


@pytest.fixture
def main() -> Branch:
    return seed_main(3)


@pytest.fixture
def nobody():
    return user("nobody")


# --- commits -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_commit_changes(main, nobody, who):
    dev = branch("dev", Type0="Work")
    other = branch("other")
    act = lambda u: services.commit_changes(dev, u, "work")  # noqa: E731
    refused(act, nobody, p.ADD_COMMIT)
    refused(act, user("no-grant", p.ADD_COMMIT), p.EDIT_BRANCH)
    refused(act, user("elsewhere", p.ADD_COMMIT, on={p.EDIT_BRANCH: other}), p.EDIT_BRANCH)
    refused(act, user("no-add-commit", on={p.EDIT_BRANCH: dev}), p.ADD_COMMIT)
    committer = user("committer", p.ADD_COMMIT, on={p.EDIT_BRANCH: dev})
    commit = act(acting(who, committer))
    assert Branch.objects.get(name="dev").head_id == commit.id
    assert commit.author_id == (committer.pk if who == "permitted" else None)
    assert not WorkingChange.objects.filter(branch=dev).exists()


def test_system_commit_with_a_user_is_not_checked(main, nobody):
    """``system=True`` (a loader writing to a protected branch) is an internal write."""
    edit(main, "Type0", description="loaded")
    commit = services.commit_changes(main, nobody, "load", system=True)
    assert Branch.objects.get(name="main").head_id == commit.id


@pytest.mark.parametrize("who", WHO)
def test_revert_commit(main, nobody, who):
    dev = branch("dev", Type0="Oops", commit="oops")
    act = lambda u: services.revert_commit(dev, dev.head_id, u)  # noqa: E731
    refused(act, nobody, p.ADD_COMMIT)
    refused(act, user("no-grant", p.ADD_COMMIT), p.EDIT_BRANCH)
    refused(act, user("no-add-commit", on={p.EDIT_BRANCH: dev}), p.ADD_COMMIT)
    revert = act(acting(who, user("committer", p.ADD_COMMIT, on={p.EDIT_BRANCH: dev})))
    assert Branch.objects.get(name="dev").head_id == revert.id
    assert ObjectType.objects.get(branch=dev, api_name="Type0").display_name == "Type0"


@pytest.mark.parametrize("who", WHO)
def test_discard_changes(main, nobody, who):
    dev = branch("dev", Type0="Uncommitted")
    other = branch("other")
    act = lambda u: services.discard_changes(dev, u)  # noqa: E731
    refused(act, nobody, p.EDIT_BRANCH)
    refused(act, user("elsewhere", p.ADD_COMMIT, on={p.EDIT_BRANCH: other}), p.EDIT_BRANCH)
    discarded = act(acting(who, user("editor", on={p.EDIT_BRANCH: dev})))
    assert len(discarded) == 1
    assert ObjectType.objects.get(branch=dev, api_name="Type0").display_name == "Type0"


# --- branches ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_create_branch(main, nobody, who):
    act = lambda u: services.create_branch("new", "main", u)  # noqa: E731
    refused(act, nobody, p.ADD_BRANCH)
    refused(act, user("deleter", p.DELETE_BRANCH, p.EDIT_BRANCH), p.ADD_BRANCH)
    creator = user("creator", p.ADD_BRANCH)
    made = act(acting(who, creator))
    assert made.head_id == main.head_id
    assert creator.has_perm(p.EDIT_BRANCH, made) is (who == "permitted")


@pytest.mark.parametrize("who", WHO)
def test_delete_branch(main, nobody, who):
    dev = branch("dev")
    other = branch("other")
    act = lambda u: services.delete_branch(dev, u)  # noqa: E731
    refused(act, nobody, p.DELETE_BRANCH)
    refused(act, user("elsewhere", on={p.DELETE_BRANCH: other}), p.DELETE_BRANCH)
    refused(act, user("editor", p.EDIT_BRANCH), p.DELETE_BRANCH)
    act(acting(who, user("deleter", on={p.DELETE_BRANCH: dev})))
    assert not Branch.objects.filter(name="dev").exists()


@pytest.mark.parametrize("who", WHO)
def test_archive_branch(main, nobody, who):
    dev = branch("dev")
    act = lambda u: services.archive_branch(dev, u)  # noqa: E731
    refused(act, nobody, p.CHANGE_BRANCH)
    refused(act, user("editor", p.EDIT_BRANCH, p.DELETE_BRANCH), p.CHANGE_BRANCH)
    act(acting(who, user("keeper", p.CHANGE_BRANCH)))
    assert Branch.objects.get(name="dev").archived


# --- proposals -----------------------------------------------------------------------------


@pytest.fixture
def author():
    """An editor: may open proposals, nothing else model-wide."""
    return user("author", p.ADD_PROPOSAL)


@pytest.mark.parametrize("who", WHO)
def test_open_proposal(main, nobody, who):
    dev = branch("dev", Type0="Dev's", commit="dev")
    act = lambda u: services.open_proposal(dev, main, "Dev", u)  # noqa: E731
    refused(act, nobody, p.ADD_PROPOSAL)
    refused(act, user("steward-ish", p.CHANGE_PROPOSAL, p.MERGE_BRANCH), p.ADD_PROPOSAL)
    opener = user("opener", p.ADD_PROPOSAL)
    proposal = act(acting(who, opener))
    assert proposal.is_active
    assert proposal.author_id == (opener.pk if who == "permitted" else None)


def test_approve(main, nobody, author):
    dev = branch("dev", Type0="Dev's", commit="dev")
    proposal = services.open_proposal(dev, main, "Dev", author)
    act = lambda u: services.approve(proposal, u)  # noqa: E731
    refused(act, nobody, p.APPROVE_PROPOSAL)
    refused(act, user("merger", p.MERGE_BRANCH, p.CHANGE_PROPOSAL), p.APPROVE_PROPOSAL)
    assign_perm(p.APPROVE_PROPOSAL, author)
    error = refused(act, type(author).objects.get(pk=author.pk), p.APPROVE_PROPOSAL)
    assert "author" in str(error)
    # an approval records who gave it: no system approval
    refused(act, None, p.APPROVE_PROPOSAL)
    approval = act(user("reviewer", p.APPROVE_PROPOSAL))
    assert approval.source_head == dev.head_id
    assert Proposal.objects.get(pk=proposal.pk).status == "approved"


@pytest.mark.parametrize("who", WHO)
def test_merge_proposal(main, nobody, author, who):
    target = branch("target")
    dev = branch("dev", Type0="Dev's", commit="dev")
    proposal = services.open_proposal(dev, target, "Dev", author)
    act = lambda u: services.merge_proposal(proposal, u)  # noqa: E731
    refused(act, nobody, p.MERGE_BRANCH)
    refused(act, user("on-source", on={p.MERGE_BRANCH: dev}), p.MERGE_BRANCH)
    refused(act, user("author-like", p.CHANGE_PROPOSAL, p.APPROVE_PROPOSAL), p.MERGE_BRANCH)
    commit = act(acting(who, user("merger", on={p.MERGE_BRANCH: target})))
    assert Branch.objects.get(name="target").head_id == commit.id
    assert Proposal.objects.get(pk=proposal.pk).status == "merged"


@pytest.fixture
def conflicted(main, author) -> tuple[Proposal, str]:
    """``dev`` -> ``target``, both renamed Type0's display name: one ERROR conflict."""
    target = branch("target", Type0="Target's", commit="target")
    dev = branch("dev", Type0="Dev's", commit="dev")
    proposal = services.open_proposal(dev, target, "Dev", author)
    (conflict,) = [c for c in services.dry_run(proposal)["conflicts"] if c["severity"] == "ERROR"]
    return proposal, conflict["id"]


@pytest.mark.parametrize("who", ["author", "change_proposal", "merger", "system"])
def test_resolve(conflicted, nobody, author, who):
    proposal, conflict = conflicted
    act = lambda u: services.resolve(proposal, conflict, "ours", None, u)  # noqa: E731
    refused(act, nobody, p.CHANGE_PROPOSAL)
    refused(act, user("on-source", on={p.MERGE_BRANCH: proposal.source}), p.CHANGE_PROPOSAL)
    refused(act, user("approver", p.APPROVE_PROPOSAL, p.ADD_PROPOSAL), p.CHANGE_PROPOSAL)
    resolver = {
        "author": author,
        "change_proposal": user("manager", p.CHANGE_PROPOSAL),
        "merger": user("merger", on={p.MERGE_BRANCH: proposal.target}),
        "system": None,
    }[who]
    act(resolver)
    stored = Proposal.objects.get(pk=proposal.pk).resolutions
    assert stored[conflict]["choice"] == "ours"
    assert stored[conflict]["by"] == getattr(resolver, "username", None)


@pytest.mark.parametrize("who", ["author", "change_proposal", "system"])
def test_close_proposal(main, nobody, author, who):
    dev = branch("dev", Type0="Dev's", commit="dev")
    proposal = services.open_proposal(dev, main, "Dev", author)
    act = lambda u: services.close_proposal(proposal, u)  # noqa: E731
    refused(act, nobody, p.CHANGE_PROPOSAL)
    refused(act, user("merger", p.MERGE_BRANCH, p.APPROVE_PROPOSAL), p.CHANGE_PROPOSAL)
    closer = {"author": author, "change_proposal": user("manager", p.CHANGE_PROPOSAL)}
    act(closer.get(who))
    assert Proposal.objects.get(pk=proposal.pk).status == "closed"


@pytest.mark.parametrize("who", WHO)
def test_update_from_target(main, nobody, author, who):
    target = branch("target")
    dev = branch("dev", Type0="Dev's", commit="dev")
    proposal = services.open_proposal(dev, target, "Dev", author)
    edit(target, "Type1", display_name="Target moved")
    services.commit_changes(target, None, "target moved")
    act = lambda u: services.update_from_target(proposal, u)  # noqa: E731
    refused(act, nobody, p.ADD_COMMIT)
    refused(act, user("on-target", p.ADD_COMMIT, on={p.EDIT_BRANCH: target}), p.EDIT_BRANCH)
    refused(act, user("no-add-commit", on={p.EDIT_BRANCH: dev}), p.ADD_COMMIT)
    refused(act, author, p.ADD_COMMIT)
    commit = act(acting(who, user("committer", p.ADD_COMMIT, on={p.EDIT_BRANCH: dev})))
    assert Branch.objects.get(name="dev").head_id == commit.id
    assert commit.merge_parent_id == Branch.objects.get(name="target").head_id


# --- releases ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_publish_release(main, nobody, who):
    lts = Branch.objects.create(name="lts", protected=True)
    act = lambda u: publish_release(main, u)  # noqa: E731
    refused(act, nobody, p.RELEASE_BRANCH)
    refused(act, user("elsewhere", on={p.RELEASE_BRANCH: lts}), p.RELEASE_BRANCH)
    refused(act, user("steward-ish", p.MERGE_BRANCH, p.EDIT_BRANCH), p.RELEASE_BRANCH)
    release = act(acting(who, user("releaser", on={p.RELEASE_BRANCH: main})))
    assert release.version == "1.0.0" and release.commit_id == main.head_id


# --- the API asks the same rules --------------------------------------------------------------


def client_for(who) -> APIClient:
    client = APIClient()
    client.force_authenticate(who)
    return client


def test_api_refusal_names_the_permission_of_the_services_rule(main, nobody):
    branch("dev", Type0="Work")
    response = client_for(nobody).post(
        "/api/v1/branches/dev/commits/", {"message": "work"}, format="json"
    )
    assert response.status_code == 403
    body = response.json()["error"]
    assert body["code"] == "forbidden" and body["permission"] == p.ADD_COMMIT
    assert not Commit.objects.filter(message="work").exists()


@pytest.mark.parametrize("who", ["author", "merger"])
def test_api_resolve_follows_the_rule_the_admin_applies(conflicted, nobody, author, who):
    """The author and whoever may merge resolve conflicts, through the API as in the admin."""
    proposal, conflict = conflicted
    resolver = author if who == "author" else user("merger", on={p.MERGE_BRANCH: proposal.target})
    url = f"/api/v1/proposals/{proposal.pk}/resolve/"
    body = {"conflictId": conflict, "choice": "theirs"}
    denied = client_for(nobody).post(url, body, format="json")
    assert denied.status_code == 403
    assert denied.json()["error"]["permission"] == p.CHANGE_PROPOSAL
    response = client_for(resolver).post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert Proposal.objects.get(pk=proposal.pk).resolutions[conflict]["choice"] == "theirs"


def test_admin_delete_asks_the_services_rule(main, client):
    """The branch admin's delete page follows ``delete_branch_refusal``: a grant on one
    branch lets its holder delete that branch, as through the API and the service."""
    dev, other = branch("dev"), branch("other")
    staff = user("staff", "versioning.view_branch", on={p.DELETE_BRANCH: dev})
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    page = "admin:versioning_branch_delete"
    assert client.get(reverse(page, args=[other.pk])).status_code == 403
    assert client.get(reverse(page, args=[dev.pk])).status_code == 200
    assert client.post(reverse(page, args=[dev.pk]), {"post": "yes"}).status_code == 302
    assert not Branch.objects.filter(name="dev").exists()
