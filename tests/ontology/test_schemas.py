"""Generated schemas: golden files for the demo ontology, each schema valid by its own
tool on random ontologies (hypothesis), and the mapping a consumer relies on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    build_schema,
    validate_schema,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from ontology import bundles
from ontology.management.commands.load_demo_ontology import DEMO_BUNDLE
from ontology.rule_set import TreeGraph, validate
from ontology.schemas import graphql, jsonschema, openapi
from tests.versioning.domain import builders as b
from tests.versioning.test_document_roundtrip import ontologies

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def demo_documents() -> list[dict]:
    data = bundles.loads(DEMO_BUNDLE.read_bytes())
    return [doc for docs in data["documents"].values() for doc in docs]


def texts(documents) -> dict[str, str]:
    return {
        "demo.graphql": graphql.generate(documents),
        "demo.schema.json": json.dumps(jsonschema.generate(documents), indent=2) + "\n",
        "demo.openapi.json": json.dumps(openapi.generate(documents), indent=2) + "\n",
    }


def assert_valid(documents) -> None:
    sdl = graphql.generate(documents)
    assert validate_schema(build_schema(sdl)) == []
    Draft202012Validator.check_schema(jsonschema.generate(documents))
    validate_openapi(openapi.generate(documents))


# --- the demo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo.graphql", "demo.schema.json", "demo.openapi.json"])
def test_demo_matches_its_golden_file(name):
    """Regenerate with UPDATE_GOLDEN=1 after a deliberate change, and review the diff."""
    text = texts(demo_documents())[name]
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_demo_schemas_are_valid():
    assert_valid(demo_documents())


def test_generation_does_not_depend_on_document_order():
    docs = demo_documents()
    assert texts(docs) == texts(list(reversed(docs)))


def test_graphql_maps_the_ontology():
    schema = build_schema(graphql.generate(demo_documents()))
    flight = schema.get_type("Flight")
    # links on both sides, list or single by cardinality
    assert flight.fields["aircraft"].type is schema.get_type("Aircraft")
    assert str(schema.get_type("Aircraft").fields["flights"].type) == "[Flight!]!"
    assert str(flight.fields["crew"].type) == "[CrewMember!]!"  # many-to-many
    # properties: required -> non-null; value types -> scalars, enums -> enums
    assert isinstance(flight.fields["flightId"].type, GraphQLNonNull)
    assert isinstance(schema.get_type("FlightNumber"), GraphQLScalarType)
    status = schema.get_type("FlightStatusCode")
    assert isinstance(status, GraphQLEnumType) and "CANCELLED" in status.values
    assert isinstance(schema.get_type("MonetaryAmount").fields["amount"].type, GraphQLNonNull)
    # interfaces with implements, inherited through extends
    assert {i.name for i in flight.interfaces} == {"Auditable", "Schedulable"}
    assert [i.name for i in schema.get_type("Schedulable").interfaces] == ["Auditable"]
    # deprecations
    pnr = schema.query_type.fields["passengerNameRecord"]
    assert pnr.deprecation_reason and "Booking" in pnr.deprecation_reason
    assert isinstance(schema.query_type.fields["flightList"].type.of_type, GraphQLList)


def test_json_schema_maps_constraints_and_references():
    defs = jsonschema.generate(demo_documents())["$defs"]
    assert defs["BookingReference"]["pattern"] == "^[A-Z0-9]{6}$"
    meals = defs["MealPreferences"]
    assert meals["maxItems"] == 3 and meals["uniqueItems"] is True
    assert meals["items"]["enum"][0] == "VGML" and meals["items"]["minLength"] == 4
    assert defs["Percentage"]["minimum"] == 0 and defs["Percentage"]["maximum"] == 100
    flight = defs["Flight"]
    assert "flightId" in flight["required"]
    assert flight["properties"]["flightNumber"]["$ref"] == "#/$defs/FlightNumber"
    validator = Draft202012Validator(
        {"$ref": "#/$defs/BookingReference", "$defs": defs},
    )
    assert validator.is_valid("X7KQ2P") and not validator.is_valid("x7")


def test_openapi_has_a_crud_surface_and_link_sub_resources():
    doc = openapi.generate(demo_documents())
    paths = doc["paths"]
    assert set(paths["/objects/Flight"]) == {"get", "post"}
    assert {"get", "put", "delete"} <= set(paths["/objects/Flight/{primaryKey}"])
    crew = paths["/objects/Flight/{primaryKey}/links/crew"]["get"]
    schema = crew["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["data"]["items"] == {"$ref": "#/components/schemas/CrewMember"}
    assert doc["components"]["schemas"]["Flight"]["properties"]["flightNumber"] == {
        **jsonschema.generate(demo_documents())["$defs"]["Flight"]["properties"]["flightNumber"],
        "$ref": "#/components/schemas/FlightNumber",
    }


# --- random ontologies ------------------------------------------------------------------------

CLASHING = st.sampled_from(["String", "Query", "Error", "Thing", "thing", "Long", "Int"])


@st.composite
def clashing_ontologies(draw) -> list[dict]:
    """Generated trees, some names made to clash: across kinds, with the schemas' own
    names, link ends with properties; interfaces extending in cycles; links to interfaces."""
    docs = list(draw(ontologies()).values())
    for doc in docs:
        named = doc["kind"] in ("objectType", "interface", "structType", "valueType")
        if named and draw(st.booleans()):
            doc["apiName"] = draw(CLASHING)
        if doc["kind"] == "linkType" and draw(st.booleans()):
            doc["sourceSide"]["apiName"] = doc["targetSide"]["apiName"] = "p"
    interfaces = [d for d in docs if d["kind"] == "interface"]
    for doc in interfaces:
        for other in interfaces:
            if draw(st.booleans()):
                doc["extends"][other["rid"]] = True
    for doc in docs:  # links to an interface: often, at either end or both
        if doc["kind"] == "linkType" and interfaces and draw(st.booleans()):
            doc.update(cardinality="MANY_TO_MANY", foreignKeyProperty=None)
            for end in draw(st.sampled_from([("source",), ("target",), ("source", "target")])):
                doc[end] = None
                doc[f"{end}Interface"] = draw(st.sampled_from(interfaces))["rid"]
    return docs


DEPRECATED = {"status": "DEPRECATED", "deprecation": {"message": "Gone.", "deadline": "2030-01-01"}}
M2M = {"cardinality": "MANY_TO_MANY", "foreignKeyProperty": None}


def _sides(source: str, target: str) -> dict:
    return {
        "sourceSide": {"apiName": source, "displayName": "", "visibility": "NORMAL"},
        "targetSide": {"apiName": target, "displayName": "", "visibility": "NORMAL"},
    }


def found_once_by_hypothesis() -> list[dict]:
    """The falsifying example hypothesis shrank to (its value and struct types, which
    played no part, left out): Ota0 implements Ifa0; a link from Ifa0 gives Ifa0 (and so
    Ota0) a field `Other`, while Ota0's own deprecated self-link names its side `Other`:
    Ota0's own field implements the interface's, deprecated where the interface's is not."""
    return [
        b.interface("259f4329-e6f4-490b-9a16-4106cf6a659e", "Ifa0"),
        b.object_type(
            "b4862b21-fb97-4435-8856-1712e8e5216a",
            "Ota0",
            interfaces={"259f4329-e6f4-490b-9a16-4106cf6a659e": True},
        ),
        b.link_type(
            "5487ce1e-af19-422a-99b8-a714e61a441c",
            "lta0",
            None,
            "b4862b21-fb97-4435-8856-1712e8e5216a",
            sourceInterface="259f4329-e6f4-490b-9a16-4106cf6a659e",
            **M2M,
            **_sides("Other", "one"),
        ),
        b.link_type(
            "5a921187-19c7-4df4-8f4f-f31e78de5857",
            "lta1",
            "b4862b21-fb97-4435-8856-1712e8e5216a",
            "b4862b21-fb97-4435-8856-1712e8e5216a",
            **{**DEPRECATED, "deprecation": {"message": "", "deadline": None}},
            **_sides("one", "Other"),
        ),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=clashing_ontologies())
