"""Every state change of versioning publishes its event through the outbox, in the same
transaction as the change: commit created (commits, merges, updates from target, reverts),
branch created / deleted, proposal opened / approved / merged / closed. A refused or
rolled-back operation publishes nothing."""

from __future__ import annotations

import pytest

import events
from events import registry
from events.models import OutboxEvent
from tests.versioning.support import edit, object_type, rid_of, seed_main, steward
from versioning import services
from versioning.exceptions import InvalidStateError, StaleHeadError, VersioningError
from versioning.models import Branch, Commit, ProposalStatus

pytestmark = pytest.mark.django_db

PREFIX = "com.oms.versioning"
COMMIT_CREATED = f"{PREFIX}.commit.created.v1"
BRANCH_CREATED = f"{PREFIX}.branch.created.v1"
BRANCH_DELETED = f"{PREFIX}.branch.deleted.v1"
OPENED = f"{PREFIX}.proposal.opened.v1"
APPROVED = f"{PREFIX}.proposal.approved.v1"
MERGED = f"{PREFIX}.proposal.merged.v1"
CLOSED = f"{PREFIX}.proposal.closed.v1"
RESOLVED = f"{PREFIX}.proposal.resolved.v1"


@pytest.fixture
def people():
    return steward("author"), steward("reviewer")


class Outbox:
    """The outbox rows written since the last call of :meth:`new`."""

    def __init__(self) -> None:
        self.seen = set(OutboxEvent.objects.values_list("pk", flat=True))

    def new(self) -> list[OutboxEvent]:
        rows = list(OutboxEvent.objects.exclude(pk__in=self.seen).order_by("created_at", "pk"))
        self.seen.update(r.pk for r in rows)
        return rows


def only(rows: list[OutboxEvent], type: str) -> OutboxEvent:
    assert [r.type for r in rows] == [type], [r.type for r in rows]
    assert registry.validate(type, rows[0].data) == []  # the catalogue's schema
    return rows[0]


def test_the_names_in_the_issue_are_registered_types():
    types = (
        COMMIT_CREATED,
        BRANCH_CREATED,
        BRANCH_DELETED,
        OPENED,
        APPROVED,
        MERGED,
        CLOSED,
        RESOLVED,
    )
    for type in types:
        assert registry.get(type) is not None, type


def test_branch_created_and_deleted(people):
    author, _ = people
    main = seed_main(2)
    outbox = Outbox()
    dev = services.create_branch("dev", "main", author)
    event = only(outbox.new(), BRANCH_CREATED)
    assert event.subject == "branches/dev" and event.branch == "dev"
    assert event.commit == main.head_id
    assert event.data == {"branch": "dev", "from": "main", "head": main.head_id, "actor": "author"}

    services.create_branch("old", main.head_id[:9], None)
    event = only(outbox.new(), BRANCH_CREATED)
    assert event.data["from"] == main.head_id[:9] and event.data["actor"] is None

    services.delete_branch(dev, author)
    event = only(outbox.new(), BRANCH_DELETED)
    assert event.subject == "branches/dev"
    assert event.data == {"branch": "dev", "head": main.head_id, "actor": "author"}


def test_commit_created_names_the_commit_its_parents_and_changed_entities(people):
    author, _ = people
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="x")
    edit(dev, "Type1", description="y")
    outbox = Outbox()
    commit = services.commit_changes(dev, author, "Describe two types")
    event = only(outbox.new(), COMMIT_CREATED)
    assert event.subject == f"branches/dev/commits/{commit.id}"
    assert (event.branch, event.commit) == ("dev", commit.id)
    assert event.data == {
        "branch": "dev",
        "commit": commit.id,
        "parents": [main.head_id],
        "author": "author",
        "message": "Describe two types",
        "changed": 2,
        "deleted": 0,
        "rids": sorted([rid_of(dev, "Type0"), rid_of(dev, "Type1")]),
        "truncated": False,
    }


def test_refused_commits_publish_nothing(people):
    author, _ = people
    seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="x")
    outbox = Outbox()
    with pytest.raises(StaleHeadError):
        services.commit_changes(dev, author, "late", expected_head="0" * 64)
    assert outbox.new() == []


