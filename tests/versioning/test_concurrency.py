"""Concurrency on PostgreSQL: threads with their own connections race for one head."""

import threading

import pytest
from django.db import connections

from tests.versioning.support import edit, rid_of, seed_main, steward
from versioning import services
from versioning.exceptions import InvalidStateError, StaleHeadError
from versioning.models import Branch, Commit, Proposal, WorkingChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(count, work):
    """Run ``work(i)`` in ``count`` threads released together; outcomes by index."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_twenty_concurrent_commits_to_one_head(postgres_db):
    seed_main(6, link=False)
    dev = services.create_branch("dev", "main", None)
    head = dev.head_id
    for i in range(6):
        edit(dev, f"Type{i}", description="edited")
    expected = {rid_of(dev, f"Type{i}") for i in range(6)}

    def commit(i):
        branch = Branch.objects.get(name="dev")
        return services.commit_changes(branch, None, f"commit {i}", expected_head=head)

    outcomes = race(20, commit)
    won = [o for o in outcomes if isinstance(o, Commit)]
    stale = [o for o in outcomes if isinstance(o, StaleHeadError)]
    assert len(won) == 1, outcomes
    assert len(stale) == 19, outcomes
    dev.refresh_from_db()
    assert dev.head_id == won[0].id and won[0].parent_id == head
    assert set(won[0].delta) == expected  # nothing lost
    assert Commit.objects.filter(branch_name="dev").count() == 1
    assert not WorkingChange.objects.filter(branch=dev).exists()
    docs = services.documents_at("dev", expected)
    assert {d["description"] for d in docs.values()} == {"edited"}


def test_commits_without_expected_head_serialise_and_lose_nothing(postgres_db):
    seed_main(8, link=False)
    dev = services.create_branch("dev", "main", None)

    def edit_and_commit(i):
        branch = Branch.objects.get(name="dev")
        edit(branch, f"Type{i}", description=f"by {i}")
        return services.commit_changes(branch, None, f"commit {i}", allow_empty=True)

    outcomes = race(8, edit_and_commit)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    dev.refresh_from_db()
    docs = services.documents_at("dev")
    assert sorted(d["description"] for d in docs.values()) == sorted(f"by {i}" for i in range(8))
    assert not WorkingChange.objects.filter(branch=dev).exists()


def test_two_concurrent_merges_of_one_proposal_write_one_merge_commit(postgres_db):
    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="merged once")
    services.commit_changes(dev, author, "work")
    proposal = services.open_proposal(dev, main, "Once", author)
    services.approve(proposal, reviewer)

    def merge(i):
        return services.merge_proposal(Proposal.objects.get(pk=proposal.pk), reviewer)

    outcomes = race(2, merge)
    won = [o for o in outcomes if isinstance(o, Commit)]
    refused = [o for o in outcomes if isinstance(o, InvalidStateError)]
    assert len(won) == 1 and len(refused) == 1, outcomes
    assert Commit.objects.filter(merge_parent__isnull=False).count() == 1
    main.refresh_from_db()
    assert main.head_id == won[0].id
    assert Proposal.objects.get(pk=proposal.pk).merge_commit_id == won[0].id


def edit_during_the_copy(monkeypatch, source: Branch) -> list[str]:
    """Make the next branch copy let another steward add an object type with properties
    to ``source`` (committed, on its own connection) between the copy's object type and
    property statements; the returned list receives the new object type's rid."""
    from ontology import workspace_copy as workspace
    from ontology.models import ObjectType
    from tests.factories import ObjectTypeFactory
    from versioning.changes import mark_changed

    added: list[str] = []

    def add_object_type():
        try:
            made = ObjectTypeFactory(branch=source, api_name="Concurrent", properties=2)
            mark_changed(source.pk, made.rid, "objectType")
            added.append(str(made.rid))
        finally:
            connections.close_all()

    copy_table = workspace._copy_table

    def copy_then_let_another_edit(cursor, params, model, deferred):
        copy_table(cursor, params, model, deferred)
        if model is ObjectType and not added:
            thread = threading.Thread(target=add_object_type)
            thread.start()
            thread.join(30)

    monkeypatch.setattr(workspace, "_copy_table", copy_then_let_another_edit)
    return added


def test_a_branch_copy_reads_one_snapshot_while_the_source_is_edited(postgres_db, monkeypatch):
    """Another steward adds an object type with properties to the source between the copy's
    object type and property statements: the copy holds the source as it was before, whole
    (read committed, the new properties would be copied without their object type)."""
    from ontology.documents import to_documents

    seed_main(3, link=False)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type0", description="uncommitted")
    before = to_documents(dev.pk)
    added = edit_during_the_copy(monkeypatch, dev)
    copy = services.create_branch("copy", "dev", None)

    assert added, "the concurrent edit did not run"
    assert added[0] in to_documents(dev.pk)
    assert to_documents(copy.pk) == before
    marks = {
        str(r) for r in WorkingChange.objects.filter(branch=copy).values_list("rid", flat=True)
    }
    assert marks == {rid_of(dev, "Type0")}


def test_the_admin_add_form_copies_in_one_snapshot_too(postgres_db, client, monkeypatch):
    """The admin's add page calls create_branch outside Django's wrapping transaction, so
    the copy is the outermost transaction and reads one snapshot: an object type added to
    the source mid-copy is not half copied (with the wrapping transaction it was, and the
    page failed with a NOT NULL violation)."""
    from django.urls import reverse

    from ontology.documents import to_documents
    from tests.versioning.support import steward

    seed_main(3, link=False)
    dev = services.create_branch("dev", "main", None)
    before = to_documents(dev.pk)
    added = edit_during_the_copy(monkeypatch, dev)
    admin_user = steward("admin-steward", is_staff=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:versioning_branch_add"),
        {"name": "copy", "create_from": "dev", "description": ""},
    )
    assert response.status_code == 302, response.content[:500]
    assert "/login/" not in response.url, response.url
    assert added, "the concurrent edit did not run"
    assert to_documents(Branch.objects.get(name="copy").pk) == before
