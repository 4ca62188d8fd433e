"""Input the API must refuse with a 400 naming the key, never drop silently or answer 500.

Each case here once crashed a request or was accepted and thrown away (issue 9).
"""

from __future__ import annotations

import json

import pytest

from ontology.models import StructType
from tests.factories import ObjectTypeFactory, StructTypeFactory, ValueTypeFactory
from tests.ontology.conftest import url
from tests.ontology.test_api_errors import assert_error

pytestmark = pytest.mark.django_db


def post_raw(api, kind: str, body: str):
    """A body as raw JSON text (so that escapes such as a lone surrogate get through)."""
    return api.generic("POST", url("dev", kind), body, content_type="application/json")


def value_type(constraints, base_type: str = "string") -> dict:
    return {
        "apiName": "Code",
        "displayName": "Code",
        "baseType": base_type,
        "constraints": constraints,
    }


# --- unknown and unsupported keys ------------------------------------------------------


@pytest.mark.parametrize("key", ["valueType", "constraints"])
def test_an_unsupported_struct_field_key_is_400_naming_it(api, dev, key):
    body = {
        "apiName": "Address",
        "displayName": "Address",
        "fields": [
            {"apiName": "street", "displayName": "Street", "baseType": "string"},
            {"apiName": "zip", "displayName": "Zip", "baseType": "string", key: {}},
        ],
    }
    error = assert_error(api.post(url("dev", "struct-types"), body, format="json"), 400)
    assert list(error["fields"]) == [f"fields.1.{key}"], error
    assert not StructType.objects.filter(branch=dev).exists()


def test_an_unknown_top_level_key_is_400_naming_it(api, dev):
    body = {"apiName": "Flight", "displayName": "F", "pluralDisplayName": "Fs", "colour": "red"}
    error = assert_error(api.post(url("dev", "object-types"), body, format="json"), 400)
    assert list(error["fields"]) == ["colour"], error


