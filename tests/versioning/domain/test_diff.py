import json

from versioning.domain import FieldChange, diff_documents, diff_trees

from .builders import object_type, prop, with_changes, with_prop

FLIGHT = object_type("ot1", "Flight", {"p1": prop("flightNumber"), "p2": prop("seats", "short")})
PLANE = object_type("ot2", "Plane")


def test_field_changes_recurse_into_children_by_rid():
    new = with_prop(FLIGHT, "p2", baseType="integer")
    assert diff_documents(FLIGHT, new) == [
        FieldChange(("properties", "p2", "baseType"), "short", "integer")
    ]


def test_added_and_removed_children_are_one_change_each():
    new = with_prop(FLIGHT, "p3", **prop("gate"))
    props = dict(new["properties"])
    del props["p1"]
    new = {**new, "properties": props}
    changes = diff_documents(FLIGHT, new)
    assert changes == [
        FieldChange(("properties", "p1"), FLIGHT["properties"]["p1"], None),
        FieldChange(("properties", "p3"), None, prop("gate")),
    ]


def test_lists_are_leaves():
    assert diff_documents({"v": [1, 2]}, {"v": [2, 1]}) == [FieldChange(("v",), [1, 2], [2, 1])]


def test_tree_diff_added_removed_modified():
    old = {"ot1": FLIGHT, "ot2": PLANE}
    new = {"ot1": with_changes(FLIGHT, description="d"), "ot3": object_type("ot3", "Gate")}
    diff = diff_trees(old, new).by_rid()
    assert {rid: c.change for rid, c in diff.items()} == {
        "ot1": "modified",
        "ot2": "removed",
        "ot3": "added",
    }
    assert diff["ot1"].fields == [FieldChange(("description",), "", "d")]


def test_rename_is_one_change():
    new = {"ot1": with_changes(FLIGHT, apiName="Trip", displayName="Trip")}
    (change,) = diff_trees({"ot1": FLIGHT}, new).changes
    assert (change.change, change.api_name, change.old_api_name) == ("renamed", "Trip", "Flight")
    assert FieldChange(("apiName",), "Flight", "Trip") in change.fields


def test_child_rename_is_a_field_change():
    new = with_prop(FLIGHT, "p1", apiName="number")
    (change,) = diff_trees({"ot1": FLIGHT}, {"ot1": new}).changes
    assert change.change == "modified"
    assert change.fields == [FieldChange(("properties", "p1", "apiName"), "flightNumber", "number")]


def test_changed_limits_the_walk():
    old = {"ot1": FLIGHT, "ot2": PLANE}
    new = {"ot1": with_changes(FLIGHT, description="d"), "ot2": with_changes(PLANE, icon="x")}
    assert [c.rid for c in diff_trees(old, new, changed={"ot2"}).changes] == ["ot2"]


def test_diff_is_json_serialisable():
    new = {"ot1": with_changes(FLIGHT, apiName="Trip"), "ot3": PLANE}
    assert json.loads(json.dumps(diff_trees({"ot1": FLIGHT}, new).to_dict()))["changes"]
