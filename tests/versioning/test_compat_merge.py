"""Compatibility modes at merge, the override, and the combined dry run."""

from __future__ import annotations

import pytest

from events.models import OutboxEvent
from tests.factories import ObjectTypeFactory, UserFactory
from tests.versioning.support import delete_object_type, edit, seed_main, steward
from tests.versioning.test_api import client_for, error
from versioning import consumers, services
from versioning.changes import mark_changed
from versioning.compat_modes import CompatibilityError
from versioning.exceptions import NotAllowedError
from versioning.models import Branch
from versioning.protection import token
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return steward("author"), steward("reviewer")


@pytest.fixture
def released():
    """main at BACKWARD with release 1.0.0."""
    main = seed_main(3)
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="BACKWARD")
    main.refresh_from_db()
    publish_release(main, None)
    return main


def proposal_for(main, author, reviewer, change, title="Change"):
    dev = services.create_branch(f"dev{Branch.objects.count()}", "main", author)
    change(dev)
    services.commit_changes(dev, author, title)
    proposal = services.open_proposal(dev, main, title, author)
    services.approve(proposal, reviewer)
    return proposal


def rename(dev):
    edit(dev, "Type1", api_name="Vessel")


def test_a_merge_the_mode_refuses_is_a_block_finding_and_nothing_is_written(released, people):
    author, reviewer = people
    proposal = proposal_for(released, author, reviewer, rename)
    run = services.dry_run(proposal)
    (finding,) = run["compatibility"]["findings"]
    assert (finding["severity"], finding["mode"], finding["release"]) == (
        "BLOCK",
        "BACKWARD",
        "1.0.0",
    )
    assert (finding["entity"], finding["kind"]) == ("Vessel", "renamed")
    assert "MIGRATION_REQUIRED" in finding["reason"]
    assert run["canMerge"] and not run["mergeable"]
    head = released.head_id
    with pytest.raises(CompatibilityError) as refused:
        services.merge_proposal(proposal, reviewer)
    assert refused.value.http_status == 409 and refused.value.findings == [finding]
    released.refresh_from_db()
    assert released.head_id == head


def test_an_addition_merges_under_backward(released, people):
    author, reviewer = people
    proposal = proposal_for(
        released, author, reviewer, lambda dev: edit(dev, "Type0", description="more")
    )
    assert services.dry_run(proposal)["compatibility"]["findings"] == []
    services.merge_proposal(proposal, reviewer)


def test_the_override_needs_its_permission_and_is_recorded_on_commit_and_event(released, people):
    author, reviewer = people
    proposal = proposal_for(released, author, reviewer, rename)
    with pytest.raises(NotAllowedError) as denied:
        services.merge_proposal(proposal, reviewer, override=True)
    assert denied.value.permission == "versioning.override_compatibility"
    boss = UserFactory(
        username="boss",
        permissions=["versioning.merge_branch", "versioning.override_compatibility"],
    )
    commit = services.merge_proposal(proposal, boss, override=True)
    assert "Compatibility-Override: BACKWARD by boss (1 finding(s))" in commit.message
    assert "Compatibility-Finding: BACKWARD (backward) against 1.0.0" in commit.message
    event = OutboxEvent.objects.get(subject=f"proposals/{proposal.pk}", type__endswith="merged.v1")
    record = event.data["compatibilityOverride"]
    assert (record["by"], record["mode"], record["count"]) == ("boss", "BACKWARD", 1)
    assert record["findings"][0]["entity"] == "Vessel"
    # the target now holds the overridden rename: a later proposal is not blamed for it
    later = proposal_for(
        released, author, reviewer, lambda dev: edit(dev, "Vessel", description="d"), "Later"
    )
    assert services.dry_run(later)["compatibility"]["findings"] == []
    services.merge_proposal(later, reviewer)


def test_removing_an_active_entity_at_merge_needs_an_earlier_deprecation(released, people):
    author, reviewer = people
    Branch.objects.filter(pk=released.pk).update(compatibility_mode="FORWARD")
    released.refresh_from_db()
    proposal = proposal_for(
        released, author, reviewer, lambda dev: delete_object_type(dev, "Type2")
    )
    (finding,) = services.dry_run(proposal)["compatibility"]["findings"]
    assert (finding["rule"], finding["entity"], finding["deprecateIn"]) == (
        "deprecation",
        "Type2",
        "1.0.1",
    )
    with pytest.raises(CompatibilityError):
        services.merge_proposal(proposal, reviewer)


