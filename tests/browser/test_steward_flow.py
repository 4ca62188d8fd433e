"""The steward's whole flow in a real browser, with two stewards: create a branch, edit an
object type on it (search, a bulk deprecation's confirmation), commit, open a proposal,
resolve its conflict, request changes and discuss, approve (the second steward), merge
(confirming), cut a release. Every main page on the way is audited at
1280×800 in light and dark mode: no horizontal overflow, no serious or critical axe-core
violation (colour contrast included)."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.versioning.support import edit, object_type, seed_main
from versioning import services
from versioning.models import Branch, Proposal, ProposalStatus, Release

from .conftest import Steward, admin_user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_stewards_branch_edit_commit_propose_resolve_merge_release(live_server, browser):
    try:
        findings = flow(live_server.url, browser)
    finally:
        # Under Playwright's sync API the ORM calls of the test body get their own
        # connection (Django's connections are context-local); close it here, or
        # PostgreSQL refuses to drop the test database at the end of the session.
        connections.close_all()
    assert not findings, "\n".join(findings)


def flow(base_url: str, browser) -> list[str]:
    seed_main(3)
    alice_user = admin_user("alice")
    bob_user = admin_user("bob")
    alice = Steward(browser, base_url, "alice")
    page = alice.page
    alice.audit("home")

    # create a branch from main in the Branch admin
    alice.go("/admin/versioning/branch/add/")
    alice.audit("branch-add")
    page.fill("#id_name", "feature")
    page.select_option("#id_create_from", "main")
    alice.submit("input[name=_save]")
    assert Branch.objects.filter(name="feature", created_from="main").exists()
    alice.go("/admin/versioning/branch/")
    alice.audit("branch-list")

    # meanwhile bob changes the same display name on main (through a merged proposal)
    other = services.create_branch("other", "main", bob_user)
    edit(other, "Type0", display_name="Bob's name")
    services.commit_changes(other, bob_user, "Bob names Type0")
    first = services.open_proposal(other, services.get_branch("main"), "Bob", bob_user)
    services.approve(first, alice_user)
    services.merge_proposal(first, bob_user)

    # select the branch in the header and edit an object type there
    with page.expect_navigation():
        page.select_option("#oms-branch-select", "feature")
    alice.go("/admin/ontology/objecttype/")
    alice.audit("objecttype-list")
    page.click("text=Type0")
    alice.audit("objecttype-change")
    page.fill("#id_display_name", "Alice's name")
    page.fill("#id_properties-1-description", "Seats sold")  # edited in the table
    alice.submit("input[name=_save]")
    assert "was changed successfully" in alice.messages()
    feature_type = object_type(Branch.objects.get(name="feature"), "Type0")
    prop = feature_type.properties.order_by("position", "api_name")[1]  # the table's row 1
    assert prop.description == "Seats sold"
    # a property's own page returns to its object type once saved
    alice.go(f"/admin/ontology/property/{prop.pk}/change/")
    page.fill("#id_description", "Seats sold on the flight")
    alice.submit("input[name=_save]")
    assert page.url.endswith(f"/admin/ontology/objecttype/{feature_type.pk}/change/")
    for kind in ("property", "linktype", "valuetype"):
        alice.go(f"/admin/ontology/{kind}/")
        alice.audit(f"{kind}-list")
    # search every kind; deprecate a property in bulk (then take it back: a confirmation only)
    alice.go("/admin/ontology/search/?q=seats")  # the property's new description
    assert "Type0." in page.locator(".oms-search-group").first.inner_text()
    alice.audit("search")
    alice.go("/admin/ontology/property/")
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "deprecate_selected")
    alice.submit("button[name=index]")
    assert page.locator("#deprecate-form").count() == 1
    alice.audit("deprecate-confirm")

    # the changes page shows the field change; commit it
    alice.go("/admin/versioning/commit/changes/")
    card = page.locator("details.oms-card")
    assert card.count() == 1 and "Type0" in card.inner_text()
    assert "Alice's name" in page.locator("tr.oms-modified").first.inner_text()
    alice.audit("changes")
    page.fill("#id_message", "Alice renames Type0 for display")
    alice.submit("#commit-form input[type=submit]")
    assert "Committed" in alice.messages()
    feature = services.get_branch("feature")
    assert feature.head.message == "Alice renames Type0 for display"
    alice.audit("commit")

    # the ontology graph of the branch marks Type0, changed against main
    alice.go("/admin/ontology/objecttype/graph/")
    assert page.locator("svg.oms-graph a.oms-graph-changed title").all_text_contents() == ["Type0"]
    alice.audit("graph")
    alice.go("/admin/versioning/commit/changes/")

    # open a proposal into main from the nav
    page.click("nav.oms-vc-nav >> text=New proposal")
    assert page.input_value("#id_source") == "feature"
    assert page.input_value("#id_target") == "main"
    alice.audit("proposal-add")
    page.fill("#id_title", "Better display name for Type0")
    page.select_option("#id_reviewers", "bob")
    alice.submit("#proposal-form input[type=submit]")
    assert "Opened proposal" in alice.messages()
    proposal = Proposal.objects.get(title="Better display name for Type0")

    # one ERROR conflict; merging is not possible yet
    conflict = page.locator("#severity-ERROR .oms-conflict")
    assert conflict.count() == 1
    assert "Bob's name" in conflict.inner_text() and "Alice's name" in conflict.inner_text()
    assert page.locator("input[name=merge]").is_disabled()
    assert page.locator("input[name=approve]").count() == 0  # not one's own
    alice.audit("proposal-conflict")

    # resolve it with an edited value
    conflict.locator("input[value=value]").check()
    conflict.locator("textarea[name=value]").fill('"Agreed name"')
    alice.submit(conflict.locator("input[type=submit]"))
    assert "Conflict on Type0 › displayName: set the edited value Agreed name." in (
        alice.messages()
    )
    assert "resolved" in page.locator("#severity-ERROR").inner_text()

    # bob approves and merges, confirming the merge
    bob = Steward(browser, base_url, "bob")
    bob.go(f"/admin/versioning/proposal/{proposal.pk}/change/")
    # bob first asks for a change in the discussion, which holds the merge
    bob.page.fill("#id_comment_body", "Please say why the name changes")
    bob.submit("input[name=request_changes]")
    assert "You requested changes" in bob.messages()
    assert "bob" in bob.page.inner_text("#changes-requested")
    alice.go(f"/admin/versioning/proposal/{proposal.pk}/change/")
    page.fill("#id_comment_body", "Stewards asked for a clearer name")
    alice.submit("input[name=comment]")
    assert page.locator("ul.oms-comments li").count() == 2
    alice.audit("proposal-discussion")
    bob.go(f"/admin/versioning/proposal/{proposal.pk}/change/")
    bob.submit("input[name=approve]")
    assert "You approved" in bob.messages()
    merge = bob.page.locator("input[name=merge]")
    assert merge.is_enabled()
    bob.audit("proposal-ready")
    bob.submit(merge)
    assert "Merged 'feature' into 'main'" in bob.messages()
    assert bob.page.inner_text("#proposal-status") == "Merged"
    assert "Agreed name" in bob.page.inner_text("#severity-ERROR")  # the record is kept
    bob.audit("proposal-merged")

    proposal.refresh_from_db()
    main = services.get_branch("main")
    assert proposal.status == ProposalStatus.MERGED and main.head_id == proposal.merge_commit_id
    assert object_type(main, "Type0").display_name == "Agreed name"
    bob.go("/admin/versioning/proposal/")
    bob.audit("proposal-list")

    # the history shows the merge; the diff page compares two refs side by side
    bob.go("/admin/versioning/commit/history/?ref=main&scope=all")
    assert bob.page.locator("svg.oms-dag circle.oms-dag-merge").count() == 2
    bob.audit("history")
    bob.page.locator("svg.oms-dag a").first.click()
    assert main.head_id in bob.page.inner_text("#content")
    bob.go(f"/admin/versioning/commit/diff/?a={first.merge_commit_id}&b=main")
    assert "Agreed name" in bob.page.locator("tr.oms-modified").first.inner_text()
    bob.audit("diff")

    # bob cuts a release of main
    bob.go("/admin/versioning/release/add/?branch=main")
    bob.audit("release-cut")
    bob.submit("#release-form input[type=submit]")
    release = Release.objects.get()
    assert release.commit_id == main.head_id
    bob.audit("release")
    bob.go("/admin/versioning/release/")
    bob.audit("release-list")
    return alice.findings + bob.findings
