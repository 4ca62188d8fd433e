"""The ``time`` base type (a time of day): its values and constraints, its type changes
(classified and merged), the API, the admin and the generated schemas."""

from __future__ import annotations

import pytest
from graphql import GraphQLNonNull, GraphQLScalarType, build_schema
from jsonschema import Draft202012Validator

from ontology import rules
from ontology.compatibility_rules import element_shift
from ontology.merge_policy import OntologyPolicy
from ontology.models import ObjectType, ValueType
from ontology.schemas import graphql, jsonschema
from tests.factories import BranchFactory
from tests.ontology.conftest import url
from tests.ontology.test_admin import form_data, property_rows, select
from tests.ontology.test_admin import url as admin_url
from tests.versioning.domain.builders import object_type, prop, value_type, with_prop
from versioning.domain import Severity, merge3
from versioning.domain.compatibility import Compatibility as C

OPENING = value_type("vt", "OpeningTime", "time", {"range": {"min": "08:00", "max": "18:30"}})
SHOP = object_type(
    "ot",
    "Shop",
    {"p1": prop("code", required=True), "p2": prop("opens", "time", 1, valueType="vt")},
    primaryKey="p1",
)


# --- values and constraints --------------------------------------------------------------------


@pytest.mark.parametrize("bounds", [{"min": "08:00"}, {"min": "00:00:00", "max": "23:59:59.5"}])
def test_a_time_range_is_accepted(bounds):
    assert rules.check_constraints({"range": bounds}, "time") == []


@pytest.mark.parametrize("bad", ["8:00", "24:00", "08:00+01:00", "08:00Z", "2026-01-01T08:00", 800])
def test_a_time_of_day_is_hh_mm_without_offset(bad):
    errors = rules.check_constraints({"range": {"min": bad}}, "time")
    assert errors and "range.min" in errors[0] and "time of day" in errors[0]


def test_time_bounds_are_ordered_and_enums_hold_times():
    errors = rules.check_constraints({"range": {"min": "18:00", "max": "08:00"}}, "time")
    assert errors and "greater than max" in errors[0]
    assert rules.check_constraints({"enum": {"values": ["08:00", "12:00"]}}, "time") == []
    assert rules.check_constraints({"enum": {"values": ["noon"]}}, "time")
    assert rules.check_constraints({"length": {"max": 5}}, "time")  # lengths are for strings


def test_a_time_cannot_be_a_primary_key_but_can_be_a_title():
    errors, _ = rules.check_primary_key_type("time")
    assert errors and "time" in errors[0]
    assert rules.check_title_type("time") == []


# --- compatibility and merge -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "kind", "compat"),
    [
        ("time", "string", "type_converted", C.MIGRATION_REQUIRED),
        ("timestamp", "time", "type_converted", C.MIGRATION_REQUIRED),
        ("time", "timestamp", "type_changed", C.INCOMPATIBLE),
        ("date", "time", "type_changed", C.INCOMPATIBLE),
        ("time", "date", "type_changed", C.INCOMPATIBLE),
        ("string", "time", "type_changed", C.INCOMPATIBLE),
        ("time", "time", "type_widened", C.BACKWARD_COMPATIBLE),
    ],
)
def test_time_type_changes_are_classified(old, new, kind, compat):
    assert element_shift(old, new)[:2] == (compat, kind)


def test_a_time_is_never_widened_by_the_merge():
    base = {"ot": with_prop(SHOP, "p2", baseType="string", valueType=None)}
    ours = {"ot": with_prop(SHOP, "p2", baseType="time", valueType=None)}
    theirs = {"ot": with_prop(SHOP, "p2", baseType="timestamp", valueType=None)}
    result = merge3(base, ours, theirs, OntologyPolicy())
    [conflict] = result.conflicts
    assert conflict.path[-1] == "baseType" and conflict.severity is Severity.ERROR


