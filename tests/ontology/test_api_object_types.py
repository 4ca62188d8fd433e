"""Object types over the API: nested properties, keys by api name, PUT vs PATCH."""

from __future__ import annotations

import pytest

from ontology.models import ObjectType, Property
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    ObjectTypeFactory,
    SharedPropertyFactory,
    ValueTypeFactory,
)
from tests.ontology.conftest import url

pytestmark = pytest.mark.django_db

FLIGHT = {
    "apiName": "Flight",
    "displayName": "Flight",
    "pluralDisplayName": "Flights",
    "description": "A scheduled flight.",
    "properties": [
        {"apiName": "flightNumber", "displayName": "Flight number", "baseType": "string"},
        {"apiName": "departure", "displayName": "Departure", "baseType": "timestamp"},
    ],
    "primaryKey": "flightNumber",
    "titleProperty": "flightNumber",
}


def create_flight(api, **overrides):
    response = api.post(url("dev", "object-types"), {**FLIGHT, **overrides}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_returns_the_representation(api, dev):
    body = create_flight(api)
    ot = ObjectType.objects.get(branch=dev, api_name="Flight")
    assert body["rid"] == str(ot.rid)
    assert body["apiName"] == "Flight" and body["pluralDisplayName"] == "Flights"
    assert [p["apiName"] for p in body["properties"]] == ["flightNumber", "departure"]
    assert body["primaryKey"] == {"rid": body["properties"][0]["rid"], "apiName": "flightNumber"}
    assert body["titleProperty"]["apiName"] == "flightNumber"
    assert body["warnings"] == []
    assert body["deprecation"] is None and body["status"] == "ACTIVE"


def test_retrieve_by_api_name_case_insensitively_and_by_rid(api, dev):
    body = create_flight(api)
    assert api.get(url("dev", "object-types", "fLiGhT")).json()["rid"] == body["rid"]
    assert api.get(url("dev", "object-types", body["rid"])).json()["apiName"] == "Flight"


def test_a_long_primary_key_is_accepted_with_a_warning(api, dev):
    props = [{"apiName": "id", "displayName": "Id", "baseType": "long"}]
    body = create_flight(api, properties=props, primaryKey="id", titleProperty=None)
    assert body["warnings"] and "long primary key" in body["warnings"][0]
    assert api.get(url("dev", "object-types", "Flight")).json()["warnings"] == body["warnings"]


def test_patch_without_properties_leaves_them_untouched(api, dev):
    create_flight(api)
    response = api.patch(url("dev", "object-types", "Flight"), {"icon": "plane"}, format="json")
    assert response.status_code == 200
    assert response.json()["icon"] == "plane"
    assert len(response.json()["properties"]) == 2
    assert response.json()["primaryKey"]["apiName"] == "flightNumber"


def test_patch_with_properties_replaces_them_and_keeps_renamed_ones_by_rid(api, dev):
    body = create_flight(api)
    number = body["properties"][0]
    response = api.patch(
        url("dev", "object-types", "Flight"),
        {
            "properties": [
                {"rid": number["rid"], "apiName": "number", "displayName": "Number"},
                {"apiName": "gate", "displayName": "Gate", "baseType": "string"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    props = response.json()["properties"]
    assert [p["apiName"] for p in props] == ["number", "gate"]
    assert props[0]["rid"] == number["rid"] and props[0]["baseType"] == "string"
    assert response.json()["primaryKey"] == {"rid": number["rid"], "apiName": "number"}
    assert not Property.objects.filter(branch=dev, api_name="departure").exists()


def test_put_replaces_the_whole_entity(api, dev):
    create_flight(api, icon="plane", description="old")
    response = api.put(
        url("dev", "object-types", "Flight"),
        {
            "apiName": "Flight",
            "displayName": "Flight",
            "pluralDisplayName": "Flights",
            "properties": [{"apiName": "code", "displayName": "Code", "baseType": "integer"}],
            "primaryKey": {"apiName": "code"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["icon"] == "" and body["description"] == ""
    assert [p["apiName"] for p in body["properties"]] == ["code"]
    assert body["primaryKey"]["apiName"] == "code" and body["titleProperty"] is None


def test_rename_through_put_keeps_the_rid(api, dev):
    body = create_flight(api)
    response = api.put(
        url("dev", "object-types", "Flight"), {**FLIGHT, "apiName": "Voyage"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["rid"] == body["rid"]
    assert api.get(url("dev", "object-types", "Flight")).status_code == 404


def test_property_references_value_types_and_shared_properties(api, dev):
    vt = ValueTypeFactory(branch=dev, api_name="FlightCode")
    sp = SharedPropertyFactory(branch=dev, api_name="createdAt", base_type="timestamp")
    props = [
        {
            "apiName": "flightNumber",
            "displayName": "Flight number",
            "baseType": "string",
            "valueType": "flightcode",
        },
        {
            "apiName": "createdAt",
            "displayName": "Created",
            "baseType": "timestamp",
            "sharedProperty": {"rid": str(sp.rid)},
        },
    ]
    body = create_flight(api, properties=props)
    assert body["properties"][0]["valueType"] == {"rid": str(vt.rid), "apiName": "FlightCode"}
    assert body["properties"][1]["sharedProperty"] == {"rid": str(sp.rid), "apiName": "createdAt"}


def test_a_reference_to_another_branch_is_refused(api, dev):
    other = BranchFactory(name="other")
    ValueTypeFactory(branch=other, api_name="FlightCode")
    props = [{**FLIGHT["properties"][0], "valueType": "FlightCode"}]
    response = api.post(url("dev", "object-types"), {**FLIGHT, "properties": props}, format="json")
    assert response.status_code == 400
    assert "properties.0.valueType" in response.json()["error"]["fields"]


def test_interfaces_by_api_name_and_their_required_properties(api, dev):
    sp = SharedPropertyFactory(branch=dev, api_name="createdAt", base_type="timestamp")
    InterfaceFactory(branch=dev, api_name="Trackable", properties=[sp])
    response = api.post(
        url("dev", "object-types"), {**FLIGHT, "interfaces": ["Trackable"]}, format="json"
    )
    assert response.status_code == 400
    assert "createdAt" in response.json()["error"]["fields"]["interfaces.0"][0]
    props = [
        *FLIGHT["properties"],
        {
            "apiName": "createdAt",
            "displayName": "Created",
            "baseType": "timestamp",
            "sharedProperty": "createdAt",
        },
    ]
    body = create_flight(api, interfaces=["trackable"], properties=props)
    assert [i["apiName"] for i in body["interfaces"]] == ["Trackable"]


def test_rule_errors_name_the_camel_case_field(api, dev):
    props = [{"apiName": "location", "displayName": "Where", "baseType": "geopoint"}]
    response = api.post(
        url("dev", "object-types"),
        {**FLIGHT, "properties": props, "primaryKey": "location", "titleProperty": None},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["primaryKey"]

    response = api.post(
        url("dev", "object-types"),
        {**FLIGHT, "status": "DEPRECATED", "deprecation": {"message": "old"}},
        format="json",
    )
    assert response.status_code == 400
    assert "deprecation.deadline" in response.json()["error"]["fields"]

    response = api.post(
        url("dev", "object-types"),
        {**FLIGHT, "properties": [*FLIGHT["properties"], {"apiName": "Bad", "displayName": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "properties.2.baseType" in response.json()["error"]["fields"]


def test_deprecation_round_trip(api, dev):
    body = create_flight(
        api, status="DEPRECATED", deprecation={"message": "use Voyage", "deadline": "2030-01-01"}
    )
    assert body["deprecation"] == {"message": "use Voyage", "deadline": "2030-01-01"}


def test_delete(api, dev):
    create_flight(api)
    assert api.delete(url("dev", "object-types", "Flight")).status_code == 204
    assert not ObjectType.objects.filter(branch=dev).exists()
    assert api.get(url("dev", "object-types", "Flight")).status_code == 404


def test_list_and_single_reads_use_a_fixed_number_of_queries(
    api, dev, django_assert_max_num_queries
):
    vt = ValueTypeFactory(branch=dev)
    for _ in range(5):
        ot = ObjectTypeFactory(branch=dev, properties=10, properties__value_type=vt)
        ot.interfaces.set([InterfaceFactory(branch=dev)])
    with django_assert_max_num_queries(8):
        response = api.get(url("dev", "object-types"))
    assert response.json()["count"] == 5
    assert all(len(o["properties"]) == 10 for o in response.json()["results"])
    with django_assert_max_num_queries(8):
        api.get(url("dev", "object-types", ot.api_name))


@pytest.mark.parametrize(
    "change",
    [
        {"description": "new words"},
        {"displayName": "Flight!", "pluralDisplayName": "Flights!", "icon": "plane"},
        {"visibility": "HIDDEN"},
        {"description": "", "icon": ""},
        {"status": "DEPRECATED", "deprecation": {"message": "Use Trip", "deadline": "2031-1-2"}},
        {"apiName": "Voyage"},
    ],
)
def test_a_write_of_its_own_fields_answers_the_document_as_stored(api, dev, change):
    """A PATCH of an object type's own fields makes the new document from the one it read
    before writing (no second read): it must be the document the rows hold, to the byte,
    in the answer, the change event and the rule set's input."""
    from ontology.documents import stored_document
    from ontology.services import save_object_type

    body = create_flight(api)
    other = api.post(
        url("dev", "object-types"),
        {"apiName": "Trip", "displayName": "T", "pluralDisplayName": "T", "properties": []},
        format="json",
    )
    assert other.status_code == 201, other.content
    response = api.patch(url("dev", "object-types", body["apiName"]), change, format="json")
    assert response.status_code == 200, response.content
    name = change.get("apiName", body["apiName"])
    assert api.get(url("dev", "object-types", name)).json() == response.json()
    ot = ObjectType.objects.get(branch=dev, api_name=name)
    values = {"replaced_by": ObjectType.objects.get(branch=dev, api_name="Trip")}
    if ot.status == "DEPRECATED":
        save_object_type(dev, values, instance=ot, system=True)
        assert ot.written_document == stored_document(ot)
    save_object_type(dev, {"description": "again"}, instance=ot, system=True)
    assert ot.written_document == stored_document(ot)
