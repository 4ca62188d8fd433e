"""Compatibility modes and the deprecation gate when a release is published."""

from __future__ import annotations

from datetime import date

import pytest

from events.models import OutboxEvent
from ontology import services as ontology
from ontology.models import Property
from tests.factories import UserFactory
from tests.versioning.support import delete_object_type, edit, seed_main
from versioning import releases, services
from versioning.compat_modes import CompatibilityError
from versioning.exceptions import NotAllowedError
from versioning.models import Branch, Release
from versioning.releases import publish_release

pytestmark = pytest.mark.django_db

DEADLINE = date(2027, 6, 30)


def set_mode(branch: Branch, mode: str) -> None:
    Branch.objects.filter(pk=branch.pk).update(compatibility_mode=mode)
    branch.compatibility_mode = mode


def commit(main: Branch, message: str = "change"):
    made = services.commit_changes(main, None, message, system=True)
    main.refresh_from_db()
    return made


def prop(main: Branch, name: str) -> Property:
    return Property.objects.get(branch=main, object_type__api_name="Type0", api_name=name)


def change_prop(main: Branch, name: str, **values) -> None:
    row = prop(main, name)
    for field, value in values.items():
        setattr(row, field, value)
    ontology.save(row, system=True)


def test_a_new_install_checks_main_backward_and_nothing_elsewhere():
    main = Branch.objects.get(name="main")  # made by the migrations
    assert main.compatibility_mode == "BACKWARD"
    assert Branch.objects.create(name="dev").compatibility_mode == "NONE"


def test_backward_refuses_a_rename_with_a_finding_and_allows_an_addition(main):
    set_mode(main, "BACKWARD")
    publish_release(main, None)
    edit(main, "Type1", api_name="Vessel")
    commit(main)
    with pytest.raises(CompatibilityError) as refused:
        publish_release(main, None)
    assert refused.value.http_status == 409 and refused.value.code == "compatibility"
    (finding,) = refused.value.findings
    assert finding["severity"] == "BLOCK"
    assert (finding["mode"], finding["release"], finding["entity"]) == (
        "BACKWARD",
        "1.0.0",
        "Vessel",
    )
    assert finding["kind"] == "renamed" and "MIGRATION_REQUIRED" in finding["reason"]
    assert Release.objects.count() == 1
    edit(main, "Vessel", api_name="Type1")
    edit(main, "Type0", description="documented")
    commit(main)
    assert publish_release(main, None).version == "1.0.1"


def test_overriding_needs_the_permission_and_is_recorded_in_the_event(main, releaser):
    set_mode(main, "FULL")
    publish_release(main, None)
    edit(main, "Type1", api_name="Vessel")
    commit(main)
    with pytest.raises(NotAllowedError) as denied:
        publish_release(main, releaser, override=True)
    assert denied.value.permission == "versioning.override_compatibility"
    boss = UserFactory(
        username="boss",
        permissions=["versioning.release_branch", "versioning.override_compatibility"],
    )
    with pytest.raises(CompatibilityError):
        publish_release(main, boss)  # no override asked: refused like anyone's
    release = publish_release(main, boss, override=True)
    assert release.version == "2.0.0"
    event = OutboxEvent.objects.get(type=releases.RELEASE_PUBLISHED, subject="releases/2.0.0")
    record = event.data["compatibilityOverride"]
    assert (record["by"], record["mode"], record["count"]) == ("boss", "FULL", 2)
    # FULL: the rename breaks both directions
    assert {(f["rule"], f["entity"]) for f in record["findings"]} == {
        ("backward", "Vessel"),
        ("forward", "Vessel"),
    }


