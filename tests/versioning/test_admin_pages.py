"""Versioning pages of the steward admin: changes and commit, history (DAG SVG), diff,
commit page and revert, proposals (create, dry run, resolve, approve, merge, update,
close). Every write goes through the services; refusals are admin messages, never a 500;
buttons and posts follow the permissions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import UserFactory
from tests.versioning.support import edit, object_type, seed_main, steward
from versioning import services
from versioning.admin import dag as admin_dag
from versioning.models import Branch, Commit, Proposal, ProposalStatus

pytestmark = pytest.mark.django_db

VIEW_PERMS = ["versioning.view_commit", "versioning.view_proposal", "versioning.view_branch"]


def staff(name: str, permissions=()) -> object:
    user = UserFactory(username=name, permissions=[*VIEW_PERMS, *permissions])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def staff_steward(name: str):
    """A steward as the role group makes one: staff, every versioning permission."""
    user = steward(name, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=[p.split(".")[1] for p in VIEW_PERMS])
    )
    return user


@pytest.fixture
def author():
    return staff_steward("author")


@pytest.fixture
def reviewer():
    return staff_steward("reviewer")


def login(client, user):
    client.force_login(user)
    return client


def select(client, name: str) -> None:
    client.post(reverse("oms-select-branch"), {"branch": name, "next": "/admin/"})


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def changes_url(branch: str | None = None) -> str:
    url = reverse("admin:versioning_changes")
    return f"{url}?branch={branch}" if branch else url


def proposal_page(pk: int) -> str:
    return reverse("admin:versioning_proposal_change", args=[pk])


def act(client, proposal: Proposal, action: str):
    return client.post(
        reverse("admin:versioning_proposal_act", args=[proposal.pk]), {"action": action}
    )


@pytest.fixture
def dev(author):
    seed_main(3)
    return services.create_branch("dev", "main", author)


def conflicting_proposal(author, reviewer) -> Proposal:
    """main took 'Main name' for Type0 while dev set 'Dev name': one ERROR conflict."""
    main = services.get_branch("main")
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)
    edit(other, "Type0", display_name="Main name")
    services.commit_changes(other, author, "other name")
    first = services.open_proposal(other, main, "Other", author)
    services.approve(first, reviewer)
    services.merge_proposal(first, reviewer)
    edit(dev, "Type0", display_name="Dev name")
    services.commit_changes(dev, author, "dev name")
    return services.open_proposal(dev, services.get_branch("main"), "Dev", author)


# --- changes and commit -----------------------------------------------------------------------


def test_changes_page_shows_entity_and_field_changes_with_a_rename_as_one(client, author, dev):
    edit(dev, "Type0", api_name="Renamed0", description="new words")
    login(client, author)
    response = client.get(changes_url("dev"))
    assert response.status_code == 200
    (card,) = response.context["cards"]
    assert card["change"] == "renamed" and card["oldApiName"] == "Type0"
    states = {row["label"]: row["state"] for row in card["rows"]}
    assert states["apiName"] == "modified" and states["description"] == "modified"
    html = response.content.decode()
    assert "Type0 → Renamed0" in html and 'id="commit-form"' in html


def test_commit_form_commits_through_the_service(client, author, dev):
    edit(dev, "Type1", description="committed from the admin")
    login(client, author)
    head = services.get_branch("dev").head_id
    response = client.post(changes_url("dev"), {"message": "Describe Type1", "expected_head": head})
    dev.refresh_from_db()
    assert dev.head_id != head and dev.head.message == "Describe Type1"
    assert dev.head.author == author
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:versioning_commit_change", args=[dev.head_id])
    assert not services.changes(dev).changes


def test_commit_with_a_stale_head_shows_the_409_message(client, author, dev):
    edit(dev, "Type1", description="mine")
    login(client, author)
    page = client.get(changes_url("dev"))
    stale = page.context["form"]["expected_head"].value()
    services.commit_changes(dev, author, "someone else was faster")
    edit(dev, "Type2", description="again")
    response = client.post(changes_url("dev"), {"message": "mine", "expected_head": stale})
    assert response.status_code == 409
    (message,) = texts(response)
    assert "reload and try again" in message
    assert response.context["form"]["message"].value() == "mine"  # the steward's text kept


def test_commit_without_changes_or_message_is_refused_as_a_message(client, author, dev):
    login(client, author)
    response = client.post(changes_url("dev"), {"message": "nothing", "expected_head": ""})
    assert response.status_code == 409 and "nothing to commit" in texts(response)[-1]
    response = client.post(changes_url("dev"), {"message": "", "expected_head": ""})
    assert response.status_code == 200 and response.context["form"].errors["message"]


def test_main_is_read_only_and_commit_needs_permission(client, author, dev):
    viewer = staff("viewer")
    login(client, viewer)
    select(client, "main")
    response = client.get(changes_url())
    assert response.status_code == 200 and "is protected" in response.content.decode()
    assert 'id="commit-form"' not in response.content.decode()
    response = client.get(changes_url("dev"))
    assert 'id="commit-form"' not in response.content.decode()
    assert client.post(changes_url("dev"), {"message": "x"}).status_code == 403
    login(client, author)
    assert client.post(changes_url("main"), {"message": "x"}).status_code == 403


def test_pages_need_staff_and_view_permission(client, dev):
    assert client.get(changes_url()).status_code == 302  # to the login page
    nobody = staff("nobody")
    nobody.user_permissions.clear()
    login(client, nobody)
    for name in ("versioning_changes", "versioning_history", "versioning_diff"):
        assert client.get(reverse(f"admin:{name}")).status_code == 403


# --- history, DAG, commit page, revert --------------------------------------------------------


def test_history_draws_the_dag_with_merge_edges_and_escaped_text(client, author, reviewer, dev):
    edit(dev, "Type0", description="x")
    services.commit_changes(dev, author, "<script>alert(1)</script> & more")
    proposal = services.open_proposal(dev, services.get_branch("main"), "Dev", author)
    services.approve(proposal, reviewer)
    merge = services.merge_proposal(proposal, reviewer)
    login(client, author)
    response = client.get(reverse("admin:versioning_history"), {"ref": "main", "scope": "all"})
    assert response.status_code == 200
    svg = str(response.context["svg"])
    assert svg.startswith("<svg") and "oms-dag-merge" in svg
    assert "<script>alert" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in svg
    assert reverse("admin:versioning_commit_change", args=[merge.id]) in svg
    assert svg.count("<circle") == Commit.objects.count() == 3
    assert ">main<" in svg and ">dev<" in svg  # branch labels


def test_layout_keeps_first_parent_lines_in_one_lane():
    class C:
        def __init__(self, id, parent=None, merge=None):
            self.id, self.parent_ids = id, [p for p in (parent, merge) if p]

    # m merges b2 (lane 1) into a1 (lane 0); b1 forks from root
    commits = [C("m", "a1", "b2"), C("b2", "b1"), C("a1", "root"), C("b1", "root"), C("root")]
    placed, lanes = admin_dag.layout(commits)
    lane = {p.commit.id: p.lane for p in placed}
    assert lane["m"] == lane["a1"] == lane["root"] == 0
    assert lane["b2"] == lane["b1"] == 1 and lanes == 2
    assert placed[0].edges == [("a1", 0), ("b2", 1)]


def test_history_of_an_unknown_ref_and_of_an_entity(client, author, dev):
    edit(dev, "Type0", description="once")
    services.commit_changes(dev, author, "describe")
    login(client, author)
    response = client.get(reverse("admin:versioning_history"), {"ref": "nope"})
    assert response.status_code == 200 and "No branch, commit or release" in texts(response)[-1]
    rid = str(object_type(dev, "Type0").rid)
    response = client.get(reverse("admin:versioning_history"), {"ref": "dev", "rid": rid})
    assert [row["change"] for row in response.context["entity"]] == ["modified", "added"]
    response = client.get(reverse("admin:versioning_history"), {"ref": "dev", "rid": "x'<"})
    assert "is not an entity rid" in texts(response)[-1]


def test_commit_page_shows_its_changes_and_reverts_through_the_service(client, author, dev):
    edit(dev, "Type0", description="oops")
    bad = services.commit_changes(dev, author, "oops")
    login(client, author)
    select(client, "dev")
    url = reverse("admin:versioning_commit_change", args=[bad.id])
    response = client.get(url)
    assert response.status_code == 200
    (card,) = response.context["cards"]
    assert card["apiName"] == "Type0" and response.context["revert_default"] == "dev"
    response = client.post(reverse("admin:versioning_revert", args=[bad.id]), {"branch": "dev"})
    dev.refresh_from_db()
    assert dev.head.message.startswith('Revert "oops"')
    assert response["Location"] == reverse("admin:versioning_commit_change", args=[dev.head_id])
    assert object_type(dev, "Type0").description == ""
    response = client.post(reverse("admin:versioning_revert", args=[bad.id]), {"branch": "dev"})
    assert "is left to revert" in texts(response)[-1]
    response = client.post(reverse("admin:versioning_revert", args=[bad.id]), {"branch": "main"})
    assert response.status_code == 403


def test_root_commit_page_and_commit_list(client, author, dev):
    login(client, author)
    root = services.get_branch("main").head
    response = client.get(reverse("admin:versioning_commit_change", args=[root.id]))
    assert response.status_code == 200 and response.context["root"]
    assert {c["apiName"] for c in response.context["cards"]} >= {"Type0", "typeLink"}
    response = client.get(reverse("admin:versioning_commit_changelist"))
    assert response.status_code == 200 and root.id[:12] in response.content.decode()
    missing = reverse("admin:versioning_commit_change", args=["f" * 64])
    assert client.get(missing).status_code == 404


# --- diff -------------------------------------------------------------------------------------


def test_diff_page_side_by_side_with_coloured_rows(client, author, dev):
    edit(dev, "Type0", display_name="Shown", description="added words")
    services.commit_changes(dev, author, "rename display")
    login(client, author)
    response = client.get(reverse("admin:versioning_diff"), {"a": "main", "b": "dev"})
    assert response.status_code == 200
    (card,) = response.context["cards"]
    states = {row["label"]: (row["state"], row["old"], row["new"]) for row in card["rows"]}
    assert states["displayName"] == ("modified", "Type0", "Shown")  # labels, not JSON
    html = response.content.decode()
    assert 'class="oms-modified"' in html and "oms-same" in html
    commit_prefix = services.get_branch("dev").head_id[:12]
    response = client.get(reverse("admin:versioning_diff"), {"a": commit_prefix, "b": "main"})
    assert response.context["cards"][0]["rows"]
    assert response.context["a_label"] == commit_prefix  # a full id would be shortened too
    response = client.get(reverse("admin:versioning_diff"), {"a": "main", "b": "zzz"})
    assert response.status_code == 200 and "No branch, commit or release" in texts(response)[-1]


# --- proposals --------------------------------------------------------------------------------


def test_create_proposal_through_the_form(client, author, dev):
    edit(dev, "Type0", description="x")
    services.commit_changes(dev, author, "x")
    login(client, author)
    select(client, "dev")
    response = client.get(reverse("admin:versioning_proposal_add"))
    assert response.status_code == 200
    assert response.context["form"].initial == {"source": "dev", "target": "main"}
    data = {"source": "dev", "target": "main", "title": "Describe", "description": "why"}
    response = client.post(reverse("admin:versioning_proposal_add"), data)
    proposal = Proposal.objects.get()
    assert response["Location"] == proposal_page(proposal.pk)
    assert (proposal.author, proposal.source_name, proposal.status) == (author, "dev", "open")
    response = client.post(reverse("admin:versioning_proposal_add"), data)
    assert response.status_code == 200 and "already merges 'dev' into 'main'" in texts(response)[-1]


def test_proposal_page_groups_conflicts_and_resolves_each(client, author, reviewer):
    seed_main(3)
    proposal = conflicting_proposal(author, reviewer)
    login(client, author)
    response = client.get(proposal_page(proposal.pk))
    assert response.status_code == 200
    (group,) = response.context["groups"]
    assert group["severity"] == "ERROR"
    (conflict,) = group["items"]
    # the sides read as labels, not JSON literals; the edit box takes JSON
    assert (conflict["ours_json"], conflict["theirs_json"]) == ("Main name", "Dev name")
    html = response.content.decode()
    assert (
        "<pre>Main name</pre>" in html
        and "&quot;Main name&quot;"
        not in html.split("<textarea")[0].split('id="severity-ERROR"')[1]
    )
    assert 'id="severity-ERROR"' in html and "Merge into main" in html
    assert not response.context["can_approve"]  # the author
    assert re.search(r'name="merge"[^>]*disabled', html)
    resolve = reverse("admin:versioning_proposal_resolve", args=[proposal.pk])
    response = client.post(
        resolve, {"conflict": conflict["id"], "choice": "value", "value": "oops"}
    )
    assert "not valid JSON" in texts(response)[-1]
    response = client.post(resolve, {"conflict": conflict["id"], "value": '"x"'})
    assert "Choose ours, theirs or an edited value" in texts(response)[-1]
    response = client.post(resolve, {"conflict": "nope", "choice": "ours"})
    assert "has no conflict 'nope'" in texts(response)[-1]
    client.post(resolve, {"conflict": conflict["id"], "choice": "value", "value": '"Agreed"'})
    proposal.refresh_from_db()
    assert proposal.resolutions[conflict["id"]]["value"] == "Agreed"
    client.post(resolve, {"conflict": conflict["id"], "choice": "clear"})
    proposal.refresh_from_db()
    assert proposal.resolutions == {}
    client.post(resolve, {"conflict": conflict["id"], "choice": "theirs"})
    response = client.get(proposal_page(proposal.pk))
    assert response.context["groups"][0]["items"][0]["chosen"] == "theirs"
    assert "✓ resolved" in response.content.decode()


def test_approve_and_merge_buttons_follow_permissions_and_state(client, author, reviewer):
    seed_main(3)
    proposal = conflicting_proposal(author, reviewer)
    (conflict,) = services.dry_run(proposal)["conflicts"]
    login(client, author)
    assert act(client, proposal, "approve").status_code == 403  # own proposal
    response = act(client, proposal, "merge")
    assert "must be resolved" in texts(response)[-1] or "approval" in texts(response)[-1]
    login(client, reviewer)
    response = client.get(proposal_page(proposal.pk))
    assert response.context["can_approve"] and 'name="approve"' in response.content.decode()
    act(client, proposal, "approve")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert not client.get(proposal_page(proposal.pk)).context["can_approve"]  # approved once
    response = act(client, proposal, "merge")
    assert "1 conflict(s) must be resolved" in texts(response)[-1]
    services.resolve(proposal, conflict["id"], "theirs", None, reviewer)
    response = client.get(proposal_page(proposal.pk))
    assert response.context["run"]["mergeable"]
    assert not re.search(r'name="merge"[^>]*disabled', response.content.decode())
    act(client, proposal, "merge")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.MERGED
    main = services.get_branch("main")
    assert object_type(main, "Type0").display_name == "Dev name"
    response = client.get(proposal_page(proposal.pk))
    html = response.content.decode()
    assert 'name="merge"' not in html and main.head_id[:12] in html
    viewer = staff("viewer2")
    login(client, viewer)
    response = client.get(proposal_page(proposal.pk))
    assert response.status_code == 200 and not response.context["can_merge"]


def test_update_from_target_and_close(client, author, reviewer):
    seed_main(3)
    proposal = conflicting_proposal(author, reviewer)
    (conflict,) = services.dry_run(proposal)["conflicts"]
    login(client, author)
    response = client.get(proposal_page(proposal.pk))
    assert response.context["can_update"] and response.context["can_close"]
    response = act(client, proposal, "update")
    assert "must be resolved first" in texts(response)[-1]
    services.resolve(proposal, conflict["id"], "ours", None, author)
    act(client, proposal, "update")
    dev = Branch.objects.get(name="dev")
    assert dev.head.merge_parent_id == services.get_branch("main").head_id
    assert object_type(dev, "Type0").display_name == "Main name"
    assert not client.get(proposal_page(proposal.pk)).context["can_update"]  # up to date
    act(client, proposal, "close")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CLOSED
    response = act(client, proposal, "close")
    assert response.status_code == 403  # nothing left to do on a closed proposal


def test_proposal_list_filters_by_status(client, author, dev):
    main = services.get_branch("main")
    services.open_proposal(dev, main, "Open one", author)
    login(client, author)
    url = reverse("admin:versioning_proposal_changelist")
    response = client.get(url, {"status__exact": "open"})
    assert response.status_code == 200 and "Open one" in response.content.decode()
    response = client.get(url, {"status__exact": "merged"})
    assert "Open one" not in response.content.decode()


def test_block_conflicts_have_no_resolve_form(client, author, reviewer):
    from tests.versioning.support import delete_object_type, link

    seed_main(3)
    main = services.get_branch("main")
    cleanup = services.create_branch("cleanup", "main", author)
    dev = services.create_branch("dev", "main", author)
    delete_object_type(cleanup, "Type2")
    services.commit_changes(cleanup, author, "drop Type2")
    first = services.open_proposal(cleanup, main, "Drop", author)
    services.approve(first, reviewer)
    services.merge_proposal(first, reviewer)
    link(dev, "toType2", "Type0", "Type2")
    services.commit_changes(dev, author, "link")
    proposal = services.open_proposal(dev, services.get_branch("main"), "Link", author)
    login(client, author)
    response = client.get(proposal_page(proposal.pk))
    block = next(g for g in response.context["groups"] if g["severity"] == "BLOCK")
    assert block["items"][0]["kind"] == "dangling_reference"
    html = response.content.decode()
    section = html.split('id="severity-BLOCK"')[1].split("</section>")[0]
    assert "oms-resolve" not in section and "Fix this on" in section
    resolve = reverse("admin:versioning_proposal_resolve", args=[proposal.pk])
    response = client.post(resolve, {"conflict": block["items"][0]["id"], "choice": "theirs"})
    assert "fix it on a branch" in texts(response)[-1]
