from collections.abc import Mapping

import pytest

from ontology.merge_policy import OntologyPolicy
from versioning.domain import MISSING, MergedView, Resolution, Severity, merge3

from .builders import (
    apply,
    interface,
    link_constraint,
    link_type,
    object_type,
    prop,
    shared_property,
    struct_field,
    struct_type,
    value_type,
    with_changes,
    with_prop,
)

POLICY = OntologyPolicy()
FLIGHT = object_type(
    "ot1", "Flight", {"p1": prop("number"), "p2": prop("seats", "short"), "p3": prop("code")}
)
PLANE = object_type("ot2", "Plane", {"q1": prop("tail")})
LINK = link_type("lt1", "flightPlane", "ot1", "ot2", fk="p3")
CODE = value_type("vt1", "Code", "string", {"enum": {"values": ["a", "b"]}})
ADDRESS = struct_type("st1", "Address", {f"f{i}": struct_field(f"line{i}") for i in range(5)})
CREATED = shared_property("sp1", "createdAt", "timestamp")
TRACKABLE = interface("if1", "Trackable", properties=("sp1",))
BASE = {d["rid"]: d for d in (FLIGHT, PLANE, LINK, CODE, ADDRESS, CREATED, TRACKABLE)}


def merge(ours_changes, theirs_changes, **kw):
    ours, theirs = apply(BASE, ours_changes), apply(BASE, theirs_changes)
    result = merge3(BASE, ours, theirs, POLICY, **kw)
    return result, apply(ours, result.tree_changes)


def conflicts(result, severity):
    return [(c.rid, c.path, c.kind) for c in result.conflicts if c.severity is severity]


# --- strategies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        ("short", "integer", "long", "long"),
        ("byte", "short", "integer", "integer"),
        ("byte", "long", "short", "long"),
    ],
)
def test_both_sides_widening_take_the_widest(base, ours, theirs, expected):
    start = with_prop(FLIGHT, "p2", baseType=base)
    tree = {**BASE, "ot1": start}
    for o, t in ((ours, theirs), (theirs, ours)):
        result = merge3(
            tree,
            {**tree, "ot1": with_prop(start, "p2", baseType=o)},
            {**tree, "ot1": with_prop(start, "p2", baseType=t)},
            POLICY,
        )
        (conflict,) = result.conflicts
        assert conflict.severity is Severity.WARN and result.can_merge
        assert conflict.proposed == Resolution("value", expected)
        assert result.get("ot1")["properties"]["p2"]["baseType"] == expected


def test_float_to_double_on_both_sides_is_the_same_change():
    start = with_prop(FLIGHT, "p2", baseType="float")
    tree = {**BASE, "ot1": start}
    side = {**tree, "ot1": with_prop(start, "p2", baseType="double")}
    result = merge3(tree, side, dict(side), POLICY)
    assert [c.severity for c in result.conflicts] == [Severity.INFO]


@pytest.mark.parametrize(
    ("ours", "theirs"), [("byte", "long"), ("long", "byte"), ("long", "string"), ("double", "long")]
)
def test_narrowing_or_unrelated_change_against_widening_is_error(ours, theirs):
    result, _ = merge(
        {"ot1": with_prop(FLIGHT, "p2", baseType=ours)},
        {"ot1": with_prop(FLIGHT, "p2", baseType=theirs)},
    )
    assert conflicts(result, Severity.ERROR) == [
        ("ot1", ("properties", "p2", "baseType"), "modify_modify")
    ]


def test_widening_applies_to_shared_properties_and_value_types_too():
    base = {"sp": shared_property("sp", "n", "short"), "vt": value_type("vt", "N", "byte")}
    ours = {"sp": {**base["sp"], "baseType": "integer"}, "vt": {**base["vt"], "baseType": "short"}}
    theirs = {"sp": {**base["sp"], "baseType": "long"}, "vt": {**base["vt"], "baseType": "long"}}
    result = merge3(base, ours, theirs, POLICY)
    assert {c.severity for c in result.conflicts} == {Severity.WARN}
    assert result.get("sp")["baseType"] == result.get("vt")["baseType"] == "long"