@example(docs=found_once_by_hypothesis())
def test_all_three_are_valid_on_random_ontologies(docs):
    assert_valid(docs)


def _deprecated_property_of_an_interface() -> list[dict]:
    """Flight implements Trackable, which asks for createdAt; Flight's property based on
    it is deprecated, the shared property is not."""
    return [
        b.shared_property("sp1", "createdAt", "timestamp"),
        b.interface("if1", "Trackable", properties=("sp1",)),
        b.object_type(
            "ot1",
            "Flight",
            {
                "p1": b.prop("flightId", required=True),
                "p2": b.prop("createdAt", "timestamp", 1, sharedProperty="sp1", **DEPRECATED),
            },
            interfaces={"if1": True},
        ),
    ]


def _deprecated_link_named_as_the_interface_link() -> list[dict]:
    """The case hypothesis found, valid by the rule set: Thing implements Tagged; a link
    from Tagged gives it `tagged`, and Thing's own deprecated self-link names a side so."""
    return [
        b.interface("if1", "Tagged"),
        b.object_type("ot1", "Thing", {"p1": b.prop("thingId")}, interfaces={"if1": True}),
        b.link_type(
            "lt1",
            "taggedThings",
            None,
            "ot1",
            sourceInterface="if1",
            **M2M,
            **_sides("tagged", "taggers"),
        ),
        b.link_type(
            "lt2", "thingThings", "ot1", "ot1", **M2M, **DEPRECATED, **_sides("next", "tagged")
        ),
    ]


def _deprecated_link_named_as_the_parent_constraint() -> list[dict]:
    """Between interfaces: Owned asks for `items` (a link constraint, never deprecated);
    Box extends it, and a deprecated link from Box names its side `items`."""
    return [
        b.object_type("ot1", "Item", {"p1": b.prop("itemId")}),
        b.interface("if1", "Owned", link_constraints={"lc1": b.link_constraint("items", "ot1")}),
        b.interface("if2", "Box", extends=("if1",)),
        b.link_type(
            "lt1",
            "boxItems",
            None,
            "ot1",
            sourceInterface="if2",
            **M2M,
            **DEPRECATED,
            **_sides("items", "boxes"),
        ),
    ]