def test_time_ranges_merge_as_a_union():
    base = {"vt": OPENING}
    ours = {"vt": {**OPENING, "constraints": {"range": {"min": "07:30", "max": "18:30"}}}}
    theirs = {"vt": {**OPENING, "constraints": {"range": {"min": "08:00", "max": "20:00"}}}}
    result = merge3(base, ours, theirs, OntologyPolicy())
    assert [c.severity for c in result.conflicts] == [Severity.WARN]
    assert result.tree_changes["vt"]["constraints"]["range"] == {"min": "07:30", "max": "20:00"}


def test_a_time_primary_key_blocks_the_merge():
    tree = {"ot": {**SHOP, "primaryKey": "p2"}, "vt": OPENING}
    problems = OntologyPolicy().validate_tree(tree, frozenset(tree))
    assert [p.path for p in problems] == [("primaryKey",)]


# --- generated schemas -------------------------------------------------------------------------


def test_graphql_has_a_time_scalar():
    schema = build_schema(graphql.generate([OPENING, SHOP]))
    opens = schema.get_type("Shop").fields["opens"].type
    assert opens.name == "OpeningTime" and "time" in opens.description
    plain = [with_prop(SHOP, "p2", valueType=None)]
    field = build_schema(graphql.generate(plain)).get_type("Shop").fields["opens"].type
    assert isinstance(field, GraphQLScalarType) and field.name == "Time"
    required = [with_prop(SHOP, "p2", valueType=None, required=True)]
    field = build_schema(graphql.generate(required)).get_type("Shop").fields["opens"].type
    assert isinstance(field, GraphQLNonNull) and field.of_type.name == "Time"


def test_json_schema_accepts_times_of_day_only():
    schema = jsonschema.generate([OPENING, SHOP])
    Draft202012Validator.check_schema(schema)
    shop = Draft202012Validator({**schema, "$ref": "#/$defs/Shop"})
    for good in ("08:00", "17:45:30", "23:59:59.123456"):
        assert shop.is_valid({"code": "a", "opens": good}), good
    for bad in ("8:00", "24:00", "08:00+01:00", "2026-01-01T08:00:00Z"):
        assert not shop.is_valid({"code": "a", "opens": bad}), bad
    assert "18:30" in schema["$defs"]["OpeningTime"]["description"]


# --- API and admin -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_creates_a_time_value_type_and_property(api, dev):
    body = {
        "apiName": "OpeningTime",
        "displayName": "Opening time",
        "baseType": "time",
        "constraints": {"range": {"min": "08:00", "max": "18:30"}},
    }
    created = api.post(url("dev", "value-types"), body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["baseType"] == "time"
    shop = {
        "apiName": "Shop",
        "displayName": "Shop",
        "pluralDisplayName": "Shops",
        "properties": [
            {"apiName": "code", "displayName": "Code", "baseType": "string"},
            {"apiName": "opens", "displayName": "Opens", "baseType": "time"},
            {"apiName": "slots", "displayName": "Slots", "baseType": "array", "itemType": "time"},
        ],
        "primaryKey": "code",
    }
    response = api.post(url("dev", "object-types"), shop, format="json")
    assert response.status_code == 201, response.json()
    assert [p["baseType"] for p in response.json()["properties"]] == ["string", "time", "array"]


@pytest.mark.django_db
def test_api_refuses_a_bad_time_bound_naming_the_field(api, dev):
    body = {
        "apiName": "OpeningTime",
        "displayName": "Opening time",
        "baseType": "time",
        "constraints": {"range": {"min": "8 o'clock"}},
    }
    response = api.post(url("dev", "value-types"), body, format="json")
    assert response.status_code == 400
    assert "constraints" in response.json()["error"]["fields"]
    assert not ValueType.objects.filter(branch=dev).exists()


@pytest.mark.django_db
def test_admin_adds_a_time_property(admin_client):
    work = BranchFactory(name="work")
    select(admin_client, work)
    data = form_data(admin_client.get(admin_url(ObjectType, "add")))
    data.update(
        api_name="Shop",
        display_name="Shop",
        plural_display_name="Shops",
        **property_rows(("code", "string"), ("opens", "time")),
    )
    response = admin_client.post(admin_url(ObjectType, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    shop = ObjectType.objects.get(branch=work, api_name="Shop")
    assert shop.properties.get(api_name="opens").base_type == "time"
