"""CRUD of value types, struct types, shared properties, interfaces and link types."""

from __future__ import annotations

import pytest

from ontology.models import Interface, LinkType, SharedProperty, StructType, ValueType
from tests.factories import (
    InterfaceFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
    StructTypeFactory,
    ValueTypeFactory,
)
from tests.ontology.conftest import url

pytestmark = pytest.mark.django_db


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def test_value_type_crud(api, dev):
    body = ok(
        api.post(
            url("dev", "value-types"),
            {
                "apiName": "IataCode",
                "displayName": "IATA code",
                "baseType": "string",
                "constraints": {"regex": {"pattern": "^[A-Z]{3}$"}},
            },
            format="json",
        ),
        201,
    )
    assert body["constraints"] == {"regex": {"pattern": "^[A-Z]{3}$"}}
    assert body["itemType"] is None
    body = ok(
        api.patch(
            url("dev", "value-types", "iatacode"),
            {"constraints": {"length": {"min": 3, "max": 3}}},
            format="json",
        )
    )
    assert body["constraints"] == {"length": {"min": 3, "max": 3}}
    response = api.patch(
        url("dev", "value-types", "IataCode"),
        {"constraints": {"range": {"min": 1}}},
        format="json",
    )
    assert response.status_code == 400 and "constraints" in response.json()["error"]["fields"]
    body = ok(
        api.put(
            url("dev", "value-types", "IataCode"),
            {"apiName": "Tags", "displayName": "Tags", "baseType": "array", "itemType": "string"},
            format="json",
        )
    )
    assert body["constraints"] == {} and body["itemType"] == "string"
    assert ok(api.get(url("dev", "value-types")))["count"] == 1
    assert api.delete(url("dev", "value-types", "Tags")).status_code == 204
    assert not ValueType.objects.filter(branch=dev).exists()


def test_value_type_cannot_be_a_struct(api, dev):
    response = api.post(
        url("dev", "value-types"),
        {"apiName": "Shape", "displayName": "Shape", "baseType": "struct"},
        format="json",
    )
    assert response.status_code == 400 and "baseType" in response.json()["error"]["fields"]


STRUCT = {
    "apiName": "Address",
    "displayName": "Address",
    "fields": [
        {"apiName": "street", "displayName": "Street", "baseType": "string"},
        {"apiName": "zip", "displayName": "ZIP", "baseType": "string", "required": True},
    ],
}


def test_struct_type_crud(api, dev):
    body = ok(api.post(url("dev", "struct-types"), STRUCT, format="json"), 201)
    assert [f["apiName"] for f in body["fields"]] == ["street", "zip"]
    assert body["fields"][1]["required"] is True
    street = body["fields"][0]
    body = ok(
        api.patch(
            url("dev", "struct-types", "Address"),
            {
                "fields": [
                    {"apiName": "zip", "displayName": "ZIP", "baseType": "string"},
                    {"rid": street["rid"], "apiName": "line1", "displayName": "Line 1"},
                ]
            },
            format="json",
        )
    )
    assert [f["apiName"] for f in body["fields"]] == ["zip", "line1"]
    assert body["fields"][1]["rid"] == street["rid"]
    body = ok(api.patch(url("dev", "struct-types", "Address"), {"description": "x"}, format="json"))
    assert len(body["fields"]) == 2 and body["description"] == "x"
    assert api.delete(url("dev", "struct-types", "Address")).status_code == 204
    assert not StructType.objects.filter(branch=dev).exists()


def test_struct_type_field_count(api, dev):
    response = api.post(url("dev", "struct-types"), {**STRUCT, "fields": []}, format="json")
    assert response.status_code == 400 and "fields" in response.json()["error"]["fields"]
    payload = {key: value for key, value in STRUCT.items() if key != "fields"}
    assert api.post(url("dev", "struct-types"), payload, format="json").status_code == 400
    eleven = [{"apiName": f"f{i}", "displayName": "F", "baseType": "long"} for i in range(11)]
    response = api.post(url("dev", "struct-types"), {**STRUCT, "fields": eleven}, format="json")
    assert response.status_code == 400 and "fields" in response.json()["error"]["fields"]
    nested = [{"apiName": "inner", "displayName": "I", "baseType": "struct"}]
    response = api.post(url("dev", "struct-types"), {**STRUCT, "fields": nested}, format="json")
    assert response.status_code == 400 and "fields.0.baseType" in response.json()["error"]["fields"]


def test_shared_property_crud(api, dev):
    st = StructTypeFactory(branch=dev, api_name="Address", fields=1)
    body = ok(
        api.post(
            url("dev", "shared-properties"),
            {
                "apiName": "homeAddress",
                "displayName": "Home address",
                "baseType": "struct",
                "structType": "Address",
                "pii": True,
            },
            format="json",
        ),
        201,
    )
    assert body["structType"] == {"rid": str(st.rid), "apiName": "Address"} and body["pii"]
    response = api.patch(
        url("dev", "shared-properties", "homeAddress"), {"structType": None}, format="json"
    )
    assert response.status_code == 400 and "structType" in response.json()["error"]["fields"]
    body = ok(
        api.patch(
            url("dev", "shared-properties", "homeAddress"),
            {"baseType": "string", "structType": None},
            format="json",
        )
    )
    assert body["baseType"] == "string" and body["structType"] is None
    assert api.delete(url("dev", "shared-properties", "homeAddress")).status_code == 204
    assert not SharedProperty.objects.filter(branch=dev).exists()


