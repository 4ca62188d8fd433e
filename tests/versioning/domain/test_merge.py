import json

from versioning.domain import (
    MISSING,
    MergedView,
    Problem,
    Resolution,
    Severity,
    merge3,
)

from .builders import apply, object_type, prop, with_changes, with_prop

FLIGHT = object_type("ot1", "Flight", {"p1": prop("flightNumber"), "p2": prop("seats", "short")})
PLANE = object_type("ot2", "Plane", {"q1": prop("tail")})
BASE = {"ot1": FLIGHT, "ot2": PLANE}


def merged(base, ours, theirs, **kw):
    result = merge3(base, ours, theirs, **kw)
    return result, apply(ours, result.tree_changes)


def only(result, **attrs):
    found = [c for c in result.conflicts if all(getattr(c, k) == v for k, v in attrs.items())]
    assert len(found) == 1, result.conflicts
    return found[0]


def test_disjoint_changes_merge_cleanly():
    ours = {**BASE, "ot1": with_changes(FLIGHT, description="ours")}
    theirs = {**BASE, "ot2": with_changes(PLANE, icon="jet")}
    result, tree = merged(BASE, ours, theirs)
    assert result.conflicts == [] and result.can_merge
    assert tree == {"ot1": ours["ot1"], "ot2": theirs["ot2"]}
    assert result.tree_changes == {"ot2": theirs["ot2"]}


def test_changes_inside_one_document_merge_by_key():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", description="ours")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p2", required=True)}
    result, tree = merged(BASE, ours, theirs)
    assert result.conflicts == []
    assert tree["ot1"]["properties"]["p1"]["description"] == "ours"
    assert tree["ot1"]["properties"]["p2"]["required"] is True


def test_set_members_added_on_both_sides_union():
    ours = {**BASE, "ot1": with_changes(FLIGHT, interfaces={"i1": True})}
    theirs = {**BASE, "ot1": with_changes(FLIGHT, interfaces={"i2": True})}
    _, tree = merged(BASE, ours, theirs)
    assert tree["ot1"]["interfaces"] == {"i1": True, "i2": True}


def test_add_entities_and_children_on_both_sides():
    ours = {**BASE, "ot3": object_type("ot3", "Gate")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p3", **prop("gate"))}
    result, tree = merged(BASE, ours, theirs)
    assert result.conflicts == []
    assert set(tree) == {"ot1", "ot2", "ot3"} and "p3" in tree["ot1"]["properties"]


def test_same_change_on_both_sides_is_info():
    changed = with_changes(FLIGHT, description="same")
    result, tree = merged(BASE, {**BASE, "ot1": changed}, {**BASE, "ot1": changed})
    conflict = only(result)
    assert (conflict.severity, conflict.path, conflict.id) == (Severity.INFO, (), "ot1:")
    assert result.can_merge and tree["ot1"] == changed


def test_modify_modify_is_error_and_keeps_ours_until_resolved():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", displayName="Ours")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p1", displayName="Theirs")}
    result, tree = merged(BASE, ours, theirs)
    conflict = only(result)
    assert conflict.kind == "modify_modify" and conflict.severity is Severity.ERROR
    assert conflict.id == "ot1:properties.p1.displayName"
    assert conflict.path == ("properties", "p1", "displayName")
    assert (conflict.base, conflict.ours, conflict.theirs) == ("flightNumber", "Ours", "Theirs")
    assert conflict.api_name == "Flight.flightNumber" and conflict.entity_kind == "objectType"
    assert not result.can_merge
    assert tree["ot1"]["properties"]["p1"]["displayName"] == "Ours"


def test_modify_modify_mirrors_when_sides_swap():
    ours = {**BASE, "ot1": with_changes(FLIGHT, icon="a")}
    theirs = {**BASE, "ot1": with_changes(FLIGHT, icon="b")}
    one = only(merge3(BASE, ours, theirs))
    two = only(merge3(BASE, theirs, ours))
    assert one.id == two.id and (one.ours, one.theirs) == (two.theirs, two.ours)