def with_constraints(**constraints):
    return {"vt1": {**CODE, "constraints": constraints}}


def test_enum_union_keeps_base_then_ours_then_theirs_order():
    result, tree = merge(
        with_constraints(enum={"values": ["a", "b", "c"]}),
        with_constraints(enum={"values": ["d", "a"]}),
    )
    assert tree["vt1"]["constraints"]["enum"]["values"] == ["a", "b", "c", "d"]
    assert conflicts(result, Severity.WARN) == [
        ("vt1", ("constraints", "enum", "values"), "modify_modify")
    ]


def test_enum_value_removed_on_both_sides_stays_removed():
    _, tree = merge(
        with_constraints(enum={"values": ["a", "c"]}),
        with_constraints(enum={"values": ["a", "d"]}),
    )
    assert tree["vt1"]["constraints"]["enum"]["values"] == ["a", "c", "d"]


def test_enum_dropped_on_one_side_means_any_value():
    result, tree = merge(with_constraints(), with_constraints(enum={"values": ["a", "b", "c"]}))
    assert "enum" not in tree["vt1"]["constraints"] and result.can_merge


BOUNDED_TYPES = {
    "range": {"baseType": "integer"},
    "length": {"baseType": "string"},
    "arraySize": {"baseType": "array", "itemType": "string"},
}


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ({"min": 3, "max": 10}, {"min": 2, "max": 5}, {"min": 2, "max": 10}),
        ({"min": 0}, {"min": 1, "max": 20}, {"min": 0}),
        ({"max": 3}, {"min": 1}, MISSING),
        (MISSING, {"min": 1, "max": 20}, MISSING),
    ],
)
@pytest.mark.parametrize("name", ["range", "length", "arraySize"])
def test_bounds_union(name, ours, theirs, expected):
    # a value type each bound fits (the merged tree is checked by the rule set)
    typed = {**CODE, **BOUNDED_TYPES[name]}
    base = {"vt1": {**typed, "constraints": {name: {"min": 1, "max": 5}}}}

    def side(bounds):
        return {"vt1": {**typed, "constraints": {} if bounds is MISSING else {name: bounds}}}

    for o, t in ((ours, theirs), (theirs, ours)):
        result = merge3(base, side(o), side(t), POLICY)
        assert result.can_merge
        assert result.get("vt1")["constraints"].get(name, MISSING) == expected
        assert {c.severity for c in result.conflicts} == {Severity.WARN}


def test_nested_item_constraints_union():
    CODE = {**BASE["vt1"], "baseType": "array", "itemType": "integer"}  # noqa: N806
    path_base = {"vt1": {**CODE, "constraints": {"items": {"range": {"min": 1, "max": 5}}}}}
    ours = {"vt1": {**CODE, "constraints": {"items": {"range": {"min": 0, "max": 5}}}}}
    theirs = {"vt1": {**CODE, "constraints": {"items": {"range": {"min": 2, "max": 9}}}}}
    result = merge3(path_base, ours, theirs, POLICY)
    assert result.get("vt1")["constraints"]["items"]["range"] == {"min": 0, "max": 9}


def test_strategies_stay_out_of_other_paths():
    assert POLICY.resolve("objectType", ("displayName",), "a", "b", "c") is None
    assert POLICY.resolve("linkType", ("range",), {"min": 1}, {"min": 0}, {"min": 2}) is None


# --- BLOCK checks ---------------------------------------------------------------------


def test_link_to_object_type_deleted_on_the_other_side():
    new_link = link_type("lt2", "otherLink", "ot1", "ot2")
    result, _ = merge({"lt2": new_link}, {"ot2": None, "lt1": None})
    assert conflicts(result, Severity.BLOCK) == [("lt2", ("target",), "dangling_reference")]
    (block,) = result.by_severity(Severity.BLOCK)
    assert block.id == "lt2:target:dangling_reference" and block.entity_kind == "linkType"
    assert not result.can_merge


