"""Filtering, search, ordering and pagination of the list endpoints."""

from __future__ import annotations

import pytest

from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
    StructTypeFactory,
    ValueTypeFactory,
)
from tests.ontology.conftest import url

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["apiName"] for row in response.json()["results"]]


def test_lists_hold_only_the_branch_rows(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Mine")
    ObjectTypeFactory(branch=BranchFactory(name="other"), api_name="Theirs")
    assert names(api.get(url("dev", "object-types"))) == ["Mine"]


def test_branch_names_may_contain_slashes(api):
    ObjectTypeFactory(branch=BranchFactory(name="feature/x"), api_name="Flight")
    assert names(api.get(url("feature/x", "object-types"))) == ["Flight"]
    assert api.get(url("feature/x", "object-types", "Flight")).status_code == 200


def test_object_type_filters(api, dev):
    trackable = InterfaceFactory(branch=dev, api_name="Trackable")
    shared = SharedPropertyFactory(branch=dev, api_name="createdAt")
    a = ObjectTypeFactory(
        branch=dev, api_name="Airport", visibility="PROMINENT", interfaces=[trackable]
    )
    PropertyFactory(object_type=a, shared_property=shared)
    PropertyFactory(object_type=a, shared_property=shared)
    ObjectTypeFactory(branch=dev, api_name="Crew", status="EXPERIMENTAL", visibility="HIDDEN")
    ObjectTypeFactory(branch=dev, api_name="Flight")
    get = lambda **q: names(api.get(url("dev", "object-types"), q))  # noqa: E731
    assert get(status="EXPERIMENTAL") == ["Crew"]
    assert get(visibility=["PROMINENT", "HIDDEN"]) == ["Airport", "Crew"]
    assert get(interface="trackable") == ["Airport"]
    assert get(sharedProperty="createdAt") == ["Airport"]
    assert get(apiName="FLIGHT") == ["Flight"]


def test_search_covers_api_name_display_name_and_description(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Airport", display_name="Aerodrome")
    ObjectTypeFactory(branch=dev, api_name="Flight", description="departs from an airport")
    ObjectTypeFactory(branch=dev, api_name="Crew")
    assert names(api.get(url("dev", "object-types"), {"search": "airport"})) == [
        "Airport",
        "Flight",
    ]
    assert names(api.get(url("dev", "object-types"), {"search": "aerodrome"})) == ["Airport"]


def test_ordering_by_camel_case_fields(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Beta", display_name="a")
    ObjectTypeFactory(branch=dev, api_name="Alpha", display_name="b")
    assert names(api.get(url("dev", "object-types"))) == ["Alpha", "Beta"]
    assert names(api.get(url("dev", "object-types"), {"ordering": "-apiName"})) == [
        "Beta",
        "Alpha",
    ]
    assert names(api.get(url("dev", "object-types"), {"ordering": "displayName"})) == [
        "Beta",
        "Alpha",
    ]


def test_pagination(api, dev):
    for i in range(7):
        ValueTypeFactory(branch=dev, api_name=f"Type{i}")
    page = api.get(url("dev", "value-types"), {"page_size": 3, "page": 2}).json()
    assert page["count"] == 7
    assert [r["apiName"] for r in page["results"]] == ["Type3", "Type4", "Type5"]
    assert page["next"] and page["previous"]


def test_typed_filters(api, dev):
    vt = ValueTypeFactory(branch=dev, api_name="Tags", base_type="array", item_type="string")
    ValueTypeFactory(branch=dev, api_name="Count", base_type="integer")
    assert names(api.get(url("dev", "value-types"), {"baseType": "integer"})) == ["Count"]
    assert names(api.get(url("dev", "value-types"), {"itemType": "string"})) == ["Tags"]
    SharedPropertyFactory(branch=dev, api_name="email", pii=True)
    SharedPropertyFactory(
        branch=dev, api_name="tags", base_type="array", item_type="string", value_type=vt
    )
    assert names(api.get(url("dev", "shared-properties"), {"pii": "true"})) == ["email"]
    assert names(api.get(url("dev", "shared-properties"), {"valueType": "tags"})) == ["tags"]


def test_link_type_filters(api, dev):
    flight = ObjectTypeFactory(branch=dev, api_name="Flight")
    crew = ObjectTypeFactory(branch=dev, api_name="Crew")
    LinkTypeFactory(branch=dev, api_name="flightCrew", source=flight, target=crew)
    LinkTypeFactory(branch=dev, api_name="other")
    get = lambda **q: names(api.get(url("dev", "link-types"), q))  # noqa: E731
    assert get(source="flight") == ["flightCrew"]
    assert get(target="Crew") == ["flightCrew"]
    assert get(objectType="crew") == ["flightCrew"]
    assert get(cardinality="MANY_TO_MANY") == ["flightCrew", "other"]
    assert get(cardinality="ONE_TO_ONE") == []


def test_interface_and_struct_type_filters(api, dev):
    base = InterfaceFactory(branch=dev, api_name="Entity")
    InterfaceFactory(branch=dev, api_name="Trackable", extends=[base])
    assert names(api.get(url("dev", "interfaces"), {"extends": "entity"})) == ["Trackable"]
    StructTypeFactory(branch=dev, api_name="Address", fields=1, status="DEPRECATED")
    StructTypeFactory(branch=dev, api_name="Point", fields=1)
    assert names(api.get(url("dev", "struct-types"), {"status": "DEPRECATED"})) == ["Address"]
