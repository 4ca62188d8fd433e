"""Struct fields typed as properties are: a value type (its constraints apply to the
field) and arrays of a primitive; through the rule set, the merge, the classifier, the
API, the documents, bundles and the generated schemas."""

from __future__ import annotations

import pytest
from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, build_schema
from jsonschema import Draft202012Validator

from ontology import bundles
from ontology.bundles_import import import_bundle, parse
from ontology.compatibility import classify
from ontology.documents import to_documents
from ontology.merge_policy import OntologyPolicy
from ontology.models import StructField, StructType, ValueType
from ontology.schemas import graphql, jsonschema
from tests.factories import BranchFactory, ValueTypeFactory
from tests.ontology.conftest import url
from tests.ontology.test_admin import form_data, select
from tests.ontology.test_admin import url as admin_url
from tests.versioning.domain.builders import struct_field, struct_type, value_type
from versioning.domain import Severity, merge3
from versioning.domain.compatibility import Compatibility as C

GENDER = value_type("vt", "Gender", "string", {"enum": {"values": ["male", "female", "other"]}})
TAGS = value_type("vt2", "Tags", "array", None)
TAGS["itemType"] = "string"
TAGS["constraints"] = {"arraySize": {"max": 3}}
CONTACT = struct_type(
    "st",
    "Contact",
    {
        "f1": struct_field("name"),
        "f2": {**struct_field("gender", position=1), "valueType": "vt", "required": True},
        "f3": {**struct_field("lines", "array", 2), "itemType": "string"},
    },
)
TREE = {"vt": GENDER, "vt2": TAGS, "st": CONTACT}


def violations(tree):
    return {(p.path, p.message.split(" [rule ")[0]) for p in _problems(tree)}


def _problems(tree):
    return OntologyPolicy().validate_tree(tree, frozenset(tree))


def with_field(frid, **changes):
    fields = dict(CONTACT["fields"])
    fields[frid] = {**fields.get(frid, struct_field(frid)), **changes}
    return {**CONTACT, "fields": fields}


# --- the rule set ------------------------------------------------------------------------------


def test_a_typed_struct_is_valid():
    assert _problems(TREE) == []


@pytest.mark.parametrize(
    ("changes", "path", "rule"),
    [
        ({"valueType": "vt", "baseType": "integer"}, "valueType", "value-type-match"),
        ({"baseType": "array"}, "itemType", "type-shape"),
        ({"itemType": "string"}, "itemType", "type-shape"),
        ({"baseType": "array", "itemType": "geoshape"}, "itemType", "choice"),
        ({"baseType": "array", "itemType": "array"}, "itemType", "choice"),
        ({"baseType": "struct"}, "baseType", "choice"),
        ({"valueType": "gone"}, "valueType", "reference"),
        ({"valueType": "st"}, "valueType", "reference"),
    ],
)
def test_a_badly_typed_field_is_refused_at_its_path(changes, path, rule):
    tree = {**TREE, "st": with_field("f1", **changes)}
    found = [p for p in _problems(tree) if p.rid == "st"]
    assert found, changes
    assert any(p.path == ("fields", "f1", path) and f"rule {rule}" in p.message for p in found)


def test_a_value_type_of_an_array_field_matches_the_array():
    tree = {**TREE, "st": with_field("f3", valueType="vt2")}
    assert _problems(tree) == []
    tree = {**TREE, "st": with_field("f3", valueType="vt")}
    assert [p.path for p in _problems(tree)] == [("fields", "f3", "valueType")]


# --- merge and classification ------------------------------------------------------------------


def test_a_field_typed_on_one_side_merges_with_an_edit_on_the_other():
    base = {**TREE, "st": with_field("f1", description="")}
    ours = {**TREE, "st": with_field("f1", valueType="vt")}
    theirs = {**TREE, "st": with_field("f1", description="Full name")}
    result = merge3(base, ours, theirs, OntologyPolicy())
    assert result.conflicts == []
    merged = result.tree_changes["st"]["fields"]["f1"]
    assert merged["valueType"] == "vt" and merged["description"] == "Full name"


