"""Commits: dirty set -> delta, no-op changes dropped, checkpoints, compare-and-set."""

import datetime

import pytest

from ontology import services as ontology
from tests.factories import BranchFactory, ObjectTypeFactory
from tests.versioning.support import delete_object_type, edit, object_type, rid_of, seed_main
from versioning import services, store
from versioning.exceptions import (
    NothingToCommitError,
    ProtectedBranchError,
    StaleHeadError,
    UnknownRefError,
)
from versioning.models import Blob, Commit, TreeEntry, WorkingChange
from versioning.services import commits

pytestmark = pytest.mark.django_db


def test_first_commit_snapshots_the_whole_working_copy_as_a_checkpoint():
    main = seed_main(3)
    head = main.head
    assert head.parent_id is None and head.generation == 1 and head.is_checkpoint
    assert len(head.delta) == 4  # 3 object types + 1 link type
    assert TreeEntry.objects.filter(commit=head).count() == 4
    assert services.tree_at(head) == head.delta
    assert not WorkingChange.objects.filter(branch=main).exists()


def test_commit_reads_only_the_dirty_set_and_drops_no_op_changes():
    main = seed_main(3)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", display_name="Changed")
    edit(dev, "Type1", display_name="Temporary")
    edit(dev, "Type1", display_name="Type1")  # back to the committed document: a no-op
    commit = services.commit_changes(dev, None, "Rename display name")
    assert commit.parent_id == main.head_id
    assert list(commit.delta) == [rid_of(dev, "Type0")]
    assert not WorkingChange.objects.filter(branch=dev).exists()
    dev.refresh_from_db()
    assert dev.head_id == commit.id
    doc = services.documents_at("dev", [rid_of(dev, "Type0")])[rid_of(dev, "Type0")]
    assert doc["displayName"] == "Changed"
    # main still reads the old document
    assert services.documents_at("main")[rid_of(dev, "Type0")]["displayName"] == "Type0"


def test_commit_ids_are_content_addressed_and_blobs_shared():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    blobs_before = Blob.objects.count()
    edit(dev, "Type0", description="x")
    commit = services.commit_changes(dev, None, "describe")
    assert len(commit.id) == 64
    assert commit.id == store.commit_id(
        [commit.parent_id], commit.delta, "system", "describe", commit.created_at
    )
    assert Blob.objects.count() == blobs_before + 1


def test_nothing_to_commit_is_refused_and_allow_empty_returns_the_head():
    main = seed_main(2)
    with pytest.raises(NothingToCommitError):
        services.commit_changes(main, None, "nothing", system=True)
    assert services.commit_changes(main, None, "nothing", system=True, allow_empty=True) == (
        main.head
    )


def test_protected_branch_refuses_commits_unless_system():
    main = seed_main(2)
    edit(main, "Type0", description="hotfix")
    with pytest.raises(ProtectedBranchError):
        services.commit_changes(main, None, "direct")
    head = main.head_id
    assert services.commit_changes(main, None, "loader", system=True).parent_id == head


def test_stale_expected_head_is_refused_and_nothing_is_lost():
    main = seed_main(2)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", description="mine")
    with pytest.raises(StaleHeadError) as caught:
        services.commit_changes(dev, None, "late", expected_head="0" * 64)
    assert caught.value.http_status == 409
    assert caught.value.extra["actualHead"] == main.head_id
    assert WorkingChange.objects.filter(branch=dev).count() == 1
    dev.refresh_from_db()
    assert dev.head_id == main.head_id
    commit = services.commit_changes(dev, None, "on time", expected_head=main.head_id)
    assert rid_of(dev, "Type0") in commit.delta


def test_checkpoints_bound_the_walk_and_trees_stay_right(settings):
    settings.OMS_VERSIONING_CHECKPOINT_EVERY = 3
    seed_main(3, link=False)
    dev = services.create_branch("dev", "main", None)
    rid = rid_of(dev, "Type2")
    commits = []
    for i in range(7):
        edit(dev, "Type2", description=f"v{i}")
        commits.append(services.commit_changes(dev, None, f"v{i}"))
    assert [c.is_checkpoint for c in commits] == [False, False, True, False, False, True, False]
    for i, commit in enumerate(commits):
        doc = services.documents_at(commit.id, [rid])[rid]
        assert doc["description"] == f"v{i}"
        assert len(services.tree_at(commit)) == 3
    chain = store._chain_to_checkpoint(commits[-1].id)
    assert [n.id for n in chain] == [commits[-1].id, commits[-2].id]