def test_unchanged_link_to_deleted_object_type():
    result, _ = merge({"ot1": with_changes(FLIGHT, description="x")}, {"ot2": None})
    assert conflicts(result, Severity.BLOCK) == [("lt1", ("target",), "dangling_reference")]


def test_foreign_key_property_removed():
    props = {k: v for k, v in FLIGHT["properties"].items() if k != "p3"}
    result, _ = merge(
        {"ot2": with_changes(PLANE, icon="x")}, {"ot1": {**FLIGHT, "properties": props}}
    )
    assert conflicts(result, Severity.BLOCK) == [
        ("lt1", ("foreignKeyProperty",), "dangling_reference")
    ]
    result, _ = merge(
        {"lt1": with_changes(LINK, description="x")}, {"ot1": {**FLIGHT, "properties": props}}
    )
    assert conflicts(result, Severity.BLOCK) == [
        ("lt1", ("foreignKeyProperty",), "dangling_reference")
    ]


@pytest.mark.parametrize(
    ("key", "target"), [("valueType", "vt1"), ("structType", "st1"), ("sharedProperty", "sp1")]
)
def test_property_reference_to_deleted_entity(key, target):
    ours = {"ot2": with_prop(PLANE, "q1", **{key: target})}
    result, _ = merge(ours, {target: None})
    assert ("ot2", ("properties", "q1", key), "dangling_reference") in conflicts(
        result, Severity.BLOCK
    )
    # the same reference already on both sides, the target deleted by theirs
    base = apply(BASE, ours)
    result = merge3(
        base, {**base, "ot1": with_changes(FLIGHT, icon="i")}, apply(base, {target: None}), POLICY
    )
    assert ("ot2", ("properties", "q1", key), "dangling_reference") in conflicts(
        result, Severity.BLOCK
    )


def test_interface_targets_deleted():
    other = interface(
        "if2",
        "Owned",
        extends=("if1",),
        properties=("sp1",),
        link_constraints={"lc1": link_constraint("owner", "ot2")},
    )
    result, _ = merge({"if2": other}, {"if1": None, "sp1": None, "ot2": None, "lt1": None})
    blocks = conflicts(result, Severity.BLOCK)
    assert ("if2", ("extends", "if1"), "dangling_reference") in blocks
    assert ("if2", ("properties", "sp1"), "dangling_reference") in blocks
    assert ("if2", ("linkConstraints", "lc1", "targetObjectType"), "dangling_reference") in blocks


def test_shared_property_removed_under_an_unchanged_interface():
    result, _ = merge({"ot1": with_changes(FLIGHT, icon="x")}, {"sp1": None})
    assert conflicts(result, Severity.BLOCK) == [
        ("if1", ("properties", "sp1"), "dangling_reference")
    ]


def test_struct_over_ten_fields_after_merge():
    def grown(prefix):
        fields = dict(ADDRESS["fields"])
        fields.update({f"{prefix}{i}": struct_field(f"{prefix}x{i}") for i in range(3)})
        return {"st1": {**ADDRESS, "fields": fields}}

    result, tree = merge(grown("o"), grown("t"))
    assert len(tree["st1"]["fields"]) == 11
    assert conflicts(result, Severity.BLOCK) == [("st1", ("fields",), "rule_violation")]


def test_struct_with_no_fields_after_merge():
    def kept(keys):
        return {"st1": {**ADDRESS, "fields": {k: ADDRESS["fields"][k] for k in keys}}}

    result, _ = merge(kept(["f0", "f1"]), kept(["f2", "f3", "f4"]))
    assert conflicts(result, Severity.BLOCK) == [("st1", ("fields",), "rule_violation")]


