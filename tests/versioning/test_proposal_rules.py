"""Who must approve: only a protected target needs an approval, from someone other than
the author; an unprotected one merges on the author's word. A target with uncommitted
changes takes no merge (its rows are about to be rewritten)."""

from __future__ import annotations

import pytest

from tests.versioning.support import edit, object_type, seed_main, steward
from versioning import services
from versioning.exceptions import InvalidStateError
from versioning.models import Commit, ProposalStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return steward("author")


def feature_into_dev(author):
    seed_main(2)
    dev = services.create_branch("dev", "main", author)
    feature = services.create_branch("feature", "dev", author)
    edit(feature, "Type0", description="from feature")
    work = services.commit_changes(feature, author, "feature work")
    return dev, feature, work


def test_an_unprotected_target_needs_no_approval(author):
    dev, _, work = feature_into_dev(author)
    proposal = services.open_proposal(services.get_branch("feature"), dev, "Feature", author)
    run = services.dry_run(proposal)
    assert not run["needsApproval"] and run["mergeable"] and run["approvals"] == []
    commit = services.merge_proposal(proposal, author)
    assert (commit.parent_id, commit.merge_parent_id) == (dev.head_id, work.id)
    assert object_type(dev, "Type0").description == "from feature"
    assert proposal.status == ProposalStatus.MERGED


def test_a_protected_target_needs_an_approval_by_someone_else(author):
    main = seed_main(2)
    dev = services.create_branch("dev", "main", author)
    edit(dev, "Type0", description="x")
    services.commit_changes(dev, author, "x")
    proposal = services.open_proposal(dev, main, "Dev", author)
    assert services.dry_run(proposal)["needsApproval"]
    with pytest.raises(InvalidStateError, match="approval"):
        services.merge_proposal(proposal, author)
    services.approve(proposal, steward("reviewer"))
    assert not services.dry_run(proposal)["needsApproval"]
    services.merge_proposal(proposal, author)  # the author may merge once approved
    assert object_type(main, "Type0").description == "x"


def test_a_target_with_uncommitted_changes_takes_no_merge(author):
    dev, feature, _ = feature_into_dev(author)
    proposal = services.open_proposal(feature, dev, "Feature", author)
    edit(dev, "Type1", description="uncommitted on the target")
    head, commits = dev.head_id, Commit.objects.count()
    with pytest.raises(InvalidStateError, match="uncommitted changes"):
        services.merge_proposal(proposal, author)
    dev.refresh_from_db()
    assert dev.head_id == head and Commit.objects.count() == commits
    assert object_type(dev, "Type0").description == ""
    assert object_type(dev, "Type1").description == "uncommitted on the target"
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN
