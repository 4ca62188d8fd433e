"""How the versioning pages show documents to a steward: simple values as labels, an
added or removed child as one summary row, conflict paths and strategy results in names."""

from __future__ import annotations

from versioning.admin.display import conflict_groups, path_label, side_by_side

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"


def rows_by_label(old, new) -> dict[str, dict]:
    return {row["label"]: row for row in side_by_side(old, new)}


def test_an_added_child_is_one_summary_row_and_a_changed_one_is_compared_field_by_field():
    old = {"apiName": "Flight", "properties": {A: {"apiName": "code", "baseType": "string"}}}
    new = {
        "apiName": "Flight",
        "properties": {
            A: {"apiName": "code", "baseType": "long"},
            B: {"apiName": "seats", "baseType": "integer", "required": True, "description": ""},
        },
    }
    rows = rows_by_label(old, new)
    assert rows["properties › seats"]["state"] == "added"
    assert rows["properties › seats"]["summary"] == "added: baseType: integer, required: true"
    assert not any(label.startswith("properties › seats ›") for label in rows)
    changed = rows["properties › code › baseType"]
    assert (changed["state"], changed["old"], changed["new"]) == ("modified", "string", "long")
    removed = rows_by_label(new, old)["properties › seats"]
    assert removed["state"] == "removed" and removed["summary"].startswith("removed: ")


def test_values_are_labels_when_simple_and_json_otherwise():
    rows = rows_by_label({"a": "x", "b": "", "c": [1]}, {"a": "y", "b": "", "c": [1, 2]})
    assert (rows["a"]["old"], rows["a"]["new"]) == ("x", "y")
    assert rows["b"]["old"] == '""'  # an empty text stays visible
    assert rows["c"]["new"] == "[\n  1,\n  2\n]"


def test_a_conflict_path_names_the_child_instead_of_its_rid():
    doc = {"properties": {A: {"apiName": "code", "description": "x"}}}
    assert path_label(["properties", A, "description"], doc) == "properties › code › description"
    assert path_label(["properties", A, "description"]) == "properties › description"


def test_a_strategy_result_reads_as_the_merged_value_not_an_edited_one():
    conflict = {
        "id": f"{A}:baseType",
        "rid": A,
        "apiName": "Flight",
        "entityKind": "objectType",
        "path": ["properties", B, "baseType"],
        "kind": "modify/modify",
        "severity": "WARN",
        "base": "integer",
        "ours": "integer",
        "theirs": "long",
        "proposed": {"choice": "value", "value": "long"},
        "resolution": {"choice": "value", "value": "long"},
        "resolved": True,
        "message": "type widened",
    }
    docs = {A: {"properties": {B: {"apiName": "seats"}}}}
    (group,) = conflict_groups([conflict], {}, docs)
    (item,) = group["items"]
    assert item["where"] == "properties › seats › baseType"
    assert item["proposed_text"] == "long"
    assert "edited" not in item["resolution_text"]
    stored = {conflict["id"]: {"choice": "value", "value": "short", "by": "alice"}}
    (item,) = conflict_groups([conflict], stored, docs)[0]["items"]
    assert item["chosen_by"] == "alice"
