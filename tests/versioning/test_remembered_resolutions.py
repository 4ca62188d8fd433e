"""A conflict resolved once is resolved the same way when it comes back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.versioning.support import edit, object_type, seed_main, steward
from versioning import services
from versioning.exceptions import UnresolvedConflictsError
from versioning.models import RememberedResolution

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides():
    """main and dev both changed Type0's description since dev was made."""
    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    edit(main, "Type0", description="main's")
    services.commit_changes(main, None, "main's", system=True)
    edit(dev, "Type0", description="dev's")
    services.commit_changes(dev, author, "dev's")
    return main, dev, author, reviewer


def the_conflict(run):
    (conflict,) = [c for c in run["conflicts"] if c["severity"] == "ERROR"]
    return conflict


def test_a_new_proposal_meets_the_conflict_resolved_as_before(sides):
    main, dev, author, reviewer = sides
    first = services.open_proposal(dev, main, "First", author)
    conflict = the_conflict(services.dry_run(first))
    assert conflict["remembered"] is None and not conflict["resolved"]
    services.resolve(first, conflict["id"], "theirs", None, author)
    services.close_proposal(first, author)

    second = services.open_proposal(dev, main, "Again", author)
    again = the_conflict(services.dry_run(second))
    today = timezone.now().date().isoformat()
    assert again["resolved"] and again["resolution"] == {"choice": "theirs"}
    assert again["remembered"]["note"] == f"resolved as before by author on {today}"
    assert again["remembered"]["by"] == "author"
    services.approve(second, reviewer)
    services.merge_proposal(second, reviewer)  # no choice stored on this proposal
    assert object_type(main, "Type0").description == "dev's"


def test_other_values_are_another_conflict(sides):
    main, dev, author, reviewer = sides
    first = services.open_proposal(dev, main, "First", author)
    services.resolve(first, the_conflict(services.dry_run(first))["id"], "theirs", None, author)
    services.close_proposal(first, author)
    edit(dev, "Type0", description="dev's second thought")
    services.commit_changes(dev, author, "rethink")
    second = services.open_proposal(dev, main, "Again", author)
    conflict = the_conflict(services.dry_run(second))
    assert conflict["remembered"] is None and not conflict["resolved"]
    services.approve(second, reviewer)
    with pytest.raises(UnresolvedConflictsError):
        services.merge_proposal(second, reviewer)


def test_a_steward_overrides_a_remembered_resolution(sides):
    main, dev, author, reviewer = sides
    first = services.open_proposal(dev, main, "First", author)
    cid = the_conflict(services.dry_run(first))["id"]
    services.resolve(first, cid, "theirs", None, author)
    services.close_proposal(first, author)
    second = services.open_proposal(dev, main, "Again", author)
    services.resolve(second, cid, "ours", None, reviewer)
    conflict = the_conflict(services.dry_run(second))
    assert conflict["remembered"] is None and conflict["resolution"] == {"choice": "ours"}
    assert RememberedResolution.objects.get().choice == "ours"  # remembered anew
    services.approve(second, reviewer)
    services.merge_proposal(second, reviewer)
    assert object_type(main, "Type0").description == "main's"


def test_update_from_target_applies_it_the_other_way_round(sides):
    main, dev, author, _ = sides
    first = services.open_proposal(dev, main, "First", author)
    services.resolve(first, the_conflict(services.dry_run(first))["id"], "theirs", None, author)
    services.close_proposal(first, author)
    second = services.open_proposal(dev, main, "Again", author)
    services.update_from_target(second, author)  # no choice stored on this proposal
    assert object_type(dev, "Type0").description == "dev's"  # theirs = the source's side
    assert not [c for c in services.dry_run(second)["conflicts"] if c["severity"] == "ERROR"]


def test_forgetting_a_choice_forgets_it_for_later_proposals(sides):
    main, dev, author, _ = sides
    first = services.open_proposal(dev, main, "First", author)
    cid = the_conflict(services.dry_run(first))["id"]
    services.resolve(first, cid, "theirs", None, author)
    services.resolve(first, cid, None, None, author)
    assert not RememberedResolution.objects.exists()
    assert the_conflict(services.dry_run(first))["remembered"] is None


def test_a_conflict_is_the_same_only_with_the_same_path_base_ours_and_theirs():
    from versioning.resolutions import fingerprint

    same = {"id": "rid:description", "base": "", "ours": "main's", "theirs": "dev's"}
    key = fingerprint(same)
    assert fingerprint(dict(same)) == key
    for field, other in (
        ("id", "rid:displayName"),
        ("base", "old"),
        ("ours", "main's too"),
        ("theirs", "dev's too"),
    ):
        assert fingerprint({**same, field: other}) != key, field
    # met the other way round (update from target): ours and theirs swap
    swapped = {**same, "ours": same["theirs"], "theirs": same["ours"]}
    assert fingerprint(swapped, flip=True) == key