def test_deleting_an_entity_commits_a_null_and_history_reads_it():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    rid = rid_of(dev, "Type2")
    ontology.delete(object_type(dev, "Type2"))
    commit = services.commit_changes(dev, None, "drop Type2")
    assert commit.delta == {rid: None}
    assert rid not in services.tree_at(commit)
    history = services.entity_history("dev", rid)
    assert [h["change"] for h in history] == ["removed", "added"]


def test_resolve_ref_by_branch_commit_and_prefix():
    main = seed_main(2)
    assert services.resolve_ref("main") == main.head
    assert services.resolve_ref(main.head_id) == main.head
    assert services.resolve_ref(main.head_id[:7]) == main.head
    with pytest.raises(UnknownRefError):
        services.resolve_ref("nope")
    with pytest.raises(UnknownRefError):
        services.resolve_ref(main.head_id[:6])
    BranchFactory(name="empty")
    with pytest.raises(UnknownRefError):
        services.resolve_ref("empty")


def test_branch_history_is_first_parent_and_paginated():
    main = seed_main(2)
    dev = services.create_branch("dev", "main", None)
    for i in range(4):
        edit(dev, "Type0", description=f"v{i}")
        services.commit_changes(dev, None, f"v{i}")
    page = services.history("dev", limit=3)
    assert [c.message for c in page] == ["v3", "v2", "v1"]
    rest = services.history("dev", limit=3, after=page[-1].id)
    assert [c.message for c in rest] == ["v0", "Initial ontology"]
    assert rest[-1].id == main.head_id


def test_first_commit_of_a_branch_built_by_rows():
    branch = BranchFactory(name="fresh")
    ObjectTypeFactory(branch=branch, api_name="Lonely", properties=1)
    commit = services.commit_changes(branch, None, "first")
    assert commit.is_checkpoint and len(commit.delta) == 1
    assert Commit.objects.count() == 1


def test_clearing_marks_keeps_one_an_edit_touched_after_it_was_read():
    seed_main(2)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", description="x")
    edit(dev, "Type1", description="y")
    marks = list(WorkingChange.objects.filter(branch=dev).values_list("pk", "rid", "changed_at"))
    assert len(marks) == 2
    touched = marks[0]
    WorkingChange.objects.filter(pk=touched[0]).update(
        changed_at=touched[2] + datetime.timedelta(seconds=1)
    )
    commits._clear_marks(marks)
    assert list(WorkingChange.objects.filter(branch=dev).values_list("pk", flat=True)) == [
        touched[0]
    ]


def test_tree_names_match_the_documents_without_reading_them():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", api_name="Renamed")
    services.commit_changes(dev, None, "rename")
    delete_object_type(dev, "Type1")
    services.commit_changes(dev, None, "delete")
    dev.refresh_from_db()
    view = store.TreeView(dev.head_id)
    docs = services.documents_at("dev")
    assert view.names() == {rid: (d["kind"], d["apiName"]) for rid, d in docs.items()}
    assert list(view.names()) == list(docs)
    assert view._all is None and view._hashes == {}  # no document was looked up


def test_blob_documents_read_back_exactly(db):
    from versioning.domain.canonical import canonical_bytes, doc_hash

    doc = {
        "kind": "valueType",
        "apiName": "Big",
        "big": 2**70,
        "enum": {"values": [1.5, 0.1, 10**30, -0.0, 1e30, 1e-7]},
        "s": "é",
    }
    hashes = store.write_blobs({"r": doc})
    assert hashes == {"r": doc_hash(doc)}
    read = store.blobs([doc_hash(doc)])[doc_hash(doc)]
    assert canonical_bytes(read) == canonical_bytes(doc)  # -0.0 and 1e30 too: no JSONB
    blob = Blob.objects.get(hash=doc_hash(doc))
    assert (blob.kind, blob.api_name, blob.size) == ("valueType", "Big", len(canonical_bytes(doc)))
