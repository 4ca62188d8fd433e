"""Entity size limits (ontology/limits.py): refused with a 400 naming the limit, before any
work, so that no request at the limits holds a worker (issue 9, item 4)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ontology import limits
from ontology.models import ObjectType
from tests.factories import ObjectTypeFactory
from tests.ontology.conftest import url
from tests.ontology.test_api_errors import assert_error

pytestmark = pytest.mark.django_db


def object_type(count: int) -> dict:
    return {
        "apiName": "Flight",
        "displayName": "Flight",
        "pluralDisplayName": "Flights",
        "properties": [
            {"apiName": f"p{i}", "displayName": f"P{i}", "baseType": "string"} for i in range(count)
        ],
    }


def queries_of(call) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, len(captured.captured_queries)


def test_one_property_over_the_limit_is_refused_before_any_work(api, dev):
    # the baseline: a body refused by its first field, which no item can have caused
    _, baseline = queries_of(lambda: api.post(url("dev", "object-types"), {}, format="json"))
    body = object_type(limits.PROPERTIES + 1)
    response, count = queries_of(lambda: api.post(url("dev", "object-types"), body, format="json"))
    error = assert_error(response, 400, "properties")
    assert "limit 'properties'" in error["fields"]["properties"][0], error
    assert count <= baseline, f"{count} queries for a refused body (baseline {baseline})"
    assert not ObjectType.objects.filter(branch=dev).exists()


def test_patch_over_the_limit_is_refused_before_any_work(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    target = url("dev", "object-types", "Flight")
    _, baseline = queries_of(lambda: api.patch(target, {"status": "NOPE"}, format="json"))
    body = {"properties": object_type(limits.PROPERTIES + 1)["properties"]}
    response, count = queries_of(lambda: api.patch(target, body, format="json"))
    assert_error(response, 400, "properties")
    assert count <= baseline, f"{count} queries for a refused body (baseline {baseline})"


def test_at_the_limit_an_object_type_is_accepted(api, dev):
    body = object_type(limits.PROPERTIES)
    response = api.post(url("dev", "object-types"), body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert len(response.json()["properties"]) == limits.PROPERTIES


@pytest.mark.parametrize(
    ("kind", "body", "field", "limit"),
    [
        (
            "struct-types",
            {
                "apiName": "Address",
                "displayName": "A",
                "fields": [
                    {"apiName": f"f{i}", "displayName": "F", "baseType": "string"}
                    for i in range(limits.STRUCT_FIELDS + 1)
                ],
            },
            "fields",
            "struct_fields",
        ),
        (
            "interfaces",
            {"apiName": "Coded", "displayName": "C", "extends": ["X"] * (limits.CHILDREN + 1)},
            "extends",
            "children",
        ),
        (
            "value-types",
            {
                "apiName": "Code",
                "displayName": "C",
                "baseType": "string",
                "constraints": {
                    "enum": {"values": [f"v{i}" for i in range(limits.ENUM_VALUES + 1)]}
                },
            },
            "constraints",
            "enum_values",
        ),
        (
            "value-types",
            {
                "apiName": "Code",
                "displayName": "C",
                "baseType": "string",
                "constraints": {"regex": {"pattern": "(" * 30 + "a" + ")" * 30}},
            },
            "constraints",
            "pattern_nesting",
        ),
        (
            "value-types",
            {
                "apiName": "Code",
                "displayName": "C",
                "baseType": "string",
                "constraints": {"regex": {"pattern": "a{1,5000}"}},
            },
            "constraints",
            "pattern_repeat",
        ),
    ],
)
def test_each_limit_is_a_400_naming_it(api, dev, kind, body, field, limit):
    error = assert_error(api.post(url("dev", kind), body, format="json"), 400, field)
    assert f"limit '{limit}'" in error["fields"][field][0], error


def test_a_description_over_the_limit_is_400(api, dev):
    body = {**object_type(1), "description": "x" * (limits.DESCRIPTION_LENGTH + 1)}
    assert_error(api.post(url("dev", "object-types"), body, format="json"), 400, "description")


def test_limits_come_from_the_environment_then_the_settings(monkeypatch, settings):
    limit = limits.Limit("properties", 150, "properties per object type")
    assert limits.read(limit) == 150
    settings.OMS_LIMITS = {"properties": 80}
    assert limits.read(limit) == 80
    monkeypatch.setenv("OMS_LIMIT_PROPERTIES", "60")
    assert limits.read(limit) == 60
    monkeypatch.setenv("OMS_LIMIT_PROPERTIES", "many")
    with pytest.raises(ImproperlyConfigured):
        limits.read(limit)