def test_a_field_typed_by_a_value_type_deleted_on_the_other_side_blocks():
    ours = {**TREE, "st": with_field("f1", valueType="vt")}
    base = {**TREE, "st": CONTACT}
    theirs = {**TREE, "st": {**CONTACT, "fields": {**CONTACT["fields"]}}}
    theirs["st"]["fields"]["f2"] = struct_field("gender", position=1)
    del theirs["vt"]
    result = merge3(base, ours, theirs, OntologyPolicy())
    blocks = [c for c in result.conflicts if c.severity is Severity.BLOCK]
    assert [c.path for c in blocks] == [("fields", "f1", "valueType")]


def test_field_types_widen_in_the_merge_as_property_types_do():
    base = {**TREE, "st": with_field("f1", baseType="short")}
    ours = {**TREE, "st": with_field("f1", baseType="integer")}
    theirs = {**TREE, "st": with_field("f1", baseType="long")}
    result = merge3(base, ours, theirs, OntologyPolicy())
    assert [c.severity for c in result.conflicts] == [Severity.WARN]
    assert result.tree_changes["st"]["fields"]["f1"]["baseType"] == "long"


@pytest.mark.parametrize(
    ("old", "new", "kind", "compat"),
    [
        ({}, {"valueType": "vt"}, "value_type_added", C.INCOMPATIBLE),
        ({"valueType": "vt"}, {}, "value_type_removed", C.BACKWARD_COMPATIBLE),
        ({}, {"baseType": "array", "itemType": "string"}, "type_wrapped", C.MIGRATION_REQUIRED),
        (
            {"baseType": "array", "itemType": "short"},
            {"baseType": "array", "itemType": "long"},
            "type_widened",
            C.BACKWARD_COMPATIBLE,
        ),
        ({"baseType": "array", "itemType": "string"}, {}, "type_changed", C.INCOMPATIBLE),
    ],
)
def test_field_type_changes_are_classified(old, new, kind, compat):
    found = classify({"st": with_field("f1", **old)}, {"st": with_field("f1", **new)}, None)
    found = [c for c in found if c.path[:2] == ("fields", "f1")]
    assert [(c.kind, c.compatibility) for c in found] == [(kind, compat)], [
        c.to_dict() for c in found
    ]


# --- generated schemas -------------------------------------------------------------------------


def test_graphql_types_fields_by_value_type_and_array():
    schema = build_schema(graphql.generate(list(TREE.values())))
    fields = schema.get_type("Contact").fields
    gender = fields["gender"].type
    assert isinstance(gender, GraphQLNonNull) and isinstance(gender.of_type, GraphQLEnumType)
    assert gender.of_type.name == "Gender"
    lines = fields["lines"].type
    assert isinstance(lines, GraphQLList) and lines.of_type.of_type.name == "String"


def test_json_schema_applies_the_value_type_to_the_field():
    schema = jsonschema.generate(list(TREE.values()))
    Draft202012Validator.check_schema(schema)
    contact = Draft202012Validator({**schema, "$ref": "#/$defs/Contact"})
    assert contact.is_valid({"name": "Ann", "gender": "female", "lines": ["a", "b"]})
    assert not contact.is_valid({"name": "Ann", "gender": "unknown"})
    assert not contact.is_valid({"gender": "male", "lines": "a"})


# --- API, documents, bundles -------------------------------------------------------------------

GENDER_BODY = {
    "apiName": "Gender",
    "displayName": "Gender",
    "baseType": "string",
    "constraints": {"enum": {"values": ["male", "female", "other"]}},
}
CONTACT_BODY = {
    "apiName": "Contact",
    "displayName": "Contact",
    "fields": [
        {"apiName": "name", "displayName": "Name", "baseType": "string"},
        {"apiName": "gender", "displayName": "Gender", "baseType": "string", "valueType": "Gender"},
        {"apiName": "lines", "displayName": "Lines", "baseType": "array", "itemType": "string"},
    ],
}