def test_a_protected_target_under_none_keeps_the_deprecation_gate(released, people):
    author, reviewer = people
    Branch.objects.filter(pk=released.pk).update(compatibility_mode="NONE")
    released.refresh_from_db()

    def rename_and_remove(dev):
        rename(dev)  # no direction is checked under NONE
        delete_object_type(dev, "Type2")

    proposal = proposal_for(released, author, reviewer, rename_and_remove)
    findings = services.dry_run(proposal)["compatibility"]["findings"]
    assert [(f["mode"], f["rule"], f["entity"]) for f in findings] == [
        ("NONE", "deprecation", "Type2")
    ]
    with pytest.raises(CompatibilityError):
        services.merge_proposal(proposal, reviewer)


def test_the_release_to_deprecate_in_counts_what_the_target_has_not_released_yet(released, people):
    """main gained an object type since 1.0.0 (a minor bump waiting): the deprecation
    goes in 1.1.0, the release main would get next, not 1.0.1."""
    author, reviewer = people
    Branch.objects.filter(pk=released.pk).update(compatibility_mode="FORWARD")
    released.refresh_from_db()
    added = ObjectTypeFactory(branch=released, api_name="Added", properties=1)
    mark_changed(released.pk, added.rid, "objectType")
    services.commit_changes(released, None, "add", system=True)
    proposal = proposal_for(
        released, author, reviewer, lambda dev: delete_object_type(dev, "Type2")
    )
    run = services.dry_run(proposal)
    (finding,) = run["compatibility"]["findings"]
    assert (finding["rule"], finding["deprecateIn"]) == ("deprecation", "1.1.0")
    assert finding["reason"].endswith("Deprecate it in release 1.1.0 first.")


def test_no_release_no_findings_and_the_first_version(people):
    author, reviewer = people
    main = seed_main(3)
    Branch.objects.filter(pk=main.pk).update(compatibility_mode="FULL")
    main.refresh_from_db()
    proposal = proposal_for(main, author, reviewer, rename)
    run = services.dry_run(proposal)
    assert run["compatibility"]["release"] is None and run["compatibility"]["findings"] == []
    assert run["nextVersion"] == "1.0.0"
    services.merge_proposal(proposal, reviewer)


def test_the_dry_run_answers_conflicts_report_plan_version_and_impact(released, people):
    author, reviewer = people
    owner = UserFactory(username="fleet-owner")
    consumers.save_consumer(
        None, None, name="fleet-app", reads=["Type1"], owner=owner, contact="ops@x.org"
    )
    # the target moved on since the proposal's branch was made: a conflict on Type0
    dev = services.create_branch("dev", "main", author)
    edit(released, "Type0", description="main's")
    services.commit_changes(released, None, "main's", system=True)
    edit(dev, "Type0", description="dev's")
    rename(dev)
    services.commit_changes(dev, author, "rename and describe")
    proposal = services.open_proposal(dev, released, "Rename", author)
    run = services.dry_run(proposal)
    assert [(c["severity"], c["path"]) for c in run["conflicts"]] == [("ERROR", ["description"])]
    report = run["compatibility"]
    assert (report["mode"], report["release"], report["compatibility"]) == (
        "BACKWARD",
        "1.0.0",
        "MIGRATION_REQUIRED",
    )
    assert {c["kind"] for c in report["changelog"]} == {"renamed", "description_changed"}
    (renamed,) = [c for c in report["changelog"] if c["kind"] == "renamed"]
    assert renamed["consumers"] == ["fleet-app"]
    assert [(i["consumer"], i["owner"], i["contact"]) for i in report["impact"]] == [
        ("fleet-app", "fleet-owner", token("ops@x.org"))  # masked: docs/api.md, PII
    ]
    assert [s["action"] for s in run["migrationPlan"]] == ["rename"]
    assert run["nextVersion"] == "2.0.0"
    api = client_for(author)
    body = api.get(f"/api/v1/proposals/{proposal.pk}/dry-run/").json()
    assert body["nextVersion"] == "2.0.0" and body["compatibility"]["findings"]