def test_resolutions_are_applied():
    ours = {**BASE, "ot1": with_changes(FLIGHT, icon="a", description="x")}
    theirs = {**BASE, "ot1": with_changes(FLIGHT, icon="b", description="y")}
    choices = {
        "ot1:icon": Resolution("theirs"),
        "ot1:description": Resolution("value", "edited"),
    }
    result, tree = merged(BASE, ours, theirs, resolutions=choices)
    assert result.can_merge
    assert (tree["ot1"]["icon"], tree["ot1"]["description"]) == ("b", "edited")
    assert {c.resolution for c in result.conflicts} == set(choices.values())


def test_delete_modify_both_ways():
    deleted = {"ot2": PLANE}
    modified = {**BASE, "ot1": with_changes(FLIGHT, description="d")}
    for ours, theirs, expected in ((deleted, modified, None), (modified, deleted, "d")):
        result, tree = merged(BASE, ours, theirs)
        conflict = only(result)
        assert (conflict.kind, conflict.severity, conflict.path) == (
            "delete_modify",
            Severity.ERROR,
            (),
        )
        assert (tree.get("ot1") or {}).get("description") == expected
    result, tree = merged(BASE, deleted, modified, resolutions={"ot1:": Resolution("theirs")})
    assert result.can_merge and tree["ot1"]["description"] == "d"


def test_delete_modify_of_a_child():
    props = dict(FLIGHT["properties"])
    del props["p2"]
    ours = {**BASE, "ot1": with_changes(FLIGHT, properties=props)}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p2", baseType="integer")}
    result, tree = merged(BASE, ours, theirs)
    conflict = only(result)
    assert conflict.kind == "delete_modify" and conflict.path == ("properties", "p2")
    assert conflict.ours is None and "p2" not in tree["ot1"]["properties"]


def test_delete_on_one_side_unchanged_on_other_deletes():
    result, tree = merged(BASE, BASE, {"ot1": FLIGHT})
    assert result.conflicts == [] and "ot2" not in tree
    assert result.tree_changes == {"ot2": None}
    assert result.get("ot2") is None and result.get("ot1") == FLIGHT


def test_add_add_same_api_name_top_level_both_ways():
    ours = {**BASE, "a": object_type("a", "Gate")}
    theirs = {**BASE, "b": object_type("b", "GATE")}
    for o, t, kept in ((ours, theirs, "a"), (theirs, ours, "b")):
        result, tree = merged(BASE, o, t)
        conflict = only(result)
        assert (conflict.kind, conflict.severity, conflict.id) == (
            "add_add",
            Severity.ERROR,
            "a:apiName~b",
        )
        assert set(tree) == {"ot1", "ot2", kept}
    result, tree = merged(BASE, ours, theirs, resolutions={"a:apiName~b": Resolution("theirs")})
    assert result.can_merge and set(tree) == {"ot1", "ot2", "b"}
    result, tree = merged(
        BASE, ours, theirs, resolutions={"a:apiName~b": Resolution("value", "G2")}
    )
    assert result.can_merge and tree["b"]["apiName"] == "G2" and tree["a"]["apiName"] == "Gate"


def test_same_api_name_in_different_kinds_is_fine():
    ours = {**BASE, "a": object_type("a", "Gate")}
    theirs = {**BASE, "b": {**object_type("b", "Gate"), "kind": "valueType"}}
    assert merge3(BASE, ours, theirs).conflicts == []


def test_rename_collision_top_level():
    ours = {**BASE, "ot1": with_changes(FLIGHT, apiName="Craft")}
    theirs = {**BASE, "ot2": with_changes(PLANE, apiName="craft")}
    result, tree = merged(BASE, ours, theirs)
    conflict = only(result)
    assert (conflict.kind, conflict.severity) == ("rename_collision", Severity.ERROR)
    assert conflict.ours == {"rid": "ot1", "apiName": "Craft"}
    assert conflict.theirs == {"rid": "ot2", "apiName": "craft"}
    assert tree["ot2"]["apiName"] == "Plane"
    result, tree = merged(BASE, ours, theirs, resolutions={conflict.id: Resolution("theirs")})
    assert result.can_merge
    assert (tree["ot1"]["apiName"], tree["ot2"]["apiName"]) == ("Flight", "craft")