@pytest.mark.parametrize(
    ("documents", "type_name", "interface_name", "field"),
    [
        (_deprecated_property_of_an_interface(), "Flight", "Trackable", "createdAt"),
        (_deprecated_link_named_as_the_interface_link(), "Thing", "Tagged", "tagged"),
        (_deprecated_link_named_as_the_parent_constraint(), "Box", "Owned", "items"),
    ],
)
def test_a_deprecated_field_implementing_an_active_interface_field(
    documents, type_name, interface_name, field
):
    """GraphQL allows a deprecated implementation only of a deprecated interface field:
    the type still implements the interface (deprecating a field must not break the
    clients that query through it), its field says it is deprecated in its description."""
    tree = {doc["rid"]: doc for doc in documents}
    graph = TreeGraph(tree)
    assert validate(graph, set(tree), lambda rid: None, graph.names) == []  # a valid ontology
    assert_valid(documents)
    built = build_schema(graphql.generate(documents))
    gtype = built.get_type(type_name)
    assert interface_name in {i.name for i in gtype.interfaces}
    assert gtype.fields[field].deprecation_reason is None
    assert "Deprecated: Gone. (removal after 2030-01-01)" in gtype.fields[field].description


# --- PII travels into the generated schemas ---------------------------------------------------


def _pii_fields_in_sdl(sdl: str) -> set[str]:
    from graphql import parse

    return {
        f"{definition.name.value}.{field.name.value}"
        for definition in parse(sdl).definitions
        for field in getattr(definition, "fields", None) or ()
        if any(d.name.value == "pii" for d in field.directives or ())
    }


def _with_shared_pii(documents: list[dict]) -> tuple[list[dict], str]:
    """The demo with its first shared property marked PII (not the property using it)."""
    docs = json.loads(json.dumps(documents))
    shared = sorted((d for d in docs if d["kind"] == "sharedProperty"), key=lambda d: d["apiName"])
    shared[0]["pii"] = True
    return docs, shared[0]["rid"]


def test_pii_properties_are_marked_in_every_generated_schema():
    docs = demo_documents()
    sdl = graphql.generate(docs)
    assert validate_schema(build_schema(sdl)) == []
    marked = _pii_fields_in_sdl(sdl)
    assert {"Passenger.email", "Passenger.dateOfBirth", "CrewMember.licenseNumber"} <= marked
    assert "Passenger.passengerId" not in marked and "Flight.flightId" not in marked
    defs = jsonschema.generate(docs)["$defs"]
    components = openapi.generate(docs)["components"]["schemas"]
    for schemas in (defs, components):
        passenger = schemas["Passenger"]["properties"]
        assert passenger["email"]["x-pii"] is True
        assert "x-pii" not in passenger["passengerId"]
    # exactly the documents' PII properties, in all three
    expected = {
        f"{jsonschema._Generator(docs, '').onto.name(d['rid'])}.{p['apiName']}"
        for d in docs
        if d["kind"] == "objectType"
        for p in d["properties"].values()
        if p["pii"]
    }
    in_json = {
        f"{name}.{prop}"
        for name, schema in defs.items()
        for prop, spec in (schema.get("properties") or {}).items()
        if spec.get("x-pii")
    }
    assert in_json == expected
    # the SDL names types as the JSON Schema does; interfaces add their PII fields
    assert expected <= marked


def test_a_pii_shared_property_marks_its_interface_fields_and_the_properties_based_on_it():
    docs, rid = _with_shared_pii(demo_documents())
    shared = next(d for d in docs if d["rid"] == rid)
    users = [
        (d, p)
        for d in docs
        if d["kind"] == "objectType"
        for p in d["properties"].values()
        if p.get("sharedProperty") == rid
    ]
    assert users and not any(p["pii"] for _, p in users)
    defs = jsonschema.generate(docs)["$defs"]
    onto = jsonschema._Generator(docs, "").onto
    for ot, prop in users:
        assert defs[onto.name(ot["rid"])]["properties"][prop["apiName"]]["x-pii"] is True
    marked = _pii_fields_in_sdl(graphql.generate(docs))
    interfaces = [
        d for d in docs if d["kind"] == "interface" and rid in (d.get("properties") or {})
    ]
    assert interfaces
    for interface in interfaces:
        assert f"{onto.name(interface['rid'])}.{shared['apiName']}" in marked


def test_an_ontology_without_pii_declares_no_directive():
    docs = json.loads(json.dumps(demo_documents()))
    for doc in docs:
        if doc["kind"] == "sharedProperty":
            doc["pii"] = False
        if doc["kind"] == "objectType":
            for prop in doc["properties"].values():
                prop["pii"] = False
    sdl = graphql.generate(docs)
    assert "@pii" not in sdl and "x-pii" not in json.dumps(jsonschema.generate(docs))