def test_removing_an_active_entity_needs_a_release_that_deprecated_it(main):
    set_mode(main, "FORWARD")  # removals pass FORWARD: only the gate refuses them
    publish_release(main, None)
    delete_object_type(main, "Type2")
    commit(main)
    with pytest.raises(CompatibilityError) as refused:
        publish_release(main, None)
    (finding,) = refused.value.findings
    assert (finding["rule"], finding["entity"], finding["deprecateIn"]) == (
        "deprecation",
        "Type2",
        "1.0.1",
    )
    assert (
        "ACTIVE" in finding["reason"]
        and "Deprecate it in release 1.0.1 first" in (finding["reason"])
    )
    # bring it back, deprecate it, release that, then remove it
    services.revert_commit(main, main.head_id, None, system=True)
    main.refresh_from_db()
    edit(
        main,
        "Type2",
        status="DEPRECATED",
        deprecation_message="Use Type1",
        deprecation_deadline=DEADLINE,
    )
    commit(main)
    assert publish_release(main, None).version == "1.0.1"
    delete_object_type(main, "Type2")
    commit(main)
    assert publish_release(main, None).version == "2.0.0"


def test_the_gate_holds_on_a_protected_branch_under_none(main):
    """NONE checks no direction, but a protected branch keeps the deprecation lifecycle."""
    assert main.compatibility_mode == "NONE" and main.protected
    publish_release(main, None)
    edit(main, "Type1", api_name="Vessel")  # a direction's business: NONE lets it through
    delete_object_type(main, "Type2")
    commit(main)
    with pytest.raises(CompatibilityError) as refused:
        publish_release(main, None)
    assert [(f["mode"], f["rule"], f["entity"]) for f in refused.value.findings] == [
        ("NONE", "deprecation", "Type2")
    ]


def test_a_transitive_mode_checks_every_earlier_release(main):
    """1.0.0 has Type0.property1 as a deprecated string; 1.1.0 removes it; then it comes
    back as an integer: new to 1.1.0 (an addition), a type change to 1.0.0."""
    set_mode(main, "FORWARD_TRANSITIVE")
    name = prop_names(main)[1]
    change_prop(
        main,
        name,
        status="DEPRECATED",
        deprecation_message="going",
        deprecation_deadline=DEADLINE,
    )
    commit(main)
    publish_release(main, None)
    ontology.delete(prop(main, name), system=True)
    removal = commit(main)
    assert publish_release(main, None).version == "2.0.0"
    services.revert_commit(main, removal.id, None, system=True)
    main.refresh_from_db()
    change_prop(
        main,
        name,
        base_type="integer",
        status="ACTIVE",
        deprecation_message="",
        deprecation_deadline=None,
    )
    commit(main)
    with pytest.raises(CompatibilityError) as refused:
        publish_release(main, None)
    assert {(f["release"], f["rule"], f["kind"]) for f in refused.value.findings} == {
        ("1.0.0", "forward", "type_changed")
    }
    set_mode(main, "FORWARD")  # against the last release only: an addition
    assert publish_release(main, None).version == "2.1.0"


def prop_names(main: Branch) -> list[str]:
    return list(
        Property.objects.filter(branch=main, object_type__api_name="Type0")
        .order_by("position")
        .values_list("api_name", flat=True)
    )


def test_main_seeded_for_other_tests_checks_nothing():
    assert seed_main(2, link=False).compatibility_mode == "NONE"


def test_api_publish_refuses_with_findings_and_overrides_with_the_permission(main, releaser):
    from tests.versioning.test_api import client_for, error

    set_mode(main, "BACKWARD")
    publish_release(main, None)
    edit(main, "Type1", api_name="Vessel")
    commit(main)
    body = {"branch": "main"}
    refused = error(client_for(releaser).post("/api/v1/releases/", body, format="json"), 409)
    assert refused["code"] == "compatibility"
    assert [(f["mode"], f["entity"], f["kind"]) for f in refused["findings"]] == [
        ("BACKWARD", "Vessel", "renamed")
    ]
    denied = error(
        client_for(releaser).post("/api/v1/releases/", {**body, "override": True}, format="json"),
        403,
    )
    assert denied["permission"] == "versioning.override_compatibility"
    assert Release.objects.count() == 1
    boss = UserFactory(
        username="boss",
        permissions=["versioning.release_branch", "versioning.override_compatibility"],
    )
    done = client_for(boss).post("/api/v1/releases/", {**body, "override": True}, format="json")
    assert done.status_code == 201, done.content
    event = OutboxEvent.objects.get(type=releases.RELEASE_PUBLISHED, subject="releases/2.0.0")
    assert event.data["compatibilityOverride"]["by"] == "boss"