def test_child_add_add_and_rename_collision():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "pa", **prop("gate"))}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "pb", **prop("Gate"))}
    result, tree = merged(BASE, ours, theirs)
    conflict = only(result)
    assert conflict.kind == "add_add" and conflict.path == ("properties", "pa", "apiName")
    assert conflict.id == "ot1:properties.pa.apiName~pb"
    assert set(tree["ot1"]["properties"]) == {"p1", "p2", "pa"}

    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", apiName="seatCount")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p2", apiName="seatcount")}
    result, tree = merged(BASE, ours, theirs)
    conflict = only(result)
    assert conflict.kind == "rename_collision"
    assert tree["ot1"]["properties"]["p2"]["apiName"] == "seats"


def test_one_add_against_two_renames_collides_with_each_both_ways():
    """Found by hypothesis: ours adds ``Beta``; theirs renames both types to ``Beta``.

    Settling the first pair used to hide the second in one orientation only (the added entry
    was dropped there, the renamed one merely renamed back), so merge was not symmetric.
    """
    base = {"ot0": object_type("ot0", "alpha0"), "ot1": object_type("ot1", "alpha1")}
    ours = {**base, "n1": object_type("n1", "Beta")}
    theirs = {
        "ot0": with_changes(base["ot0"], apiName="Beta"),
        "ot1": with_changes(base["ot1"], apiName="Beta"),
    }
    expected = {
        "n1:apiName~ot0": ({"rid": "n1", "apiName": "Beta"}, {"rid": "ot0", "apiName": "Beta"}),
        "n1:apiName~ot1": ({"rid": "n1", "apiName": "Beta"}, {"rid": "ot1", "apiName": "Beta"}),
    }
    one, tree_one = merged(base, ours, theirs)
    two, tree_two = merged(base, theirs, ours)
    for result, mirror in ((one, False), (two, True)):
        found = {}
        for c in result.conflicts:
            assert (c.kind, c.severity) == ("rename_collision", Severity.ERROR)
            found[c.id] = (c.theirs, c.ours) if mirror else (c.ours, c.theirs)
        assert found == expected
    # provisionally ours: the incoming claims yield, no duplicate apiName in either tree
    assert [tree_one[r]["apiName"] for r in ("n1", "ot0", "ot1")] == ["Beta", "alpha0", "alpha1"]
    assert set(tree_two) == {"ot0", "ot1"}
    assert {tree_two[r]["apiName"] for r in ("ot0", "ot1")} == {"Beta"}  # theirs' own problem
    # settling each pair converges, and both orders agree once all are chosen
    keep_n1 = {cid: Resolution("ours") for cid in expected}
    result, tree = merged(base, ours, theirs, resolutions=keep_n1)
    assert result.can_merge and tree == tree_one
    drop_n1 = {cid: Resolution("theirs") for cid in expected}
    result, tree = merged(base, ours, theirs, resolutions=drop_n1)
    assert result.can_merge and set(tree) == {"ot0", "ot1"}
    assert tree == theirs
    mixed = {"n1:apiName~ot0": Resolution("ours"), "n1:apiName~ot1": Resolution("theirs")}
    result, tree = merged(base, ours, theirs, resolutions=mixed)
    assert result.can_merge and "n1" not in tree and tree["ot0"]["apiName"] == "alpha0"


def test_swapped_rename_between_sides_is_not_a_collision():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", description="x")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p2", description="y")}
    assert merge3(BASE, ours, theirs).conflicts == []


class StubPolicy:
    """Takes the larger number on conflicts; forbids the description 'bad'."""

    def __init__(self):
        self.validated = None

    def resolve(self, entity_kind, path, base, ours, theirs):
        if path[-1:] == ("position",) and isinstance(ours, int) and isinstance(theirs, int):
            return Resolution("value", max(ours, theirs))
        return None

    def validate_tree(self, tree, changed):
        self.validated = (tree, set(changed))
        return [
            Problem(rid, ("description",), "rule_violation", "bad description")
            for rid in changed
            if rid in tree and tree[rid]["description"] in ("bad", "ours, bad")
        ]