def test_duplicate_api_name_through_an_edited_value():
    ours = {"ot1": with_changes(FLIGHT, apiName="Journey")}
    theirs = {"ot1": with_changes(FLIGHT, apiName="Trip")}
    choice = {"ot1:apiName": Resolution("value", "plane")}
    result, _ = merge(ours, theirs, resolutions=choice)
    assert conflicts(result, Severity.BLOCK) == [("ot1", ("apiName",), "rule_violation")]


def test_edited_property_name_taken_in_the_same_object_type():
    ours = {"ot1": with_prop(FLIGHT, "p1", apiName="num")}
    theirs = {"ot1": with_prop(FLIGHT, "p1", apiName="nr")}
    choice = {"ot1:properties.p1.apiName": Resolution("value", "SEATS")}
    result, tree = merge(ours, theirs, resolutions=choice)
    assert ("ot1", ("properties", "p1", "apiName"), "rename_collision") in conflicts(
        result, Severity.ERROR
    )
    assert tree["ot1"]["properties"]["p1"]["apiName"] == "num"


def test_duplicate_property_api_names_are_blocked():
    twice = with_prop(FLIGHT, "p1", apiName="sEATS")
    problems = POLICY.validate_tree(MergedView(BASE, {"ot1": twice}), {"ot1"})
    assert [(p.rid, p.path, p.kind) for p in problems] == [
        ("ot1", ("properties", "p2", "apiName"), "rule_violation")
    ]


@pytest.mark.parametrize("forbidden", ["double", "float", "decimal", "struct", "array", "vector"])
def test_primary_key_of_a_forbidden_type(forbidden):
    result, _ = merge(
        {"ot1": with_changes(FLIGHT, primaryKey="p2")},
        {"ot1": with_prop(FLIGHT, "p2", baseType=forbidden)},
    )
    # (a struct or an array also lacks its struct or item type: a second problem)
    assert ("ot1", ("primaryKey",), "rule_violation") in conflicts(result, Severity.BLOCK)


@pytest.mark.parametrize("allowed", ["integer", "long", "date", "timestamp", "boolean", "byte"])
def test_primary_key_of_an_allowed_type(allowed):
    result, _ = merge(
        {"ot1": with_changes(FLIGHT, primaryKey="p2")},
        {"ot1": with_prop(FLIGHT, "p2", baseType=allowed)},
    )
    assert conflicts(result, Severity.BLOCK) == []


def test_primary_key_property_removed():
    props = {k: v for k, v in FLIGHT["properties"].items() if k != "p2"}
    result, _ = merge(
        {"ot1": with_changes(FLIGHT, primaryKey="p2")}, {"ot1": {**FLIGHT, "properties": props}}
    )
    assert ("ot1", ("primaryKey",), "dangling_reference") in conflicts(result, Severity.BLOCK)


def test_reference_to_an_entity_of_the_wrong_kind():
    # the change the merge brings (theirs); ours' own documents were checked on ours
    result, _ = merge({}, {"ot2": with_prop(PLANE, "q1", valueType="st1")})
    assert conflicts(result, Severity.BLOCK) == [
        ("ot2", ("properties", "q1", "valueType"), "dangling_reference")
    ]


class CountingTree(Mapping):
    """A tree that counts full scans."""

    def __init__(self, data):
        self.data, self.scans = data, 0

    def __getitem__(self, key):
        return self.data[key]

    def __iter__(self):
        self.scans += 1
        return iter(self.data)

    def __len__(self):
        return len(self.data)


def test_validation_is_incremental():
    broken = {**BASE, "lt9": link_type("lt9", "stale", "gone", "ot2")}
    tree = CountingTree(broken)
    changes = {"ot1": with_prop(FLIGHT, "p1", description="d"), "vt1": {**CODE, "description": "x"}}
    assert POLICY.validate_tree(MergedView(tree, changes), set(changes)) == []
    assert tree.scans == 0  # no removals, no renames: no scan of the tree
    assert POLICY.validate_tree(MergedView(tree, {"ot2": None}), {"ot2"}) != []
    assert tree.scans == 1
