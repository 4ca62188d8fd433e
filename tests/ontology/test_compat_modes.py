"""What each compatibility direction allows, and the deprecation gate (no database)."""

from __future__ import annotations

import pytest

from ontology.compat_policy import OntologyCompatibility
from tests.versioning.domain.builders import (
    interface,
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
from versioning.domain.modes import Finding, Mode

RULES = OntologyCompatibility()
FLIGHT = object_type(
    "ot",
    "Flight",
    {"p1": prop("flightNumber", required=True), "p2": prop("seats", "integer")},
)
DEPRECATION = {"message": "use Trip", "deadline": "2027-01-01"}


def refused(old, new, mode: Mode, *, deprecation: bool = False) -> list[tuple[str, str]]:
    before = {old["rid"]: old} if old else {}
    after = {new["rid"]: new} if new else {}
    found = RULES.violations(
        before,
        after,
        backward=mode.backward,
        forward=mode.forward,
        deprecation=deprecation,
    )
    return [(v.rule, v.change.kind) for v in found]


# each change with what BACKWARD, FORWARD and FULL say (True: allowed)
CASES = {
    "description": (with_changes(FLIGHT, description="d"), True, True, True),
    "new optional property": (with_prop(FLIGHT, "p3", **prop("gate")), True, True, True),
    "new required property": (
        with_prop(FLIGHT, "p3", **prop("gate", required=True)),
        False,
        True,
        False,
    ),
    "widening integer -> long": (with_prop(FLIGHT, "p2", baseType="long"), True, False, False),
    "narrowing integer -> short": (with_prop(FLIGHT, "p2", baseType="short"), False, True, False),
    "required -> optional": (with_prop(FLIGHT, "p1", required=False), True, False, False),
    "optional -> required": (with_prop(FLIGHT, "p2", required=True), False, True, False),
    "rename": (with_changes(FLIGHT, apiName="Trip"), False, False, False),
    "property removed": (
        {**FLIGHT, "properties": {"p1": FLIGHT["properties"]["p1"]}},
        False,
        True,
        False,
    ),
    "required property removed": (
        {**FLIGHT, "properties": {"p2": FLIGHT["properties"]["p2"]}},
        False,
        False,
        False,
    ),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("mode", "column"),
    [
        (Mode.BACKWARD, 1),
        (Mode.FORWARD, 2),
        (Mode.FULL, 3),
        (Mode.BACKWARD_TRANSITIVE, 1),
        (Mode.FORWARD_TRANSITIVE, 2),
        (Mode.FULL_TRANSITIVE, 3),
    ],
)
def test_each_mode_allows_and_refuses_the_right_changes(name, mode, column):
    new = CASES[name][0]
    allowed = CASES[name][column]
    found = refused(FLIGHT, new, mode)
    assert (found == []) is allowed, found


def test_none_refuses_nothing():
    for new, *_ in CASES.values():
        assert refused(FLIGHT, new, Mode.NONE) == []


def test_constraints_tightened_pass_forward_only_and_loosened_backward_only():
    loose = value_type("vt", "Code", constraints={"length": {"min": 1, "max": 10}})
    tight = value_type("vt", "Code", constraints={"length": {"min": 1, "max": 5}})
    assert refused(loose, tight, Mode.BACKWARD) == [("backward", "constraint_tightened")]
    assert refused(loose, tight, Mode.FORWARD) == []
    assert refused(tight, loose, Mode.BACKWARD) == []
    assert refused(tight, loose, Mode.FORWARD) == [("forward", "constraint_loosened")]


def test_a_new_entity_passes_every_mode_and_a_removal_passes_forward_only():
    for mode in (Mode.BACKWARD, Mode.FORWARD, Mode.FULL):
        assert refused(None, FLIGHT, mode) == []
    assert refused(FLIGHT, None, Mode.BACKWARD) == [("backward", "removed")]
    assert refused(FLIGHT, None, Mode.FORWARD) == []


def test_removing_an_active_entity_or_property_needs_a_deprecation_in_the_release():
    assert refused(FLIGHT, None, Mode.FORWARD, deprecation=True) == [("deprecation", "removed")]
    gone = {**FLIGHT, "properties": {"p1": FLIGHT["properties"]["p1"]}}
    assert refused(FLIGHT, gone, Mode.FORWARD, deprecation=True) == [
        ("deprecation", "property_removed")
    ]


def test_a_removal_deprecated_or_experimental_in_the_release_passes_the_gate():
    deprecated = with_changes(FLIGHT, status="DEPRECATED", deprecation=DEPRECATION)
    assert refused(deprecated, None, Mode.FORWARD, deprecation=True) == []
    experimental = with_changes(FLIGHT, status="EXPERIMENTAL")
    assert refused(experimental, None, Mode.FORWARD, deprecation=True) == []
    seats = with_prop(FLIGHT, "p2", status="DEPRECATED", deprecation=DEPRECATION)
    gone = {**seats, "properties": {"p1": seats["properties"]["p1"]}}
    assert refused(seats, gone, Mode.FORWARD, deprecation=True) == []


# the seven kinds with a lifecycle: (before, after removing it, the same deprecated first)
def _property_gone(status: str = "ACTIVE", deprecation=None):
    before = with_prop(FLIGHT, "p2", status=status, deprecation=deprecation)
    return before, {**before, "properties": {"p1": before["properties"]["p1"]}}


GATED = {
    "objectType": FLIGHT,
    "linkType": link_type("lt", "legs", "ot", "ot2"),
    "valueType": value_type("vt", "Code"),
    "structType": struct_type("st", "Address", {"f1": struct_field("street")}),
    "sharedProperty": shared_property("sp", "createdAt", "timestamp"),
    "interface": interface("if", "Trackable"),
}


@pytest.mark.parametrize("kind", [*GATED, "property"])
def test_every_kind_with_a_lifecycle_is_removed_only_after_a_deprecation(kind):
    if kind == "property":
        active, gone = _property_gone()
        deprecated, gone_after = _property_gone("DEPRECATED", DEPRECATION)
        expected = [("deprecation", "property_removed")]
    else:
        active, gone = GATED[kind], None
        deprecated = with_changes(active, status="DEPRECATED", deprecation=DEPRECATION)
        gone_after = None
        expected = [("deprecation", "removed")]
    assert refused(active, gone, Mode.FORWARD, deprecation=True) == expected
    assert refused(deprecated, gone_after, Mode.FORWARD, deprecation=True) == []
    (violation,) = RULES.violations(
        {active["rid"]: active},
        {gone["rid"]: gone} if gone else {},
        backward=False,
        forward=False,
        deprecation=True,
    )
    assert violation.change.entity_kind == (
        "objectType" if kind == "property" else kind
    ) and "ACTIVE in that release" in (violation.reason)


def test_children_without_a_status_are_not_gated():
    """Struct fields, link constraints and an interface's shared properties have no
    lifecycle: their removal is the modes' business only."""
    lost = [
        (interface("if", "Trackable", properties=("sp",)), interface("if", "Trackable")),
        (
            struct_type("st", "Address", {"f1": struct_field("street"), "f2": struct_field("no")}),
            struct_type("st", "Address", {"f1": struct_field("street")}),
        ),
    ]
    for old, new in lost:
        found = refused(old, new, Mode.NONE, deprecation=True)
        assert found == [], found


def test_a_deprecation_without_message_or_deadline_does_not_open_the_gate():
    for notice in (
        {"message": "", "deadline": None},
        {"message": "", "deadline": "2027-01-01"},  # no message
        {"message": "use Trip", "deadline": None},  # no deadline
        None,
    ):
        half = with_changes(FLIGHT, status="DEPRECATED", deprecation=notice)
        assert refused(half, None, Mode.FORWARD, deprecation=True) == [
            ("deprecation", "removed")
        ], notice


def test_a_finding_names_mode_change_entity_reason_and_where_to_deprecate():
    (violation,) = RULES.violations(
        {"ot": FLIGHT}, {}, backward=False, forward=False, deprecation=True
    )
    shown = Finding(Mode.BACKWARD, "1.2.0", violation, deprecate_in="1.3.0").to_dict()
    assert shown["severity"] == "BLOCK"
    assert (shown["mode"], shown["rule"], shown["release"]) == ("BACKWARD", "deprecation", "1.2.0")
    assert shown["entity"] == "Flight" and shown["kind"] == "removed"
    assert "ACTIVE in that release" in shown["reason"]
    assert shown["reason"].endswith("Deprecate it in release 1.3.0 first.")
    assert shown["deprecateIn"] == "1.3.0"
    assert "The object type Flight was removed." in shown["message"]


def test_mode_directions():
    assert [m for m in Mode if m.backward] == [
        Mode.BACKWARD,
        Mode.FULL,
        Mode.BACKWARD_TRANSITIVE,
        Mode.FULL_TRANSITIVE,
    ]
    assert [m for m in Mode if m.forward] == [
        Mode.FORWARD,
        Mode.FULL,
        Mode.FORWARD_TRANSITIVE,
        Mode.FULL_TRANSITIVE,
    ]
    assert [m for m in Mode if m.transitive] == [
        Mode.BACKWARD_TRANSITIVE,
        Mode.FORWARD_TRANSITIVE,
        Mode.FULL_TRANSITIVE,
    ]
    assert not Mode.NONE.checks