def test_interface_crud(api, dev):
    sp = SharedPropertyFactory(branch=dev, api_name="createdAt")
    base = InterfaceFactory(branch=dev, api_name="Entity")
    owner = ObjectTypeFactory(branch=dev, api_name="Person")
    body = ok(
        api.post(
            url("dev", "interfaces"),
            {
                "apiName": "Trackable",
                "displayName": "Trackable",
                "extends": ["Entity"],
                "properties": ["createdAt"],
                "linkConstraints": [
                    {"apiName": "owner", "targetObjectType": "Person", "required": True}
                ],
            },
            format="json",
        ),
        201,
    )
    assert body["extends"] == [{"rid": str(base.rid), "apiName": "Entity"}]
    assert body["properties"] == [{"rid": str(sp.rid), "apiName": "createdAt"}]
    constraint = body["linkConstraints"][0]
    assert constraint["targetObjectType"] == {"rid": str(owner.rid), "apiName": "Person"}
    assert constraint["targetInterface"] is None and constraint["cardinality"] == "MANY"

    response = api.patch(
        url("dev", "interfaces", "Entity"), {"extends": ["Trackable"]}, format="json"
    )
    assert response.status_code == 400 and "extends" in response.json()["error"]["fields"]

    response = api.patch(
        url("dev", "interfaces", "Trackable"),
        {"linkConstraints": [{"apiName": "owner", "targetObjectType": None}]},
        format="json",
    )
    assert response.status_code == 400
    assert "linkConstraints.0" in response.json()["error"]["fields"]

    body = ok(api.patch(url("dev", "interfaces", "Trackable"), {"extends": []}, format="json"))
    assert body["extends"] == [] and len(body["linkConstraints"]) == 1

    response = api.delete(url("dev", "object-types", "Person"))
    assert response.status_code == 409 and "Trackable" in response.json()["error"]["message"]

    assert api.delete(url("dev", "interfaces", "Trackable")).status_code == 204
    assert list(Interface.objects.filter(branch=dev)) == [base]


def test_link_type_crud(api, dev):
    aircraft = ObjectTypeFactory(branch=dev, api_name="Aircraft", properties=1)
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=1)
    fk = PropertyFactory(object_type=flight, api_name="aircraftId")
    payload = {
        "apiName": "flightAircraft",
        "cardinality": "ONE_TO_MANY",
        "source": "Flight",
        "target": {"rid": str(aircraft.rid)},
        "sourceSide": {"apiName": "aircraft", "displayName": "Aircraft"},
        "targetSide": {"apiName": "flights", "displayName": "Flights"},
        "foreignKeyProperty": "aircraftId",
    }
    body = ok(api.post(url("dev", "link-types"), payload, format="json"), 201)
    assert body["source"] == {"rid": str(flight.rid), "apiName": "Flight"}
    assert body["foreignKeyProperty"] == {"rid": str(fk.rid), "apiName": "aircraftId"}
    assert body["sourceSide"] == {
        "apiName": "aircraft",
        "displayName": "Aircraft",
        "visibility": "NORMAL",
    }

    response = api.patch(
        url("dev", "link-types", "flightAircraft"),
        {"targetSide": {"apiName": "Flights", "displayName": "F"}},
        format="json",
    )
    assert response.status_code == 400
    assert "targetSide.apiName" in response.json()["error"]["fields"]

    response = api.patch(
        url("dev", "link-types", "flightAircraft"),
        {"foreignKeyProperty": "nope"},
        format="json",
    )
    assert (
        response.status_code == 400 and "foreignKeyProperty" in response.json()["error"]["fields"]
    )

    body = ok(
        api.patch(
            url("dev", "link-types", "flightAircraft"),
            {"cardinality": "MANY_TO_MANY", "foreignKeyProperty": None},
            format="json",
        )
    )
    assert body["cardinality"] == "MANY_TO_MANY" and body["foreignKeyProperty"] is None

    response = api.delete(url("dev", "object-types", "Aircraft"))
    assert response.status_code == 409
    assert "flightAircraft" in response.json()["error"]["message"]

    assert api.delete(url("dev", "link-types", "flightAircraft")).status_code == 204
    assert not LinkType.objects.filter(branch=dev).exists()
    assert api.delete(url("dev", "object-types", "Aircraft")).status_code == 204


def test_value_type_in_use_cannot_be_deleted(api, dev):
    vt = ValueTypeFactory(branch=dev, api_name="Code")
    PropertyFactory(object_type=ObjectTypeFactory(branch=dev), value_type=vt)
    response = api.delete(url("dev", "value-types", "Code"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"
