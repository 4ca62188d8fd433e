"""The pure rule set, each rule both ways."""

import pytest

from ontology import rules


@pytest.mark.parametrize(
    ("name", "case", "ok"),
    [
        ("Flight", rules.PASCAL, True),
        ("flight", rules.PASCAL, False),
        ("flightNumber", rules.CAMEL, True),
        ("FlightNumber", rules.CAMEL, False),
        ("a1_b", rules.ANY_CASE, True),
        ("1abc", rules.ANY_CASE, False),
        ("_abc", rules.ANY_CASE, False),
        ("ab-c", rules.ANY_CASE, False),
        ("ab c", rules.ANY_CASE, False),
        ("", rules.ANY_CASE, False),
        ("a" * 100, rules.ANY_CASE, True),
        ("a" * 101, rules.ANY_CASE, False),
        ("Ontology", rules.PASCAL, False),
        ("primaryKey", rules.CAMEL, False),
        ("rid", rules.CAMEL, False),
        ("typeId", rules.CAMEL, False),
        ("ontologyObject", rules.CAMEL, False),
        ("Relation", rules.PASCAL, False),
        ("linkName", rules.CAMEL, True),
        ("Ünicode", rules.PASCAL, False),
    ],
)
def test_api_names(name, case, ok):
    assert (rules.check_api_name(name, case) == []) is ok


@pytest.mark.parametrize("base", ["string", "integer", "short"])
def test_primary_key_allowed(base):
    assert rules.check_primary_key_type(base) == ([], [])


@pytest.mark.parametrize("base", ["long", "date", "timestamp", "boolean", "byte"])
def test_primary_key_allowed_with_warning(base):
    errors, warnings = rules.check_primary_key_type(base)
    assert errors == [] and len(warnings) == 1 and base in warnings[0]


@pytest.mark.parametrize(
    "base",
    [
        "float",
        "double",
        "decimal",
        "struct",
        "array",
        "geopoint",
        "geoshape",
        "attachment",
        "vector",
    ],
)
def test_primary_key_forbidden(base):
    errors, _ = rules.check_primary_key_type(base, "string")
    assert errors and "primary key" in errors[0]


def test_title_property_must_be_primitive():
    assert rules.check_title_type("string") == []
    assert rules.check_title_type("timestamp") == []
    assert rules.check_title_type("struct")
    assert rules.check_title_type("array")
    assert rules.check_title_type("vector")


def test_type_shape():
    assert rules.check_type_shape("array", "string", False) == {}
    assert "item_type" in rules.check_type_shape("array", None, False)
    assert "item_type" in rules.check_type_shape("array", "vector", False)
    assert "item_type" in rules.check_type_shape("string", "string", False)
    assert "struct_type" in rules.check_type_shape("struct", None, False)
    assert rules.check_type_shape("struct", None, True) == {}
    assert rules.check_type_shape("array", "struct", True) == {}
    assert "struct_type" in rules.check_type_shape("string", None, True)


def test_struct_field_count():
    assert rules.check_struct_field_count(0)
    assert rules.check_struct_field_count(1) == []
    assert rules.check_struct_field_count(10) == []
    assert rules.check_struct_field_count(11)


@pytest.mark.parametrize(
    ("constraints", "base", "item", "fragment"),
    [
        ({"regex": {"pattern": "^[A-Z]{3}$"}}, "integer", None, "regex"),
        ({"regex": {"pattern": "([a-z"}}, "string", None, "regex.pattern"),
        ({"range": {"min": 5, "max": 1}}, "integer", None, "must not be greater"),
        (
            {"range": {"min": "2020-02-01", "max": "2020-01-01"}},
            "date",
            None,
            "must not be greater",
        ),
        ({"range": {"min": "yesterday"}}, "date", None, "ISO date"),
        ({"range": {"min": 1.5}}, "integer", None, "whole number"),
        ({"range": {"min": 1}}, "string", None, "range"),
        ({"length": {"min": 5, "max": 2}}, "string", None, "must not be greater"),
        ({"length": {"min": -1}}, "string", None, "negative"),
        ({"length": {"max": 3}}, "integer", None, "length"),
        ({"enum": {"values": [1, "two"]}}, "integer", None, "enum.values"),
        ({"enum": {"values": []}}, "string", None, "enum"),
        ({"enum": {"values": ["a", "A"], "caseInsensitive": True}}, "string", None, "twice"),
        ({"enum": {"values": [1], "caseInsensitive": True}}, "integer", None, "caseInsensitive"),
        ({"enum": {"values": [True]}}, "boolean", None, "enum"),
        ({"format": "email"}, "string", None, "format"),
        ({"format": "uuid"}, "integer", None, "format"),
        ({"arraySize": {"max": 3}}, "string", None, "arraySize"),
        ({"uniqueItems": "yes"}, "array", "string", "uniqueItems"),
        ({"items": {"regex": {"pattern": "x"}}}, "array", "integer", "items.regex"),
        ({"bogus": 1}, "string", None, "Unknown"),
        ("not an object", "string", None, "JSON object"),
    ],
)
def test_constraints_refused(constraints, base, item, fragment):
    errors = rules.check_constraints(constraints, base, item)
    assert errors, f"{constraints} on {base} should be refused"
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(
    ("constraints", "base", "item"),
    [
        ({}, "string", None),
        ({"regex": {"pattern": "^[A-Z]{3}$"}, "length": {"min": 3, "max": 3}}, "string", None),
        ({"enum": {"values": ["economy", "business"], "caseInsensitive": True}}, "string", None),
        ({"enum": {"values": [1, 2, 3]}}, "integer", None),
        ({"enum": {"values": [1.5, 2]}}, "double", None),
        ({"range": {"min": 0, "max": 100}}, "double", None),
        ({"range": {"min": 0}}, "long", None),
        ({"range": {"min": "2020-01-01", "max": "2030-12-31"}}, "date", None),
        ({"range": {"max": "2030-01-01T00:00:00Z"}}, "timestamp", None),
        ({"format": "rid"}, "string", None),
        (
            {
                "arraySize": {"min": 1, "max": 5},
                "uniqueItems": True,
                "items": {"length": {"max": 3}},
            },
            "array",
            "string",
        ),
    ],
)
def test_constraints_accepted(constraints, base, item):
    assert rules.check_constraints(constraints, base, item) == []
