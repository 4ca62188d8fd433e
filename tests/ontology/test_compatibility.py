"""The compatibility classifier: every rule, both ways, on plain documents (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ontology.compatibility import classify
from ontology.compatibility_rules import constraint_changes, element_shift
from tests.versioning.domain.builders import (
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
from tests.versioning.domain.strategies import trees
from versioning.domain.compatibility import (
    Compatibility,
    bump_for,
    migration_plan,
    next_version,
    worst,
)

C = Compatibility
FLIGHT = object_type("ot", "Flight", {"p1": prop("flightNumber", required=True)})


def changes(old, new, names=None):
    before = {old["rid"]: old} if old else {}
    after = {new["rid"]: new} if new else {}
    return classify(before, after, names)


def only(old, new, names=None):
    found = changes(old, new, names)
    assert len(found) == 1, [c.to_dict() for c in found]
    return found[0]


def rule(old, new):
    change = only(old, new)
    return change.kind, change.compatibility


# --- entities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        FLIGHT,
        value_type("vt", "Code"),
        struct_type("st", "Address", {"f1": struct_field("street")}),
        shared_property("sp", "createdAt", "timestamp"),
        interface("if", "Trackable"),
        link_type("lt", "flightAircraft", "ot", "ot2"),
    ],
)
def test_new_entity_is_backward_compatible_and_removal_incompatible(doc):
    assert rule(None, doc) == ("added", C.BACKWARD_COMPATIBLE)
    removed = only(doc, None)
    assert (removed.kind, removed.compatibility) == ("removed", C.INCOMPATIBLE)
    assert removed.migration == {"action": "remove", "what": doc["apiName"]}


def test_rename_is_migration_required_with_a_rename_step():
    change = only(FLIGHT, with_changes(FLIGHT, apiName="Flight2"))
    assert (change.kind, change.compatibility) == ("renamed", C.MIGRATION_REQUIRED)
    assert change.migration == {"action": "rename", "from": "Flight", "to": "Flight2"}
    assert "now called Flight2" in change.message


@pytest.mark.parametrize(
    "field, value",
    [
        ("description", "Scheduled flights"),
        ("displayName", "Flight leg"),
        ("pluralDisplayName", "Legs"),
        ("icon", "plane"),
        ("visibility", "HIDDEN"),
        ("titleProperty", None),
    ],
)
def test_documentation_and_display_are_compatible(field, value):
    change = only(FLIGHT, with_changes(FLIGHT, **{field: value}))
    assert change.compatibility is C.COMPATIBLE
    back = only(with_changes(FLIGHT, **{field: value}), FLIGHT)
    assert back.compatibility is C.COMPATIBLE


def test_deprecation_is_compatible_with_its_notice_as_note():
    deprecated = with_changes(
        FLIGHT,
        status="DEPRECATED",
        deprecation={"message": "Use Leg", "deadline": "2027-01-01"},
    )
    change = only(FLIGHT, deprecated)
    assert (change.kind, change.compatibility) == ("deprecated", C.COMPATIBLE)
    assert change.note == "Use Leg (until 2027-01-01)"
    assert rule(deprecated, FLIGHT) == ("status_changed", C.COMPATIBLE)
    later = with_changes(deprecated, deprecation={"message": "Use Leg", "deadline": "2028-01-01"})
    assert rule(deprecated, later) == ("deprecation_changed", C.COMPATIBLE)


def test_unknown_field_is_incompatible():
    change = only(FLIGHT, with_changes(FLIGHT, newThing=1))
    assert (change.kind, change.compatibility) == ("unclassified", C.INCOMPATIBLE)


# --- properties ---------------------------------------------------------------------------------


def test_new_optional_property_is_backward_compatible_required_is_incompatible():
    optional = with_prop(FLIGHT, "p2", **prop("gate"))
    assert rule(FLIGHT, optional) == ("property_added", C.BACKWARD_COMPATIBLE)
    required = with_prop(FLIGHT, "p2", **prop("gate", required=True))
    change = only(FLIGHT, required)
    assert (change.kind, change.compatibility) == ("required_property_added", C.INCOMPATIBLE)
    assert change.migration == {"action": "backfill", "what": "Flight.gate"}
    removed = only(optional, FLIGHT)
    assert (removed.kind, removed.compatibility) == ("property_removed", C.INCOMPATIBLE)
    assert removed.entity == "Flight.gate"


def test_property_made_required_or_optional():
    optional = with_prop(FLIGHT, "p1", required=False)
    assert rule(optional, FLIGHT) == ("made_required", C.INCOMPATIBLE)
    assert rule(FLIGHT, optional) == ("made_optional", C.BACKWARD_COMPATIBLE)


def test_property_rename_names_the_object_type():
    change = only(FLIGHT, with_prop(FLIGHT, "p1", apiName="number"))
    assert (change.kind, change.compatibility) == ("renamed", C.MIGRATION_REQUIRED)
    assert change.migration == {
        "action": "rename",
        "from": "Flight.flightNumber",
        "to": "Flight.number",
    }
    assert change.path == ("properties", "p1", "apiName")


@pytest.mark.parametrize(
    "old, new",
    [("short", "integer"), ("integer", "long"), ("byte", "long"), ("float", "double")],
)
def test_widening_is_backward_compatible_narrowing_needs_migration(old, new):
    a = with_prop(FLIGHT, "p1", baseType=old)
    b = with_prop(FLIGHT, "p1", baseType=new)
    assert rule(a, b) == ("type_widened", C.BACKWARD_COMPATIBLE)
    narrowed = only(b, a)
    assert (narrowed.kind, narrowed.compatibility) == ("type_narrowed", C.MIGRATION_REQUIRED)
    assert narrowed.migration["action"] == "convert"
    assert narrowed.migration["from"] == new and narrowed.migration["to"] == old


@pytest.mark.parametrize(
    "old, new, kind, compat",
    [
        ("integer", "double", "type_converted", C.MIGRATION_REQUIRED),
        ("double", "decimal", "type_converted", C.MIGRATION_REQUIRED),
        ("date", "timestamp", "type_converted", C.MIGRATION_REQUIRED),
        ("timestamp", "date", "type_converted", C.MIGRATION_REQUIRED),
        ("boolean", "string", "type_converted", C.MIGRATION_REQUIRED),
        ("string", "integer", "type_changed", C.INCOMPATIBLE),
        ("string", "geopoint", "type_changed", C.INCOMPATIBLE),
        ("geoshape", "string", "type_changed", C.INCOMPATIBLE),
    ],
)
def test_other_type_changes(old, new, kind, compat):
    assert element_shift(old, new)[:2] == (compat, kind)
    change = only(with_prop(FLIGHT, "p1", baseType=old), with_prop(FLIGHT, "p1", baseType=new))
    assert (change.kind, change.compatibility) == (kind, compat)


def test_arrays_scalar_to_list_and_back():
    scalar = with_prop(FLIGHT, "p1", baseType="string")
    listed = with_prop(FLIGHT, "p1", baseType="array", itemType="string")
    change = only(scalar, listed)
    assert (change.kind, change.compatibility) == ("type_wrapped", C.MIGRATION_REQUIRED)
    assert change.migration["action"] == "wrap_in_list"
    assert rule(listed, scalar) == ("type_changed", C.INCOMPATIBLE)
    shorts = with_prop(FLIGHT, "p1", baseType="array", itemType="short")
    longs = with_prop(FLIGHT, "p1", baseType="array", itemType="long")
    assert rule(shorts, longs) == ("type_widened", C.BACKWARD_COMPATIBLE)
    assert rule(longs, shorts) == ("type_narrowed", C.MIGRATION_REQUIRED)
    # one change for the type, however many of baseType / itemType moved
    assert rule(scalar, with_prop(FLIGHT, "p1", baseType="array", itemType="geopoint")) == (
        "type_changed",
        C.INCOMPATIBLE,
    )


def test_value_type_reference_added_is_incompatible_removed_is_backward_compatible():
    plain = with_prop(FLIGHT, "p1", valueType=None)
    typed = with_prop(FLIGHT, "p1", valueType="vt")
    change = only(plain, typed, {"vt": "FlightCode"})
    assert (change.kind, change.compatibility) == ("value_type_added", C.INCOMPATIBLE)
    assert "FlightCode" in change.message
    assert rule(typed, plain) == ("value_type_removed", C.BACKWARD_COMPATIBLE)
    other = with_prop(FLIGHT, "p1", valueType="vt2")
    assert rule(typed, other) == ("value_type_changed", C.INCOMPATIBLE)


def test_struct_type_reference_change_is_incompatible():
    a = with_prop(FLIGHT, "p1", baseType="struct", structType="st1")
    b = with_prop(FLIGHT, "p1", baseType="struct", structType="st2")
    assert rule(a, b) == ("struct_type_changed", C.INCOMPATIBLE)


def test_property_pii_position_and_shared_property_are_compatible():
    for field, value in (("pii", True), ("position", 4), ("sharedProperty", "sp")):
        change = only(FLIGHT, with_prop(FLIGHT, "p1", **{field: value}))
        assert change.compatibility is C.COMPATIBLE, field


def test_primary_key_change_is_incompatible():
    two = with_prop(FLIGHT, "p2", **prop("tail"))
    assert rule(two, with_changes(two, primaryKey="p2")) == ("primary_key_changed", C.INCOMPATIBLE)


def test_interfaces_of_an_object_type():
    implementing = with_changes(FLIGHT, interfaces={"if": True})
    names = {"if": "Trackable"}
    gained = only(FLIGHT, implementing, names)
    assert (gained.kind, gained.compatibility) == ("interface_added", C.BACKWARD_COMPATIBLE)
    assert "Trackable" in gained.message
    assert rule(implementing, FLIGHT) == ("interface_removed", C.INCOMPATIBLE)


# --- value types: constraints -----------------------------------------------------------------


def _vt(**constraints):
    return value_type("vt", "Code", "string", constraints)


@pytest.mark.parametrize(
    "looser, tighter",
    [
        ({}, {"regex": {"pattern": "^[A-Z]+$"}}),
        ({"enum": {"values": ["a", "b", "c"]}}, {"enum": {"values": ["a", "b"]}}),
        (
            {"enum": {"values": ["a"], "caseInsensitive": True}},
            {"enum": {"values": ["a"], "caseInsensitive": False}},
        ),
        ({"length": {"min": 1, "max": 10}}, {"length": {"min": 2, "max": 10}}),
        ({"length": {"min": 1, "max": 10}}, {"length": {"min": 1, "max": 9}}),
        ({"length": {"min": 1}}, {"length": {"min": 1, "max": 9}}),
        ({}, {"format": "uuid"}),
    ],
)
def test_constraint_loosening_and_tightening(looser, tighter):
    change = only(_vt(**looser), _vt(**tighter))
    assert (change.kind, change.compatibility) == ("constraint_tightened", C.INCOMPATIBLE)
    assert change.migration["action"] == "verify"
    back = only(_vt(**tighter), _vt(**looser))
    assert (back.kind, back.compatibility) == ("constraint_loosened", C.BACKWARD_COMPATIBLE)


def test_range_bounds_compare_dates_and_numbers():
    assert constraint_changes({"range": {"min": 0}}, {"range": {"min": -5}})[0][1] == "loosened"
    dates = constraint_changes({"range": {"min": "2020-01-01"}}, {"range": {"min": "2021-01-01"}})
    assert dates[0][1] == "tightened"
    # one bound looser and one tighter: tighter wins (some old value may not fit)
    mixed = constraint_changes({"range": {"min": 0, "max": 5}}, {"range": {"min": -1, "max": 4}})
    assert mixed[0][1] == "tightened"
    # bounds of another type cannot be compared: conservatively tighter
    assert constraint_changes({"range": {"min": 0}}, {"range": {"min": "x"}})[0][1] == "tightened"


def test_another_regex_and_array_constraints():
    assert rule(_vt(regex={"pattern": "a"}), _vt(regex={"pattern": "b"}))[1] is C.INCOMPATIBLE
    on, off = _vt(uniqueItems=True), _vt(uniqueItems=False)
    assert rule(off, on) == ("constraint_tightened", C.INCOMPATIBLE)
    assert rule(on, off) == ("constraint_loosened", C.BACKWARD_COMPATIBLE)
    items = constraint_changes({"items": {"length": {"max": 3}}}, {"items": {"length": {"max": 5}}})
    assert items == [("items.length", "loosened", "items.length from [-∞, 3] to [-∞, 5]")]


def test_enum_with_values_added_and_removed_is_tightened():
    change = only(_vt(enum={"values": ["a", "b"]}), _vt(enum={"values": ["a", "c"]}))
    assert change.compatibility is C.INCOMPATIBLE and "'b'" in change.message


def test_value_type_base_type_widening():
    assert rule(value_type("vt", "N", "short"), value_type("vt", "N", "long")) == (
        "type_widened",
        C.BACKWARD_COMPATIBLE,
    )


# --- struct types, shared properties, interfaces, link types --------------------------------------


def test_struct_fields():
    address = struct_type("st", "Address", {"f1": struct_field("street")})
    more = struct_type("st", "Address", {"f1": struct_field("street"), "f2": struct_field("zip")})
    assert rule(address, more) == ("field_added", C.BACKWARD_COMPATIBLE)
    assert rule(more, address) == ("field_removed", C.INCOMPATIBLE)
    required = struct_type(
        "st",
        "Address",
        {"f1": struct_field("street"), "f2": {**struct_field("zip"), "required": True}},
    )
    assert rule(address, required) == ("required_field_added", C.INCOMPATIBLE)
    renamed = struct_type("st", "Address", {"f1": {**struct_field("street"), "apiName": "road"}})
    assert rule(address, renamed) == ("renamed", C.MIGRATION_REQUIRED)
    wider = struct_type("st", "Address", {"f1": struct_field("street", "string", position=3)})
    assert rule(address, wider) == ("position_changed", C.COMPATIBLE)


def test_shared_property_types_and_pii():
    a = shared_property("sp", "count", "integer")
    assert rule(a, shared_property("sp", "count", "long")) == (
        "type_widened",
        C.BACKWARD_COMPATIBLE,
    )
    assert rule(a, shared_property("sp", "count", "string"))[1] is C.MIGRATION_REQUIRED
    assert rule(a, with_changes(a, pii=True)) == (
        "pii_changed",
        C.COMPATIBLE,
    )


def test_interface_members_and_link_constraints():
    base = interface("if", "Trackable", properties=("sp1",))
    assert rule(base, interface("if", "Trackable", properties=("sp1", "sp2")))[1] is (
        C.BACKWARD_COMPATIBLE
    )
    assert rule(base, interface("if", "Trackable"))[1] is C.INCOMPATIBLE
    assert rule(base, interface("if", "Trackable", ("if0",), ("sp1",))) == (
        "parent_interface_added",
        C.BACKWARD_COMPATIBLE,
    )
    owner = link_constraint("owner", "ot")
    linked = interface("if", "Trackable", properties=("sp1",), link_constraints={"lc": owner})
    assert rule(base, linked) == ("link_constraint_added", C.BACKWARD_COMPATIBLE)
    assert rule(linked, base) == ("link_constraint_removed", C.INCOMPATIBLE)
    required = {**owner, "required": True}
    assert rule(base, with_changes(linked, linkConstraints={"lc": required}))[1] is C.INCOMPATIBLE
    one = with_changes(linked, linkConstraints={"lc": {**owner, "cardinality": "ONE"}})
    assert rule(one, linked) == ("cardinality_widened", C.MIGRATION_REQUIRED)
    assert rule(linked, one) == ("cardinality_narrowed", C.INCOMPATIBLE)
    retarget = with_changes(linked, linkConstraints={"lc": {**owner, "targetObjectType": "x"}})
    assert rule(linked, retarget) == ("targetObjectType_changed", C.INCOMPATIBLE)


def test_link_types():
    link = link_type("lt", "flightAircraft", "ot1", "ot2")
    many = with_changes(link, cardinality="MANY_TO_MANY")
    assert rule(link, many) == ("cardinality_widened", C.MIGRATION_REQUIRED)
    assert rule(many, link) == ("cardinality_narrowed", C.INCOMPATIBLE)
    assert rule(link, with_changes(link, target="ot3")) == ("target_changed", C.INCOMPATIBLE)
    assert rule(link, with_changes(link, foreignKeyProperty="p1")) == (
        "foreign_key_changed",
        C.MIGRATION_REQUIRED,
    )
    side = {**link["sourceSide"], "apiName": "plane"}
    change = only(link, with_changes(link, sourceSide=side))
    assert (change.kind, change.compatibility) == ("renamed", C.MIGRATION_REQUIRED)
    assert change.migration == {"action": "rename", "from": "target", "to": "plane"}
    shown = {**link["targetSide"], "displayName": "All flights"}
    assert rule(link, with_changes(link, targetSide=shown)) == (
        "displayName_changed",
        C.COMPATIBLE,
    )


# --- the worst class, the bump, the plan ------------------------------------------------------


def test_worst_bump_and_next_version():
    import semver

    assert worst([]) is None
    one_o = semver.Version.parse("1.4.2")
    assert bump_for(C.INCOMPATIBLE, one_o) == "major"
    assert bump_for(C.MIGRATION_REQUIRED, one_o) == "major"
    assert bump_for(C.BACKWARD_COMPATIBLE, one_o) == "minor"
    assert bump_for(C.COMPATIBLE, one_o) == "patch"
    assert str(next_version(one_o, "major")) == "2.0.0"
    assert str(next_version(one_o, "minor")) == "1.5.0"
    assert str(next_version(None, "major")) == "1.0.0"
    zero = semver.Version.parse("0.3.1")
    assert bump_for(C.INCOMPATIBLE, zero) == "minor"
    assert bump_for(C.BACKWARD_COMPATIBLE, zero) == "patch"
    rc = semver.Version.parse("2.0.0-rc.1")
    assert str(next_version(rc, "major")) == "2.0.0"
    assert str(next_version(semver.Version.parse("1.2.0-rc.1"), "major")) == "2.0.0"


def test_migration_plan_lists_renames_first_and_numbers_steps():
    old = {
        "ot": FLIGHT,
        "vt": _vt(),
    }
    renamed = with_prop(
        with_changes(FLIGHT, apiName="Leg"), "p1", baseType="array", itemType="string"
    )
    new = {"ot": renamed}
    plan = migration_plan(classify(old, new))
    assert [s["action"] for s in plan] == ["rename", "wrap_in_list", "remove"]
    assert [s["step"] for s in plan] == [1, 2, 3]
    assert plan[0]["from"] == "Flight" and plan[0]["to"] == "Leg"


# --- properties of the whole classifier -------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(trees(), trees())
def test_nothing_changed_means_no_change_and_every_change_is_classified(a, b):
    assert classify(a, a) == []
    found = classify(a, b)
    differ = {rid for rid in set(a) | set(b) if a.get(rid) != b.get(rid)}
    assert {c.rid for c in found} == differ
    assert all(isinstance(c.compatibility, C) and c.message for c in found)
    # a change that needs work carries a step; others do not
    for c in found:
        assert (c.migration is not None) == (c.compatibility.rank >= C.MIGRATION_REQUIRED.rank)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["byte", "short", "integer", "long", "float", "double"]), st.data())
def test_a_widening_reversed_is_never_backward_compatible(old, data):
    new = data.draw(st.sampled_from(["byte", "short", "integer", "long", "float", "double"]))
    if old == new:
        return
    forward, _, _ = element_shift(old, new)
    backward, _, _ = element_shift(new, old)
    assert not (forward is C.BACKWARD_COMPATIBLE and backward is C.BACKWARD_COMPATIBLE)
    assert C.INCOMPATIBLE not in (forward, backward)  # numbers always convert mechanically