def test_proposal_lifecycle_events(people):
    author, reviewer = people
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="from dev")
    work = services.commit_changes(dev, author, "work")
    outbox = Outbox()

    proposal = services.open_proposal(dev, main, "Describe Type0", author)
    event = only(outbox.new(), OPENED)
    assert event.subject == f"proposals/{proposal.pk}" and event.branch == "main"
    assert event.data == {
        "proposal": proposal.pk,
        "title": "Describe Type0",
        "source": "dev",
        "target": "main",
        "status": "open",
        "actor": "author",
    }

    services.approve(proposal, reviewer)
    event = only(outbox.new(), APPROVED)
    assert (event.data["status"], event.data["actor"]) == ("approved", "reviewer")

    merge = services.merge_proposal(proposal, reviewer)
    rows = outbox.new()
    assert [r.type for r in rows] == [COMMIT_CREATED, MERGED]
    commit_event, merged = rows
    assert commit_event.data["commit"] == merge.id
    assert commit_event.data["parents"] == [main.head_id, work.id]  # two parents
    assert commit_event.data["branch"] == "main"
    assert merged.commit == merge.id
    assert merged.data["status"] == "merged" and merged.data["mergeCommit"] == merge.id
    assert registry.validate(MERGED, merged.data) == []


def test_resolving_a_conflict_publishes_resolved_and_a_refused_resolution_nothing(people):
    author, _ = people
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="from dev")
    services.commit_changes(dev, author, "dev side")
    edit(main, "Type0", description="from main")
    services.commit_changes(main, None, "main side", system=True)
    proposal = services.open_proposal(dev, main, "Describe Type0", author)
    conflict = services.dry_run(proposal)["conflicts"][0]
    assert conflict["severity"] == "ERROR"
    outbox = Outbox()

    services.resolve(proposal, conflict["id"], "theirs", None, author)
    event = only(outbox.new(), RESOLVED)
    assert event.subject == f"proposals/{proposal.pk}" and event.branch == "main"
    assert event.data["conflictId"] == conflict["id"]
    assert (event.data["severity"], event.data["choice"], event.data["actor"]) == (
        "ERROR",
        "theirs",
        "author",
    )
    services.resolve(proposal, conflict["id"], None, None, author)
    assert only(outbox.new(), RESOLVED).data["choice"] is None

    with pytest.raises(VersioningError):
        services.resolve(proposal, "no-such-conflict", "ours", None, author)
    assert outbox.new() == []


def test_closing_publishes_closed_and_a_refused_close_nothing(people):
    author, _ = people
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    proposal = services.open_proposal(dev, main, "Nothing", author)
    outbox = Outbox()
    services.close_proposal(proposal, author)
    event = only(outbox.new(), CLOSED)
    assert event.data["status"] == "closed" and event.data["actor"] == "author"
    with pytest.raises(InvalidStateError):
        services.close_proposal(proposal, author)
    assert outbox.new() == []


def test_update_from_target_and_revert_publish_commit_created(people):
    author, reviewer = people
    seed_main(3)
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)
    edit(other, "Type1", description="main moved")
    services.commit_changes(other, author, "other")
    first = services.open_proposal(other, services.get_branch("main"), "Other", author)
    services.approve(first, reviewer)
    services.merge_proposal(first, reviewer)
    edit(dev, "Type0", description="dev work")
    work = services.commit_changes(dev, author, "work")
    proposal = services.open_proposal(dev, services.get_branch("main"), "Dev", author)
    outbox = Outbox()

    update = services.update_from_target(proposal, author)
    event = only(outbox.new(), COMMIT_CREATED)
    assert event.data["branch"] == "dev" and event.data["commit"] == update.id
    assert len(event.data["parents"]) == 2

    revert = services.revert_commit(dev, work.id, author)
    event = only(outbox.new(), COMMIT_CREATED)
    assert event.data["commit"] == revert.id and event.data["parents"] == [update.id]
    assert event.data["rids"] == [rid_of(dev, "Type0")]


def test_a_merge_is_one_transaction_with_its_events(people, monkeypatch):
    """If publishing the merged event fails, nothing of the merge stays: not the target's
    rows, not the merge commit, not the head, not the proposal's status, not the commit
    event written before it."""
    author, reviewer = people
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="from dev")
    services.commit_changes(dev, author, "work")
    proposal = services.open_proposal(dev, main, "Describe", author)
    services.approve(proposal, reviewer)
    commits = Commit.objects.count()
    outbox = Outbox()

    publish = events.publish

    def failing(type, *args, **kwargs):
        publish(type, *args, **kwargs)
        if type == MERGED:
            raise RuntimeError("the outbox is full")

    monkeypatch.setattr(events, "publish", failing)
    with pytest.raises(RuntimeError):
        services.merge_proposal(proposal, reviewer)

    assert outbox.new() == []
    assert Commit.objects.count() == commits
    assert Branch.objects.get(name="main").head_id == main.head_id
    assert object_type(main, "Type0").description == ""
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED and proposal.merge_commit_id is None
