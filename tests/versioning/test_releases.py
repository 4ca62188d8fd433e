"""Releases: publishing (bumps, refusals, event), release refs everywhere, compaction."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from guardian.shortcuts import assign_perm

from events import registry
from events.models import OutboxEvent
from tests.factories import UserFactory, ValueTypeFactory
from tests.versioning.support import delete_object_type, edit, rid_of, seed_main
from versioning import compaction, permissions, releases, services
from versioning.changes import mark_changed
from versioning.exceptions import InvalidStateError, UnknownRefError, VersioningError
from versioning.models import Branch, Commit, Release, ReleaseImmutableError
from versioning.releases import DuplicateReleaseError, preview, publish_release

pytestmark = pytest.mark.django_db


def commit_on_main(main: Branch, message: str = "change") -> Commit:
    commit = services.commit_changes(main, None, message, system=True)
    main.refresh_from_db()
    return commit


def add_value_type(main: Branch, name: str = "Code") -> None:
    vt = ValueTypeFactory(branch=main, api_name=name)
    mark_changed(main.pk, vt.rid, "valueType")


def test_first_release_is_1_0_0_lists_everything_and_publishes_its_event(main, releaser):
    release = publish_release(main, releaser, notes=" First cut ")
    assert release.version == "1.0.0"
    assert release.commit_id == main.head_id
    assert release.branch_name == "main" and release.previous is None
    assert release.author_name == "releaser" and release.notes == "First cut"
    assert release.compatibility == "BACKWARD_COMPATIBLE"
    assert sorted(c["entity"] for c in release.changelog) == [
        "Type0",
        "Type1",
        "Type2",
        "typeLink",
    ]
    assert {c["kind"] for c in release.changelog} == {"added"}
    assert release.migration_plan == []
    assert registry.get(releases.RELEASE_PUBLISHED) is not None  # in the catalogue
    event = OutboxEvent.objects.get(type=releases.RELEASE_PUBLISHED)
    assert event.subject == "releases/1.0.0"
    assert event.data == {
        "version": "1.0.0",
        "branch": "main",
        "commit": main.head_id,
        "previousVersion": None,
        "compatibility": "BACKWARD_COMPATIBLE",
        "counts": {
            "COMPATIBLE": 0,
            "BACKWARD_COMPATIBLE": 4,
            "MIGRATION_REQUIRED": 0,
            "INCOMPATIBLE": 0,
        },
        "migrationSteps": 0,
        "author": "releaser",
    }


def test_the_worst_change_decides_the_bump(main):
    publish_release(main, None)
    edit(main, "Type0", description="documented")
    commit_on_main(main)
    patch = publish_release(main, None)
    assert (patch.version, patch.compatibility) == ("1.0.1", "COMPATIBLE")
    assert patch.previous.version == "1.0.0"
    assert [c["kind"] for c in patch.changelog] == ["description_changed"]

    add_value_type(main)
    edit(main, "Type1", display_name="Shown")
    commit_on_main(main)
    minor = publish_release(main, None)
    assert (minor.version, minor.compatibility) == ("1.1.0", "BACKWARD_COMPATIBLE")

    edit(main, "Type1", api_name="Vessel")
    # deprecated in the release before its removal: main is protected (the lifecycle)
    edit(
        main,
        "Type2",
        status="DEPRECATED",
        deprecation_message="Use Vessel",
        deprecation_deadline=datetime.date(2027, 6, 30),
    )
    commit_on_main(main)
    major = publish_release(main, None)
    assert (major.version, major.compatibility) == ("2.0.0", "MIGRATION_REQUIRED")
    assert major.migration_plan == [
        {
            "step": 1,
            "action": "rename",
            "from": "Type1",
            "to": "Vessel",
            "entity": "Vessel",
            "rid": rid_of(main, "Vessel"),
            "compatibility": "MIGRATION_REQUIRED",
            "message": "The object type Type1 is now called Vessel.",
        }
    ]

    delete_object_type(main, "Type2")
    commit_on_main(main)
    removal = publish_release(main, None)
    assert (removal.version, removal.compatibility) == ("3.0.0", "INCOMPATIBLE")
    assert [s["action"] for s in removal.migration_plan] == ["remove"]


def test_a_steward_may_choose_a_higher_version_never_a_lower_one(main):
    first = publish_release(main, None, version="v0.9.0")
    assert first.version == "0.9.0"  # a first release may be any version
    edit(main, "Type1", api_name="Vessel")
    commit_on_main(main)
    # below 1.0.0 a breaking change bumps the minor
    assert preview("main").suggested_version == "0.10.0"
    with pytest.raises(VersioningError) as lower:
        publish_release(main, None, version="0.9.1")
    assert lower.value.field == "version" and "at least 0.10.0" in str(lower.value)
    with pytest.raises(VersioningError) as same:
        publish_release(main, None, version="0.8.5")
    assert same.value.field == "version" and "not above" in str(same.value)
    with pytest.raises(DuplicateReleaseError):
        publish_release(main, None, version="0.9.0")
    for bad in ("1.0", "latest", "1.0.0+build.5", "01.0.0", "2.0.0-" + "x" * 100):
        with pytest.raises(VersioningError) as invalid:
            publish_release(main, None, version=bad)
        assert invalid.value.field == "version" and invalid.value.http_status == 400
    with pytest.raises(VersioningError):
        publish_release(main, None, version="0.9.1-rc.1")
    candidate = publish_release(main, None, version="1.0.0-rc.1")
    assert candidate.compatibility == "MIGRATION_REQUIRED"
    edit(main, "Type0", description="polish")
    commit_on_main(main)
    # from a pre-release, its final version is the next one
    assert preview("main").suggested_version == "1.0.0"
    chosen = publish_release(main, None)
    assert (chosen.version, chosen.compatibility) == ("1.0.0", "COMPATIBLE")
    assert chosen.previous_id == candidate.pk


def test_refusals(main):
    dev = services.create_branch("dev", "main", None)
    with pytest.raises(InvalidStateError) as unprotected:
        publish_release(dev, None)
    assert unprotected.value.field == "branch" and unprotected.value.http_status == 409
    with pytest.raises(UnknownRefError):
        publish_release("nowhere", None)
    with pytest.raises(UnknownRefError):
        publish_release(main, None, commit="f" * 64)
    # a commit that is not on the branch
    edit(dev, "Type0", description="dev only")
    off_branch = services.commit_changes(dev, None, "dev")
    with pytest.raises(InvalidStateError) as elsewhere:
        publish_release(main, None, commit=off_branch.id)
    assert elsewhere.value.field == "commit"
    # uncommitted changes on the branch: name the commit or commit them
    edit(main, "Type0", description="not committed")
    with pytest.raises(InvalidStateError) as dirty:
        publish_release(main, None)
    assert dirty.value.field == "commit"
    release = publish_release(main, None, commit=main.head_id)
    assert release.commit_id == main.head_id
    commit_on_main(main)
    # the same commit twice, a version taken, an older commit
    with pytest.raises(DuplicateReleaseError):
        publish_release(main, None, commit=release.commit_id)
    with pytest.raises(DuplicateReleaseError) as taken:
        publish_release(main, None, version="1.0.0")
    assert taken.value.http_status == 409
    assert Release.objects.count() == 1
    assert not OutboxEvent.objects.filter(
        type=releases.RELEASE_PUBLISHED, subject__contains="1.0.1"
    ).exists()


def test_an_older_commit_than_the_previous_release_is_refused(main):
    old = main.head_id
    edit(main, "Type0", description="later")
    commit_on_main(main)
    publish_release(main, None)
    with pytest.raises(InvalidStateError) as older:
        publish_release(main, None, commit=old)
    assert "previous release" in str(older.value)


def test_a_branch_without_commits_has_nothing_to_release():
    Branch.objects.create(name="empty", protected=True)
    with pytest.raises(InvalidStateError):
        publish_release("empty", None)


def test_releases_are_immutable(main):
    release = publish_release(main, None)
    release.notes = "rewritten"
    with pytest.raises(ReleaseImmutableError):
        release.save()
    with pytest.raises(ReleaseImmutableError):
        release.delete()
    assert Release.objects.get().notes == ""


def test_release_branch_permission_through_has_branch_perm(main):
    user = UserFactory()
    assert not permissions.has_branch_perm(user, "release_branch", main)
    assign_perm("versioning.release_branch", user, main)
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    assert permissions.has_branch_perm(user, "release_branch", main)
    other = Branch.objects.create(name="lts", protected=True)
    assert not permissions.has_branch_perm(user, "release_branch", other)


# --- a release is a ref -----------------------------------------------------------------------


def test_a_release_names_its_commit_everywhere(main):
    first = publish_release(main, None)
    edit(main, "Type0", description="after 1.0.0")
    commit_on_main(main)
    second = publish_release(main, None)
    for ref in ("1.0.0", "v1.0.0", "V1.0.0"):
        assert services.commit_id_of(ref) == first.commit_id
        assert services.resolve_ref(ref).id == first.commit_id
    rid = rid_of(main, "Type0")
    assert services.documents_at("1.0.0", [rid])[rid]["description"] == ""
    assert services.documents_at("v1.0.1", [rid])[rid]["description"] == "after 1.0.0"
    diff = services.diff("1.0.0", "1.0.1")
    assert [(c.api_name, c.change) for c in diff.changes] == [("Type0", "modified")]
    branch = services.create_branch("hotfix", "v1.0.0", None)
    assert branch.head_id == first.commit_id and branch.created_from == "v1.0.0"
    assert services.documents_at("hotfix") == services.documents_at("1.0.0")
    assert second.previous_id == first.pk
    with pytest.raises(UnknownRefError):
        services.resolve_ref("9.9.9")


def test_compatibility_between_any_two_refs(main):
    publish_release(main, None)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type1", api_name="Vessel")
    services.commit_changes(dev, None, "rename")
    found = preview("dev", since="v1.0.0")
    assert found.compatibility.value == "MIGRATION_REQUIRED"
    assert (found.bump, found.suggested_version) == ("major", "2.0.0")
    assert found.to_dict()["fromVersion"] == "1.0.0"
    between_branches = preview("dev", since="main")
    assert between_branches.suggested_version is None
    assert between_branches.bump == "major"
    nothing = preview("main", since="1.0.0")
    assert nothing.changes == [] and nothing.bump is None
    assert nothing.compatibility.value == "COMPATIBLE"
    with pytest.raises(UnknownRefError):
        preview("main", since="2.0.0")


def test_compaction_keeps_released_commits(main):
    tmp = services.create_branch("tmp", "main", None)
    edit(tmp, "Type1", description="released from an archived line")
    kept = services.commit_changes(tmp, None, "kept")
    edit(tmp, "Type1", description="later")
    services.commit_changes(tmp, None, "later")
    # a release of a commit that is no head: only the release keeps it
    Release.objects.create(
        version="5.0.0",
        commit=kept,
        branch_name="tmp",
        created_at=kept.created_at,
        compatibility="COMPATIBLE",
    )
    services.archive_branch(tmp, None)
    services.delete_branch(Branch.objects.get(name="tmp"), None)
    report = compaction.run(older_than=timedelta(0), grace=timedelta(0))
    assert report.unreachable_commits == 1  # "later"
    assert Commit.objects.filter(id=kept.id).exists()
    assert services.documents_at("5.0.0")[rid_of(main, "Type1")]["description"] == (
        "released from an archived line"
    )


# --- concurrency (PostgreSQL row locks and the unique version) ---------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_one_wins(postgres_db):
    from tests.versioning.test_concurrency import race

    seed_main(2)
    lts = services.create_branch("lts", "main", None)
    Branch.objects.filter(pk=lts.pk).update(protected=True)

    outcomes = race(4, lambda i: publish_release("main", None, notes=str(i)))
    won = [o for o in outcomes if isinstance(o, Release)]
    lost = [o for o in outcomes if isinstance(o, DuplicateReleaseError)]
    assert len(won) == 1 and len(lost) == 3, outcomes
    assert Release.objects.count() == 1

    # two branches (two row locks) racing for one version: the unique index decides
    main = Branch.objects.get(name="main")
    edit(main, "Type0", description="next")
    commit_on_main(main)
    outcomes = race(2, lambda i: publish_release(["main", "lts"][i], None, version="7.0.0"))
    assert Release.objects.filter(version="7.0.0").count() == 1
    errors = [o for o in outcomes if isinstance(o, DuplicateReleaseError)]
    assert len(errors) == 1 and errors[0].field == "version", outcomes
    assert OutboxEvent.objects.filter(type=releases.RELEASE_PUBLISHED).count() == 2