def test_api_merge_with_override_and_mode_set_through_patch(released, people):
    author, reviewer = people
    proposal = proposal_for(released, author, reviewer, rename)
    api = client_for(reviewer)
    refused = error(api.post(f"/api/v1/proposals/{proposal.pk}/merge/"), 409, "compatibility")
    assert refused["findings"][0]["entity"] == "Vessel"
    error(
        api.post(f"/api/v1/proposals/{proposal.pk}/merge/", {"override": True}, format="json"), 403
    )
    admin = UserFactory(
        username="admin",
        permissions=[
            "versioning.merge_branch",
            "versioning.override_compatibility",
            "versioning.change_branch",
        ],
    )
    api = client_for(admin)
    done = api.post(f"/api/v1/proposals/{proposal.pk}/merge/", {"override": True}, format="json")
    assert done.status_code == 200, done.content
    patched = api.patch("/api/v1/branches/main/", {"compatibilityMode": "full"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["compatibilityMode"] == "FULL"
    bad = error(
        api.patch("/api/v1/branches/main/", {"compatibilityMode": "LOOSE"}, format="json"), 400
    )
    assert "compatibilityMode" in bad["fields"]
    assert Branch.objects.get(name="main").compatibility_mode == "FULL"


def test_setting_the_mode_needs_change_branch_model_wide(released):
    from guardian.shortcuts import assign_perm

    granted = UserFactory(username="granted")
    assign_perm("versioning.change_branch", granted, released)
    api = client_for(granted)
    refused = error(
        api.patch("/api/v1/branches/main/", {"compatibilityMode": "NONE"}, format="json"), 403
    )
    assert refused["permission"] == "versioning.change_branch"
    assert (
        api.patch("/api/v1/branches/main/", {"description": "ok"}, format="json").status_code == 200
    )
    assert Branch.objects.get(name="main").compatibility_mode == "BACKWARD"


def staff(name: str, *perms: str):
    user = UserFactory(
        username=name,
        permissions=["versioning.view_proposal", "versioning.view_branch", *perms],
    )
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_admin_proposal_page_shows_findings_owners_and_merges_with_the_override(
    client, released, people
):
    from django.urls import reverse

    author, reviewer = people
    owner = UserFactory(username="fleet-owner")
    consumers.save_consumer(None, None, name="fleet-app", reads=["Type1"], owner=owner)
    proposal = proposal_for(released, author, reviewer, rename)
    page = reverse("admin:versioning_proposal_change", args=[proposal.pk])
    client.force_login(staff("merger", "versioning.merge_branch"))
    text = client.get(page).content.decode()
    assert "compatibility-findings" in text and "BACKWARD · backward · against 1.0.0" in text
    assert "fleet-app" in text and "fleet-owner" in text
    assert 'id="next-version">2.0.0<' in text
    assert "merge-override" not in text  # no override permission
    boss = staff("boss", "versioning.merge_branch", "versioning.override_compatibility")
    client.force_login(boss)
    assert "merge-override" in client.get(page).content.decode()
    act = reverse("admin:versioning_proposal_act", args=[proposal.pk])
    client.post(act, {"action": "merge"})
    proposal.refresh_from_db()
    assert proposal.status == "approved"  # refused without the override
    client.post(act, {"action": "merge", "override": "yes"})
    proposal.refresh_from_db()
    assert proposal.status == "merged"
    assert "Compatibility-Override: BACKWARD by boss" in proposal.merge_commit.message


def test_admin_branch_page_sets_the_mode_for_stewards_only(client, released):
    from django.urls import reverse

    url = reverse("admin:versioning_branch_change", args=[released.pk])
    client.force_login(staff("steward2", "versioning.change_branch"))
    form = {"description": "", "protected": "on", "compatibility_mode": "FULL_TRANSITIVE"}
    assert client.post(url, form).status_code == 302
    assert Branch.objects.get(pk=released.pk).compatibility_mode == "FULL_TRANSITIVE"
    # left out of the form: unchanged
    assert client.post(url, {"description": "x", "protected": "on"}).status_code == 302
    assert Branch.objects.get(pk=released.pk).compatibility_mode == "FULL_TRANSITIVE"


def test_admin_branch_page_keeps_the_mode_read_only_for_a_grant_on_the_branch(client, released):
    from django.urls import reverse
    from guardian.shortcuts import assign_perm

    granted = staff("granted")
    assign_perm("versioning.change_branch", granted, released)
    client.force_login(granted)
    url = reverse("admin:versioning_branch_change", args=[released.pk])
    page = client.get(url).content.decode()
    assert 'name="compatibility_mode"' not in page  # shown, not editable
    form = {"description": "mine", "protected": "on", "compatibility_mode": "NONE"}
    assert client.post(url, form).status_code == 302
    branch = Branch.objects.get(pk=released.pk)
    assert (branch.description, branch.compatibility_mode) == ("mine", "BACKWARD")