@pytest.mark.django_db
def test_api_writes_and_reads_typed_fields(api, dev):
    assert api.post(url("dev", "value-types"), GENDER_BODY, format="json").status_code == 201
    response = api.post(url("dev", "struct-types"), CONTACT_BODY, format="json")
    assert response.status_code == 201, response.json()
    name, gender, lines = response.json()["fields"]
    assert gender["valueType"]["apiName"] == "Gender" and gender["itemType"] is None
    assert lines["itemType"] == "string" and lines["valueType"] is None
    [doc] = to_documents(dev.pk, kinds=["structType"]).values()
    fields = {f["apiName"]: f for f in doc["fields"].values()}
    assert "valueType" not in fields["name"] and "itemType" not in fields["name"]
    assert fields["gender"]["valueType"] and fields["lines"]["itemType"] == "string"
    # the value type is in use: it cannot be deleted
    assert api.delete(url("dev", "value-types", "Gender")).status_code in (400, 409)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "key"),
    [
        ({"baseType": "integer", "valueType": "Gender"}, "fields.0.valueType"),
        ({"baseType": "string", "valueType": "Nope"}, "fields.0.valueType"),
        ({"baseType": "array"}, "fields.0.itemType"),
        ({"baseType": "array", "itemType": "geoshape"}, "fields.0.itemType"),
        ({"baseType": "string", "constraints": {}}, "fields.0.constraints"),
    ],
)
def test_api_refuses_a_badly_typed_field_naming_it(api, dev, field, key):
    assert api.post(url("dev", "value-types"), GENDER_BODY, format="json").status_code == 201
    body = {**CONTACT_BODY, "fields": [{"apiName": "x", "displayName": "X", **field}]}
    response = api.post(url("dev", "struct-types"), body, format="json")
    assert response.status_code == 400, response.json()
    assert key in response.json()["error"]["fields"], response.json()
    assert not StructType.objects.filter(branch=dev).exists()


@pytest.mark.django_db
def test_typed_fields_round_trip_through_a_bundle(api, dev):
    api.post(url("dev", "value-types"), GENDER_BODY, format="json")
    api.post(url("dev", "struct-types"), CONTACT_BODY, format="json")
    first = bundles.export("dev")
    import_bundle(BranchFactory(name="empty"), parse(first), message="m")
    again = bundles.export("empty")
    assert bundles.dumps(again["documents"]) == bundles.dumps(first["documents"])
    [contact] = again["documents"]["structType"]
    assert sorted(f["apiName"] for f in contact["fields"].values() if "valueType" in f) == [
        "gender"
    ]


@pytest.mark.django_db
def test_admin_types_a_field_by_value_type_and_refuses_a_mismatch(admin_client):
    work = BranchFactory(name="work")
    select(admin_client, work)
    gender = ValueTypeFactory(branch=work, api_name="Gender")
    data = form_data(admin_client.get(admin_url(StructType, "add")))
    data.update(api_name="Contact", display_name="Contact")
    row = {
        "fields-TOTAL_FORMS": "2",
        "fields-0-api_name": "gender",
        "fields-0-display_name": "Gender",
        "fields-0-base_type": "integer",
        "fields-0-value_type": str(gender.pk),
        "fields-0-position": "0",
        "fields-1-api_name": "lines",
        "fields-1-display_name": "Lines",
        "fields-1-base_type": "array",
        "fields-1-item_type": "string",
        "fields-1-position": "1",
    }
    data.update(row)
    refused = admin_client.post(admin_url(StructType, "add"), data)
    assert refused.status_code == 200
    errors = refused.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "value_type" in errors, errors
    assert not StructType.objects.filter(branch=work).exists()
    data["fields-0-base_type"] = "string"
    saved = admin_client.post(admin_url(StructType, "add"), data)
    assert saved.status_code == 302
    contact = StructType.objects.get(branch=work, api_name="Contact")
    fields = {f.api_name: f for f in contact.fields.all()}
    assert fields["gender"].value_type == ValueType.objects.get(pk=gender.pk)
    assert (fields["lines"].base_type, fields["lines"].item_type) == ("array", "string")
    listing = admin_client.get(admin_url(StructField, "changelist")).content.decode()
    assert "array&lt;string&gt;" in listing and ">Gender<" in listing


@pytest.mark.django_db
def test_a_value_type_change_that_breaks_a_field_using_it_is_refused(api, dev):
    api.post(url("dev", "value-types"), GENDER_BODY, format="json")
    api.post(url("dev", "struct-types"), CONTACT_BODY, format="json")
    body = {"baseType": "integer", "constraints": {}}
    response = api.patch(url("dev", "value-types", "Gender"), body, format="json")
    assert response.status_code == 400, response.json()
    contact = StructType.objects.get(branch=dev, api_name="Contact")
    [(key, messages)] = response.json()["error"]["fields"].items()
    assert key.startswith(f"{contact.rid}.fields.") and key.endswith(".valueType")
    assert "rule value-type-match" in messages[0]
    assert ValueType.objects.get(branch=dev, api_name="Gender").base_type == "string"
