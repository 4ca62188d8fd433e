"""Branches (from a branch, from a commit), delete/archive, diff and uncommitted changes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ontology.documents import to_documents
from ontology.models import ObjectType
from tests.factories import ObjectTypeFactory, UserFactory
from tests.versioning.support import delete_object_type, edit, rid_of, seed_main
from versioning import services
from versioning.changes import mark_changed
from versioning.exceptions import InvalidStateError, ProtectedBranchError, UnknownRefError
from versioning.models import Branch, WorkingChange
from versioning.releases import publish_release
from versioning.services import branches

pytestmark = pytest.mark.django_db


def test_branch_from_branch_copies_rows_head_and_dirty_set():
    main = seed_main(3)
    ann = UserFactory(username="ann", permissions=["versioning.add_branch"])
    dev = services.create_branch("dev", "main", ann)
    edit(dev, "Type0", description="uncommitted")
    feature = services.create_branch("feature/x", "dev", None)
    assert feature.head_id == main.head_id
    assert feature.created_from == "dev"
    assert to_documents(feature.pk) == to_documents(dev.pk)
    assert list(WorkingChange.objects.filter(branch=feature).values_list("rid", flat=True)) == [
        object_type(dev).rid
    ]


def object_type(branch):
    return ObjectType.objects.get(branch=branch, api_name="Type0")


def test_branch_from_commit_materialises_that_commit():
    main = seed_main(3)
    first = main.head_id
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", display_name="Later")
    services.commit_changes(dev, None, "later")
    old = services.create_branch("old", first[:10], None)
    assert old.head_id == first
    assert to_documents(old.pk) == services.documents_at(first)
    assert object_type(old).display_name == "Type0"


def _copied(ctx) -> bool:
    """Whether the branch's properties were copied from another branch's rows."""
    return any(
        q["sql"].startswith("INSERT INTO ontology_property") and "src.branch_id" in q["sql"]
        for q in ctx.captured_queries
    )


def test_branch_from_an_older_commit_copies_the_closest_rows_then_fixes_what_differs():
    main = seed_main(12)  # five of its thirteen documents will differ: worth copying
    first = main.head_id
    # main moves on: one change, one rename, one deletion, one new entity, merged by a system
    # commit; then main gets uncommitted changes too (its rows differ from its head)
    edit(main, "Type0", description="changed later")
    edit(main, "Type1", api_name="Renamed1")
    delete_object_type(main, "Type2")
    added = ObjectTypeFactory(branch=main, api_name="AddedLater", properties=2)
    mark_changed(main.pk, added.rid, "objectType")  # as the ontology's services do
    services.commit_changes(main, None, "later", system=True)
    edit(main, "Type3", display_name="uncommitted on main")
    with CaptureQueriesContext(connection) as ctx:
        old = services.create_branch("old", first, None)
    assert old.head_id == first
    assert to_documents(old.pk) == services.documents_at(first)
    assert not WorkingChange.objects.filter(branch=old).exists()
    # main's rows were copied set-based, not written document by document
    assert _copied(ctx)
    # and main is untouched
    assert object_type(main).description == "changed later"


def test_branch_from_a_release_is_its_tree_exactly():
    main = seed_main(3)
    release = publish_release(main, None)
    edit(main, "Type0", display_name="after the release")
    services.commit_changes(main, None, "after", system=True)
    branch = services.create_branch("hotfix", release.version, None)
    assert branch.head_id == release.commit_id
    assert to_documents(branch.pk) == services.documents_at(release.commit_id)
    assert object_type(branch).display_name == "Type0"


def test_branch_from_a_commit_far_from_every_branch_writes_its_documents(monkeypatch):
    main = seed_main(3)
    first = main.head_id
    edit(main, "Type0", description="later")
    services.commit_changes(main, None, "later", system=True)
    # no donor close enough: the commit's documents are written one by one
    monkeypatch.setattr(branches, "_DONOR_MAX_SHARE", 0.0)
    with CaptureQueriesContext(connection) as ctx:
        old = services.create_branch("old", first, None)
    assert not _copied(ctx)
    assert to_documents(old.pk) == services.documents_at(first)


def test_branch_names_are_validated_and_unique():
    seed_main(1)
    with pytest.raises(ValidationError) as caught:
        services.create_branch("bad name", "main", None)
    assert "name" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.create_branch("main", "main", None)
    with pytest.raises(UnknownRefError):
        services.create_branch("x", "nowhere", None)


def test_delete_branch_rules():
    main = seed_main(2)
    with pytest.raises(ProtectedBranchError):
        services.delete_branch(main, None)
    dev = services.create_branch("dev", "main", None)
    proposal = services.open_proposal(dev, main, "Work", None)
    with pytest.raises(InvalidStateError):
        services.delete_branch(dev, None)
    services.close_proposal(proposal, None)
    services.delete_branch(dev, None)
    assert not Branch.objects.filter(name="dev").exists()
    assert not ObjectType.objects.filter(branch_id=dev.pk).exists()
    proposal.refresh_from_db()
    assert proposal.source_id is None and proposal.source_name == "dev"


def test_archived_branch_refuses_commits():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", description="x")
    services.archive_branch(dev, None)
    with pytest.raises(ProtectedBranchError):
        services.commit_changes(dev, None, "nope")


def test_diff_is_rename_aware_and_field_level():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", api_name="Renamed", description="new words")
    services.commit_changes(dev, None, "rename")
    changes = services.diff("main", "dev").changes
    assert len(changes) == 1
    change = changes[0]
    assert change.change == "renamed"
    assert (change.old_api_name, change.api_name) == ("Type0", "Renamed")
    assert {f.path for f in change.fields} == {("apiName",), ("description",)}
    back = services.diff("dev", "main").changes[0]
    assert (back.old_api_name, back.api_name) == ("Renamed", "Type0")
    assert services.diff("main", "main").changes == []


def test_diff_between_diverged_branches_reads_both_sides():
    seed_main(3)
    left = services.create_branch("left", "main", None)
    right = services.create_branch("right", "main", None)
    edit(left, "Type0", description="left")
    services.commit_changes(left, None, "left")
    edit(right, "Type1", description="right")
    services.commit_changes(right, None, "right")
    changed = {c.rid: c for c in services.diff("left", "right").changes}
    assert set(changed) == {rid_of(left, "Type0"), rid_of(left, "Type1")}


def test_uncommitted_changes_against_the_head():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    assert services.changes(dev).changes == []
    edit(dev, "Type1", display_name="Shown")
    (change,) = services.changes(dev).changes
    assert change.change == "modified"
    assert [f.to_dict() for f in change.fields] == [
        {"path": ["displayName"], "old": "Type1", "new": "Shown"}
    ]
