"""Proposals: dry run, ERROR resolution, BLOCK refusal, approvals, merge, update from
target, close; revert of a commit."""

import pytest

from ontology.documents import to_documents
from tests.versioning.support import (
    delete_object_type,
    edit,
    link,
    object_type,
    rid_of,
    seed_main,
    steward,
)
from versioning import services
from versioning.exceptions import (
    InvalidStateError,
    NotAllowedError,
    UnresolvedConflictsError,
    VersioningError,
)
from versioning.models import Commit, ProposalStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return steward("author"), steward("reviewer")


def merged_into_main(branch, author, reviewer, title="Change"):
    main = services.get_branch("main")
    proposal = services.open_proposal(branch, main, title, author)
    services.approve(proposal, reviewer)
    return proposal, services.merge_proposal(proposal, reviewer)


def test_clean_merge_writes_one_merge_commit_and_updates_main_rows(people):
    author, reviewer = people
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="from dev")
    dev_commit = services.commit_changes(dev, author, "describe")
    proposal = services.open_proposal(dev, main, "Describe Type0", author)
    run = services.dry_run(proposal)
    assert run["canMerge"] and run["needsApproval"] and not run["mergeable"]
    assert [c["rid"] for c in run["diff"]] == [rid_of(dev, "Type0")]
    with pytest.raises(InvalidStateError):
        services.merge_proposal(proposal, author)  # no approval yet
    with pytest.raises(NotAllowedError):
        services.approve(proposal, author)
    services.approve(proposal, reviewer)
    assert services.dry_run(proposal)["mergeable"]
    commit = services.merge_proposal(proposal, reviewer)
    assert (commit.parent_id, commit.merge_parent_id) == (main.head_id, dev_commit.id)
    main.refresh_from_db()
    proposal.refresh_from_db()
    assert main.head_id == commit.id and proposal.status == ProposalStatus.MERGED
    assert proposal.merge_commit_id == commit.id
    assert object_type(main, "Type0").description == "from dev"
    assert to_documents(main.pk) == services.documents_at("main")
    with pytest.raises(InvalidStateError):
        services.merge_proposal(proposal, reviewer)


def test_commits_pushed_after_an_approval_need_a_new_one(people):
    author, reviewer = people
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="reviewed")
    services.commit_changes(dev, author, "the reviewed change")
    proposal = services.open_proposal(dev, main, "Describe Type0", author)
    services.approve(proposal, reviewer)
    assert services.dry_run(proposal)["mergeable"]

    edit(dev, "Type1", description="slipped in after the review")
    later = services.commit_changes(dev, author, "after the approval")
    run = services.dry_run(proposal)
    assert run["needsApproval"] and not run["mergeable"] and run["approvals"] == []
    with pytest.raises(InvalidStateError, match="latest commit"):
        services.merge_proposal(proposal, reviewer)
    main.refresh_from_db()
    assert object_type(main, "Type1").description == ""

    services.approve(proposal, reviewer)  # the reviewer looks again and approves
    assert services.dry_run(proposal)["approvals"] == ["reviewer"]
    commit = services.merge_proposal(proposal, reviewer)
    assert commit.merge_parent_id == later.id
    assert object_type(main, "Type1").description == "slipped in after the review"


def test_error_conflict_needs_a_resolution_then_merges_the_choice(people):
    author, reviewer = people
    seed_main(3)
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)
    edit(other, "Type0", display_name="Theirs first")
    services.commit_changes(other, author, "other name")
    merged_into_main(other, author, reviewer)
    edit(dev, "Type0", display_name="Ours later")
    services.commit_changes(dev, author, "dev name")
    main = services.get_branch("main")
    proposal = services.open_proposal(dev, main, "Rename display", author)
    services.approve(proposal, reviewer)
    run = services.dry_run(proposal)
    (conflict,) = [c for c in run["conflicts"] if c["severity"] == "ERROR"]
    assert conflict["path"] == ["displayName"]
    assert (conflict["ours"], conflict["theirs"]) == ("Theirs first", "Ours later")
    assert not run["canMerge"]
    with pytest.raises(UnresolvedConflictsError) as caught:
        services.merge_proposal(proposal, reviewer)
    assert caught.value.http_status == 409
    assert caught.value.extra["conflicts"][0]["id"] == conflict["id"]
    with pytest.raises(VersioningError):
        services.resolve(proposal, "nope", "ours", None, reviewer)
    with pytest.raises(VersioningError):
        services.resolve(proposal, conflict["id"], "maybe", None, reviewer)
    services.resolve(proposal, conflict["id"], "value", "Edited", reviewer)
    run = services.dry_run(proposal)
    assert run["canMerge"] and run["conflicts"][0]["resolution"] == {
        "choice": "value",
        "value": "Edited",
    }
    services.merge_proposal(proposal, reviewer)
    assert object_type(main, "Type0").display_name == "Edited"


