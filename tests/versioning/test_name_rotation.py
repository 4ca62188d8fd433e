"""Entities that swap (or rotate) their api names on a branch: a legitimate change, made
step by step through a temporary name, that the dry run finds mergeable.

Writing it onto another branch's rows (merge, revert, discard, a branch from a commit
over a donor's copied rows) needs every renamed row to let go of its old name before the
others take it, under the unique ``(branch, lower(api_name))`` index:
``ontology.workspace.apply`` parks renamed rows under temporary names first (found by the
issue-3 audit, where these tests were strict xfails).
"""

from __future__ import annotations

import pytest

from ontology import services as ontology
from ontology.models import Property
from tests.versioning.support import edit, object_type, seed_main, steward
from versioning import services

pytestmark = pytest.mark.django_db


def rotate(branch, user):
    """Type0 -> Type1 -> Type2 -> Type0, through a temporary name, committed."""
    edit(branch, "Type0", api_name="Tmp")
    edit(branch, "Type1", api_name="Type0")
    edit(branch, "Type2", api_name="Type1")
    edit(branch, "Tmp", api_name="Type2")
    return services.commit_changes(branch, user, "Rotate names")


def names(branch) -> dict[str, str]:
    return {str(object_type(branch, f"Type{i}").rid): f"Type{i}" for i in range(3)}


def test_merging_a_rotation_of_names():
    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    rotate(dev, author)
    proposal = services.open_proposal(dev, main, "Rotate", author)
    services.approve(proposal, reviewer)
    assert services.dry_run(proposal)["mergeable"]
    services.merge_proposal(proposal, reviewer)
    assert names(main) == names(dev)


def test_reverting_a_rotation_of_names():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    before = names(dev)
    rotated = rotate(dev, None)
    services.revert_commit(dev, rotated.id, None)
    assert names(dev) == before


def test_discarding_a_rotation_of_names():
    seed_main(3)
    dev = services.create_branch("dev", "main", None)
    before = names(dev)
    edit(dev, "Type0", api_name="Tmp")
    edit(dev, "Type1", api_name="Type0")
    edit(dev, "Tmp", api_name="Type1")
    services.discard_changes(dev, None)
    assert names(dev) == before


def rename_property(branch, old: str, new: str) -> None:
    prop = Property.objects.get(branch=branch, object_type__api_name="Type0", api_name=old)
    prop.api_name = new
    ontology.save(prop)


def test_merging_a_swap_of_property_names():
    author, reviewer = steward("author"), steward("reviewer")
    main = seed_main(3)
    dev = services.create_branch("dev", "main", author)
    first, second = Property.objects.filter(branch=dev, object_type__api_name="Type0").order_by(
        "position"
    )[:2]
    a, b = first.api_name, second.api_name
    rename_property(dev, a, "tmp")
    rename_property(dev, b, a)
    rename_property(dev, "tmp", b)
    services.commit_changes(dev, author, "Swap two property names")
    proposal = services.open_proposal(dev, main, "Swap", author)
    services.approve(proposal, reviewer)
    assert services.dry_run(proposal)["mergeable"]
    services.merge_proposal(proposal, reviewer)
    on_main = Property.objects.filter(branch=main, object_type__api_name="Type0")
    assert on_main.get(rid=first.rid).api_name == b


def test_a_branch_from_a_commit_whose_names_are_rotated_against_every_branch():
    """The closest branch's rows are copied, then the rotated names written over them."""
    seed_main(8)  # 3 renamed of 9: few enough for a set-based copy of a donor branch
    dev = services.create_branch("dev", "main", None)
    rotated = rotate(dev, None)
    expected = names(dev)
    edit(dev, "Type0", api_name="Tmp")  # and back: main and dev both differ from `rotated`
    edit(dev, "Type2", api_name="Type0")
    edit(dev, "Type1", api_name="Type2")
    edit(dev, "Tmp", api_name="Type1")
    services.commit_changes(dev, None, "Rotate back")
    old = services.create_branch("old", rotated.id, None)
    assert names(old) == expected