def test_an_unknown_key_in_a_property_and_in_a_reference_is_400(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    body = {"properties": [{"apiName": "p0", "displayName": "P", "baseType": "string", "x": 1}]}
    error = assert_error(api.patch(url("dev", "object-types", "Flight"), body, format="json"), 400)
    assert list(error["fields"]) == ["properties.0.x"], error
    body = {"primaryKey": {"apiName": "p0", "nick": "p"}}
    error = assert_error(api.patch(url("dev", "object-types", "Flight"), body, format="json"), 400)
    assert list(error["fields"]) == ["primaryKey.nick"], error


def test_an_unknown_key_in_deprecation_and_link_sides_is_400(api, dev):
    ValueTypeFactory(branch=dev, api_name="Code")
    body = {"deprecation": {"message": "old", "when": "now"}}
    error = assert_error(api.patch(url("dev", "value-types", "Code"), body, format="json"), 400)
    assert list(error["fields"]) == ["deprecation.when"], error


def test_a_read_only_key_is_refused_not_ignored(api, dev):
    ValueTypeFactory(branch=dev, api_name="Code")
    body = {"createdAt": "2020-01-01T00:00:00Z"}
    error = assert_error(api.patch(url("dev", "value-types", "Code"), body, format="json"), 400)
    assert list(error["fields"]) == ["createdAt"], error


@pytest.mark.parametrize(
    ("constraints", "named"),
    [
        ({"regex": {"pattern": "a+", "flags": "i"}}, "regex.flags"),
        ({"enum": {"values": ["A"], "sorted": True}}, "enum.sorted"),
        ({"lenght": {"max": 3}}, "lenght"),
    ],
)
def test_an_unknown_constraint_key_is_400_naming_it(api, dev, constraints, named):
    response = api.post(url("dev", "value-types"), value_type(constraints), format="json")
    error = assert_error(response, 400, "constraints")
    assert named in error["fields"]["constraints"][0], error


# --- inputs that crashed a request -----------------------------------------------------


@pytest.mark.parametrize("depth", [500, 700, 900])
def test_deeply_nested_enum_values_are_400(api, dev, depth):
    body = json.dumps(value_type({"enum": {"values": ["A"]}}))
    nested = "[" * depth + '"A"' + "]" * depth
    body = body.replace('["A"]', nested)
    error = assert_error(post_raw(api, "value-types", body), 400)
    assert "nested" in error["message"], error


def test_a_lone_surrogate_as_a_constraints_key_is_400(api, dev):
    body = json.dumps(value_type({"enum": {"values": ["A"]}})).replace('"enum"', '"\\ud800"')
    error = assert_error(post_raw(api, "value-types", body), 400)
    assert "constraints" in json.dumps(error["fields"]), error


def test_a_lone_surrogate_in_a_string_is_400(api, dev):
    body = json.dumps(value_type({})).replace('"Code", "baseType"', '"C\\udc00", "baseType"')
    assert_error(post_raw(api, "value-types", body), 400, "displayName")


@pytest.mark.parametrize("bound", ["NaN", "sNaN", "Infinity", "-inf"])
def test_a_double_range_bound_that_is_not_a_finite_number_is_400(api, dev, bound):
    body = value_type({"range": {"min": bound}}, base_type="double")
    assert_error(api.post(url("dev", "value-types"), body, format="json"), 400, "constraints")
    ValueTypeFactory(branch=dev, api_name="Weight", base_type="double")
    body = {"constraints": {"range": {"min": 0, "max": bound}}}
    response = api.patch(url("dev", "value-types", "Weight"), body, format="json")
    assert_error(response, 400, "constraints")


@pytest.mark.parametrize("value", ["sNaN", "NaN"])
def test_a_not_a_number_enum_value_is_400(api, dev, value):
    body = value_type({"enum": {"values": [value, "1.5"]}}, base_type="double")
    assert_error(api.post(url("dev", "value-types"), body, format="json"), 400, "constraints")


@pytest.mark.parametrize(
    "pattern",
    ["a{9999999999}", "a{2,9999999999}", "(" * 600 + "a" + ")" * 600, "x" * 20_000],
)
def test_a_regex_beyond_the_limits_is_400(api, dev, pattern):
    body = value_type({"regex": {"pattern": pattern}})
    error = assert_error(api.post(url("dev", "value-types"), body, format="json"), 400)
    assert "constraints" in error["fields"], error


def test_a_regex_within_the_limits_is_accepted(api, dev):
    body = value_type({"regex": {"pattern": r"^(\d{3})-[A-Z]{2,4}\{9999\}$"}})
    assert api.post(url("dev", "value-types"), body, format="json").status_code == 201


# --- children given by rid (docs/api.md, PUT and PATCH) --------------------------------


def test_patch_properties_given_only_by_rid_keeps_and_reorders_them(api, dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Flight", properties=3)
    rows = list(ot.properties.order_by("position").values_list("rid", "api_name"))
    rids = [str(rid) for rid, _ in rows]
    body = {"properties": [{"rid": rids[2]}, {"rid": rids[0], "displayName": "Renamed"}]}
    response = api.patch(url("dev", "object-types", "Flight"), body, format="json")
    assert response.status_code == 200, response.content
    props = response.json()["properties"]
    assert [p["rid"] for p in props] == [rids[2], rids[0]]
    assert props[1]["displayName"] == "Renamed"
    assert [p["apiName"] for p in props] == [rows[2][1], rows[0][1]]


def test_patch_a_primary_key_by_rid_among_rid_only_properties(api, dev):
    ot = ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    second = ot.properties.order_by("position")[1]
    body = {
        "properties": [{"rid": str(p.rid)} for p in ot.properties.order_by("position")],
        "primaryKey": {"rid": str(second.rid)},
    }
    response = api.patch(url("dev", "object-types", "Flight"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["primaryKey"]["rid"] == str(second.rid)


def test_patch_with_an_unknown_child_rid_and_no_name_is_400(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Flight", properties=1)
    unknown = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    body = {"properties": [{"rid": rid} for rid in unknown]}
    response = api.patch(url("dev", "object-types", "Flight"), body, format="json")
    error = assert_error(response, 400)
    assert "properties.0.apiName" in error["fields"], error


def test_patch_struct_fields_given_only_by_rid(api, dev):
    st = StructTypeFactory(branch=dev, api_name="Address", fields=2)
    rids = [str(r) for r in st.fields.order_by("position").values_list("rid", flat=True)]
    body = {"fields": [{"rid": rids[1]}, {"rid": rids[0]}]}
    response = api.patch(url("dev", "struct-types", "Address"), body, format="json")
    assert response.status_code == 200, response.content
    assert [f["rid"] for f in response.json()["fields"]] == [rids[1], rids[0]]