def test_block_conflict_refuses_the_merge(people):
    """dev links to an object type that main deleted meanwhile: BLOCK, no resolution."""
    author, reviewer = people
    seed_main(3)
    cleanup = services.create_branch("cleanup", "main", author)
    dev = services.create_branch("dev", "main", author)
    delete_object_type(cleanup, "Type2")
    services.commit_changes(cleanup, author, "drop Type2")
    merged_into_main(cleanup, author, reviewer, "Drop Type2")
    link(dev, "toType2", "Type0", "Type2")
    services.commit_changes(dev, author, "link to Type2")
    main = services.get_branch("main")
    proposal = services.open_proposal(dev, main, "Link", author)
    services.approve(proposal, reviewer)
    run = services.dry_run(proposal)
    blocks = [c for c in run["conflicts"] if c["severity"] == "BLOCK"]
    assert blocks and blocks[0]["kind"] == "dangling_reference"
    assert not run["canMerge"]
    with pytest.raises(InvalidStateError):
        services.resolve(proposal, blocks[0]["id"], "theirs", None, reviewer)
    head = main.head_id
    with pytest.raises(UnresolvedConflictsError):
        services.merge_proposal(proposal, reviewer)
    main.refresh_from_db()
    assert main.head_id == head
    assert Commit.objects.filter(merge_parent__isnull=False).count() == 1  # cleanup only


def test_update_from_target_brings_main_into_the_source(people):
    author, reviewer = people
    seed_main(3)
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)
    edit(other, "Type1", description="from other")
    services.commit_changes(other, author, "other")
    merged_into_main(other, author, reviewer)
    edit(dev, "Type0", description="from dev")
    services.commit_changes(dev, author, "dev")
    main = services.get_branch("main")
    proposal = services.open_proposal(dev, main, "Dev", author)
    edit(dev, "Type2", description="uncommitted")
    with pytest.raises(InvalidStateError):
        services.update_from_target(proposal, author)
    services.commit_changes(dev, author, "more")
    commit = services.update_from_target(proposal, author)
    assert commit.merge_parent_id == main.head_id
    assert object_type(dev, "Type1").description == "from other"
    assert object_type(dev, "Type0").description == "from dev"
    with pytest.raises(InvalidStateError):
        services.update_from_target(proposal, author)  # already up to date
    run = services.dry_run(proposal)
    assert run["base"] == main.head_id and run["conflicts"] == []


def test_update_from_target_uses_the_stored_resolutions(people):
    author, reviewer = people
    seed_main(2, link=False)
    other = services.create_branch("other", "main", author)
    dev = services.create_branch("dev", "main", author)
    edit(other, "Type0", display_name="Main's")
    services.commit_changes(other, author, "other")
    merged_into_main(other, author, reviewer)
    edit(dev, "Type0", display_name="Dev's")
    services.commit_changes(dev, author, "dev")
    proposal = services.open_proposal(dev, services.get_branch("main"), "Dev", author)
    with pytest.raises(UnresolvedConflictsError):
        services.update_from_target(proposal, author)
    (conflict,) = services.dry_run(proposal)["conflicts"]
    services.resolve(proposal, conflict["id"], "ours", None, author)  # keep main's (target)
    services.update_from_target(proposal, author)
    assert object_type(dev, "Type0").display_name == "Main's"


def test_close_proposal(people):
    author, _ = people
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    proposal = services.open_proposal(dev, main, "Nothing", author)
    with pytest.raises(InvalidStateError):
        services.open_proposal(dev, main, "Twice", author)
    services.close_proposal(proposal, author)
    assert proposal.status == ProposalStatus.CLOSED
    with pytest.raises(InvalidStateError):
        services.approve(proposal, steward("other"))


def test_revert_commit_applies_the_inverse_delta(people):
    author, _ = people
    seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="oops")
    bad = services.commit_changes(dev, author, "oops")
    edit(dev, "Type1", description="keep")
    services.commit_changes(dev, author, "keep")
    revert = services.revert_commit(dev, bad.id, author)
    assert revert.message.startswith('Revert "oops"')
    assert object_type(dev, "Type0").description == ""
    assert object_type(dev, "Type1").description == "keep"
    assert list(revert.delta) == [rid_of(dev, "Type0")]
    assert services.changes(dev).changes == []


def test_revert_conflicting_with_later_changes_is_refused(people):
    author, _ = people
    seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="first")
    first = services.commit_changes(dev, author, "first")
    edit(dev, "Type0", description="second")
    services.commit_changes(dev, author, "second")
    with pytest.raises(UnresolvedConflictsError):
        services.revert_commit(dev, first.id, author)
