"""Laws of the three-way merge, checked on generated ontologies."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ontology.merge_policy import OntologyPolicy
from versioning.domain import Resolution, Severity, merge3

from .builders import apply
from .strategies import edited, edits, trees

POLICIES = st.sampled_from([None, OntologyPolicy()])


@st.composite
def scenarios(draw):
    base = draw(trees())
    ours = edited(base, draw(edits(base)))
    theirs = edited(base, draw(edits(base)))
    return base, ours, theirs


def merged_tree(base, ours, theirs, policy=None):
    result = merge3(base, ours, theirs, policy)
    return result, apply(ours, result.tree_changes)


def not_block(result):
    return [c for c in result.conflicts if c.severity is not Severity.BLOCK]


@settings(max_examples=300, deadline=None)
@given(scenarios(), POLICIES)
def test_merging_with_an_unchanged_side_returns_the_other_side(scenario, policy):
    base, ours, theirs = scenario
    result, tree = merged_tree(base, base, theirs, policy)
    assert tree == theirs and not_block(result) == []
    result, tree = merged_tree(base, ours, base, policy)
    assert tree == ours and result.tree_changes == {} and not_block(result) == []


@settings(max_examples=300, deadline=None)
@given(scenarios(), POLICIES)
def test_identical_changes_never_conflict(scenario, policy):
    base, ours, _ = scenario
    result, tree = merged_tree(base, ours, dict(ours), policy)
    assert tree == ours
    assert {c.severity for c in not_block(result)} <= {Severity.INFO}


def mirrored(conflict):
    return (
        conflict.id,
        conflict.kind,
        conflict.severity,
        conflict.base,
        conflict.theirs,
        conflict.ours,
    )


def plain(conflict):
    return (
        conflict.id,
        conflict.kind,
        conflict.severity,
        conflict.base,
        conflict.ours,
        conflict.theirs,
    )


@settings(max_examples=500, deadline=None)
@given(scenarios())
def test_merge_is_symmetric_up_to_sides(scenario):
    base, ours, theirs = scenario
    one, tree_one = merged_tree(base, ours, theirs)
    two, tree_two = merged_tree(base, theirs, ours)
    if one.can_merge:
        assert tree_one == tree_two
    collisions = ("add_add", "rename_collision")
    provisional = [c for c in one.conflicts if not c.resolved and c.kind not in collisions]
    keep = (lambda c: True) if not provisional else (lambda c: c.kind not in collisions)
    assert sorted(mirrored(c) for c in one.conflicts if keep(c)) == sorted(
        plain(c) for c in two.conflicts if keep(c)
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_choosing_a_side_for_every_conflict_converges(scenario):
    base, ours, theirs = scenario
    choices = {}
    for _ in range(4):
        result = merge3(base, ours, theirs, resolutions=choices)
        if result.can_merge:
            return
        choices |= {c.id: Resolution("theirs") for c in result.conflicts if not c.resolved}
    raise AssertionError(f"still unresolved: {[c.id for c in result.conflicts if not c.resolved]}")


@settings(max_examples=300, deadline=None)
@given(scenarios(), POLICIES)
def test_naming_the_rids_theirs_left_alone_changes_nothing(scenario, policy):
    """``ours_only`` (what callers with content hashes pass) is a shortcut, not a rule: the
    result is the one merge3 finds by comparing documents."""
    base, ours, theirs = scenario
    changed = set(base) | set(ours) | set(theirs)
    ours_only = [r for r in changed if theirs.get(r) == base.get(r)]
    full = merge3(base, ours, theirs, policy, changed=changed)
    short = merge3(base, ours, theirs, policy, changed=changed, ours_only=ours_only)
    assert short.tree_changes == full.tree_changes
    assert [c.to_dict() for c in short.conflicts] == [c.to_dict() for c in full.conflicts]