def test_strategy_resolution_is_warn_and_can_be_overridden():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", position=3)}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p1", position=5)}
    result, tree = merged(BASE, ours, theirs, policy=StubPolicy())
    conflict = only(result)
    assert conflict.severity is Severity.WARN and conflict.proposed == Resolution("value", 5)
    assert result.can_merge and tree["ot1"]["properties"]["p1"]["position"] == 5
    override = {conflict.id: Resolution("ours")}
    _, tree = merged(BASE, ours, theirs, policy=StubPolicy(), resolutions=override)
    assert tree["ot1"]["properties"]["p1"]["position"] == 3


def test_policy_problems_are_block_and_validation_gets_what_the_merge_changes():
    """The policy checks the documents the merge changes on ours (with the view to read
    their neighbours from): a problem there is a BLOCK. A document only ours changed lands
    nothing new and is not checked again: it was checked when it was written on ours."""
    ours = {**BASE, "ot1": with_changes(FLIGHT, description="ours, bad")}
    theirs = {**BASE, "ot2": with_changes(PLANE, description="bad")}
    policy = StubPolicy()
    result = merge3(BASE, ours, theirs, policy)
    conflict = only(result)
    assert (conflict.severity, conflict.kind, conflict.rid) == (
        Severity.BLOCK,
        "rule_violation",
        "ot2",
    )
    assert not result.can_merge and result.validated
    view, changed = policy.validated
    assert changed == {"ot2"} and view["ot1"]["description"] == "ours, bad"


def test_changed_restricts_the_walk():
    ours = {**BASE, "ot1": with_changes(FLIGHT, description="o")}
    theirs = {**BASE, "ot2": with_changes(PLANE, description="t")}
    result = merge3(BASE, ours, theirs, changed={"ot2"})
    assert result.tree_changes == {"ot2": theirs["ot2"]}


def test_inputs_are_not_mutated():
    ours = {**BASE, "ot1": with_prop(FLIGHT, "p1", description="o")}
    theirs = {**BASE, "ot1": with_prop(FLIGHT, "p2", description="t")}
    before = json.dumps([BASE, ours, theirs], sort_keys=True)
    merge3(BASE, ours, theirs)
    assert json.dumps([BASE, ours, theirs], sort_keys=True) == before


def test_result_is_json_serialisable():
    ours = {**BASE, "ot1": with_changes(FLIGHT, icon="a"), "x": object_type("x", "X")}
    theirs = {"ot1": with_changes(FLIGHT, icon="b"), "y": object_type("y", "x")}
    data = json.loads(json.dumps(merge3(BASE, ours, theirs).to_dict()))
    assert data["canMerge"] is False
    assert {c["kind"] for c in data["conflicts"]} == {"modify_modify", "add_add"}
    assert data["counts"]["ERROR"] == 2


def test_merged_view_overlays_changes():
    view = MergedView({"a": 1, "b": 2}, {"b": None, "c": 3, "a": 4})
    assert dict(view.items()) == {"a": 4, "c": 3}
    assert "b" not in view and "c" in view and len(view) == 2 and view.previous("b") == 2
    assert view.get("b", MISSING) is MISSING


def test_merged_view_names_follow_items_and_use_ours_names_when_it_has_them():
    class Ours(dict):
        def names(self):
            return {rid: ("objectType", doc["apiName"]) for rid, doc in self.items()}

    ours = Ours(BASE)
    added = object_type("ot3", "Gate")
    changes = {"ot1": with_changes(FLIGHT, apiName="Trip"), "ot2": None, "ot3": added}
    for tree in (dict(BASE), ours):
        view = MergedView(tree, changes)
        assert view.names() == {rid: (d["kind"], d["apiName"]) for rid, d in view.items()}
        assert list(view.names()) == [rid for rid, _ in view.items()] == ["ot1", "ot3"]
