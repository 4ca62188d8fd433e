"""Branch awareness in the admin: the branch list shows each branch's state, commits ahead
of and behind main, uncommitted changes and open proposals; a new branch's page offers to
switch to it; a merged branch is marked and archived by an action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.versioning.support import edit, seed_main
from versioning import services
from versioning.models import Branch

from .test_admin_pages import login, staff_steward

pytestmark = pytest.mark.django_db


def row_of(html: str, name: str) -> str:
    return html.split(f">{name}</a>")[1].split("</tr>")[0]


def test_the_list_shows_state_ahead_behind_uncommitted_and_proposals(client):
    main = seed_main(2)
    alice, bob = staff_steward("alice"), staff_steward("bob")
    dev = services.create_branch("dev", "main", alice)
    done = services.create_branch("done", "main", alice)
    edit(dev, "Type0", description="one")
    services.commit_changes(dev, alice, "one")
    edit(dev, "Type0", description="two")
    services.commit_changes(dev, alice, "two")
    edit(dev, "Type1", description="not yet")
    services.open_proposal(dev, main, "Dev", alice)
    edit(done, "Type1", description="merged")
    services.commit_changes(done, alice, "merged")
    merged = services.open_proposal(done, main, "Done", alice)
    services.approve(merged, bob)
    services.merge_proposal(merged, bob)

    login(client, alice)
    html = client.get(reverse("admin:versioning_branch_changelist")).content.decode()
    dev_row, done_row = row_of(html, "dev"), row_of(html, "done")
    # main has the merged commit of done and its merge commit
    assert "2 ahead · 2 behind" in dev_row and "icon-yes.svg" in dev_row
    assert ">1</a>" in dev_row and "source_name=dev" in dev_row
    assert ">merged<" in done_row and "0 ahead · 1 behind" in done_row
    assert ">active<" in dev_row and "icon-no.svg" in done_row
    # the merged branch's own page suggests archiving it; an active one's does not
    page = client.get(reverse("admin:versioning_branch_change", args=[done.pk])).content.decode()
    state = page.split('id="branch-state"')[1].split("</div>")[0]
    assert ">merged<" in state and "archive it" in state
    page = client.get(reverse("admin:versioning_branch_change", args=[dev.pk])).content.decode()
    assert "archive it" not in page.split('id="branch-state"')[1].split("</div>")[0]

    archive = {"action": "archive_selected", "_selected_action": [done.pk], "index": 0}
    response = client.post(reverse("admin:versioning_branch_changelist"), archive, follow=True)
    assert not Branch.objects.get(name="done").archived  # the rule: change_branch
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "'done': You need the 'versioning.change_branch' permission on branch 'done'."
    ]
    alice.user_permissions.add(Permission.objects.get(codename="change_branch"))
    client.post(reverse("admin:versioning_branch_changelist"), archive)
    assert Branch.objects.get(name="done").archived


def test_a_new_branch_opens_its_page_offering_to_switch(client):
    seed_main(1)
    alice = staff_steward("alice")
    login(client, alice)
    response = client.post(
        reverse("admin:versioning_branch_add"),
        {"name": "fresh", "create_from": "main", "description": ""},
        follow=True,
    )
    branch = Branch.objects.get(name="fresh")
    assert response.redirect_chain[-1][0] == reverse(
        "admin:versioning_branch_change", args=[branch.pk]
    )
    html = response.content.decode()
    assert 'id="switch-branch"' in html and 'name="branch" value="fresh"' in html
    client.post(reverse("oms-select-branch"), {"branch": "fresh", "next": "/admin/"})
    html = client.get(reverse("admin:versioning_branch_change", args=[branch.pk])).content
    assert b'id="switch-branch"' not in html
