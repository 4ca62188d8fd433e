"""The rules that left the models' ``clean()`` (docs/documents.md, "Rules of a row"), each
refused at both doors a steward or a client writes through: the admin shows the refusal
on the field of the row at fault (an inline row's included, a new one too), the API
answers 400 naming the document path (a child or an interface given in the body at its
place in the list). A taken name, refused by the rows' unique index, is a 409 on the name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ontology.models import (
    Interface,
    ObjectType,
    Property,
    SharedProperty,
    StructType,
)
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    ObjectTypeFactory,
    SharedPropertyFactory,
    StructTypeFactory,
    ValueTypeFactory,
)
from tests.ontology.conftest import url as api_url
from tests.ontology.test_admin import form_data, select
from tests.ontology.test_admin import url as admin_url
from versioning.models import WorkingChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    return BranchFactory(name="work")


@pytest.fixture
def steward(admin_client, work):
    select(admin_client, work)
    return admin_client


# --- the admin: on the field of the row at fault -----------------------------------------


@dataclass(frozen=True)
class Edit:
    """A steward's edit on an admin page: the page (model and row, ``None`` to add), the
    changes to the form's POST, and where the refusal must show: the page's own form
    (``None``) or an inline row (``(prefix, index)``), on ``field`` (``None``: the row's
    non-field errors). ``rule``: a text of the message."""

    model: type
    row: Callable | None
    changes: Callable
    at: tuple[str, int] | None
    field: str | None
    rule: str


def _new_row(data: dict, prefix: str, **values) -> None:
    """Add an inline row to a form's POST."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{k}": v for k, v in values.items()})


def _flight(work):
    return ObjectTypeFactory(branch=work, api_name="Flight", properties=2)


def _struct(work):
    return StructTypeFactory(branch=work, api_name="Address", fields=2)


def _interface(work):
    return InterfaceLinkConstraintFactory(interface__branch=work).interface


def _extending_alpha(work):
    """Beta, extending Alpha: Alpha cannot extend it."""
    return InterfaceFactory(
        branch=work, api_name="Beta", extends=[Interface.objects.get(api_name="Alpha")]
    )


def _implemented_interface(work):
    """Trackable, implemented by Flight."""
    iface = InterfaceFactory(branch=work, api_name="Trackable")
    _flight(work).interfaces.add(iface)
    return iface


def _vt(work, base="integer") -> str:
    return str(ValueTypeFactory(branch=work, api_name="Seats", base_type=base).pk)


PROPERTY = {"display_name": "X", "base_type": "string", "status": "ACTIVE", "position": "9"}
FIELD = {"display_name": "X", "base_type": "string", "position": "9"}

ADMIN_CASES = {
    "api-name of an object type": Edit(
        ObjectType,
        None,
        lambda d, w: d.update(api_name="flight", display_name="F", plural_display_name="Fs"),
        None,
        "api_name",
        "PascalCase",
    ),
    "api-name of a property": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update({"properties-1-api_name": "Bad"}),
        ("properties", 1),
        "api_name",
        "camelCase",
    ),
    "api-name of a new property": Edit(
        ObjectType,
        _flight,
        lambda d, w: _new_row(d, "properties", api_name="Bad", **PROPERTY),
        ("properties", 2),
        "api_name",
        "camelCase",
    ),
    "api-name of a new struct field": Edit(
        StructType,
        _struct,
        lambda d, w: _new_row(d, "fields", api_name="Bad", **FIELD),
        ("fields", 2),
        "api_name",
        "camelCase",
    ),
    "api-name of a new link constraint": Edit(
        Interface,
        _interface,
        lambda d, w: _new_row(
            d,
            "link_constraints",
            api_name="Bad",
            target_object_type=d["link_constraints-0-target_object_type"],
            cardinality="MANY",
        ),
        ("link_constraints", 1),
        "api_name",
        "camelCase",
    ),
    "unique name of an object type": Edit(
        ObjectType,
        lambda w: _flight(w) and None,
        lambda d, w: d.update(api_name="FLIGHT", display_name="F", plural_display_name="Fs"),
        None,
        "api_name",
        "already used",
    ),
    "unique name on a property's page": Edit(
        Property,
        lambda w: _flight(w).properties.order_by("position")[1],
        lambda d, w: d.update(api_name=Property.objects.order_by("position")[0].api_name),
        None,
        "api_name",
        "already used",
    ),
    "deprecation of an object type": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update(status="DEPRECATED"),
        None,
        "deprecation_deadline",
        "deadline",
    ),
    "deprecation on a property's page": Edit(
        Property,
        lambda w: _flight(w).properties.order_by("position")[1],
        lambda d, w: d.update(status="DEPRECATED", deprecation_deadline="2030-01-01"),
        None,
        "deprecation_message",
        "deprecation message",
    ),
    "deprecation of a property row": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update({"properties-1-status": "DEPRECATED"}),
        ("properties", 1),
        None,
        "deprecation message",
    ),
    "primary key type": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update({"properties-0-base_type": "float"}),
        None,
        "primary_key",
        "float",
    ),
    "title property type": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update(
            {
                "properties-0-base_type": "array",
                "properties-0-item_type": "string",
                "primary_key": "",
            }
        ),
        None,
        "title_property",
        "array",
    ),
    "type shape of a property": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update({"properties-1-base_type": "array"}),
        ("properties", 1),
        "item_type",
        "item type",
    ),
    "value type of a new property": Edit(
        ObjectType,
        _flight,
        lambda d, w: _new_row(d, "properties", api_name="seats", value_type=_vt(w), **PROPERTY),
        ("properties", 2),
        "value_type",
        "is of type integer",
    ),
    "shared property on a property's page": Edit(
        Property,
        lambda w: _flight(w).properties.order_by("position")[1],
        lambda d, w: d.update(
            shared_property=str(
                SharedPropertyFactory(branch=w, api_name="count", base_type="integer").pk
            )
        ),
        None,
        "shared_property",
        "is of type integer",
    ),
    "experimental object type's active properties": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update(status="EXPERIMENTAL"),
        ("properties", 1),
        "status",
        "experimental",
    ),
    "type shape of a struct field": Edit(
        StructType,
        _struct,
        lambda d, w: d.update({"fields-1-base_type": "array"}),
        ("fields", 1),
        "item_type",
        "item type",
    ),
    "value type of a struct field": Edit(
        StructType,
        _struct,
        lambda d, w: d.update({"fields-1-value_type": _vt(w)}),
        ("fields", 1),
        "value_type",
        "is of type integer",
    ),
    "one target of a link constraint": Edit(
        Interface,
        _interface,
        lambda d, w: d.update(
            {"link_constraints-0-target_interface": str(InterfaceFactory(branch=w).pk)}
        ),
        ("link_constraints", 0),
        None,
        "exactly one",
    ),
    "shared properties of an implemented interface": Edit(
        ObjectType,
        _flight,
        lambda d, w: d.update(
            interfaces=[
                str(
                    InterfaceFactory(
                        branch=w,
                        api_name="Trackable",
                        properties=[SharedPropertyFactory(branch=w, api_name="createdAt")],
                    ).pk
                )
            ]
        ),
        None,
        "interfaces",
        "createdAt",
    ),
    "an interface in an extends cycle": Edit(
        Interface,
        lambda w: InterfaceFactory(branch=w, api_name="Alpha"),
        lambda d, w: d.update(extends=[str(_extending_alpha(w).pk)]),
        None,
        "extends",
        "cycle",
    ),
    "an interface property its implementer lacks": Edit(
        Interface,
        _implemented_interface,
        lambda d, w: d.update(
            properties=[str(SharedPropertyFactory(branch=w, api_name="createdAt").pk)]
        ),
        None,
        None,
        "Object type 'Flight': Implementing 'Trackable' needs properties using the shared "
        "properties: createdAt.",
    ),
    "type shape of a shared property": Edit(
        SharedProperty,
        None,
        lambda d, w: d.update(api_name="tags", display_name="Tags", base_type="array"),
        None,
        "item_type",
        "item type",
    ),
}


@pytest.mark.parametrize("edit", ADMIN_CASES.values(), ids=ADMIN_CASES)
def test_the_admin_shows_the_refusal_on_the_field_of_the_row_at_fault(steward, work, edit):
    row = edit.row(work) if edit.row else None
    page = admin_url(edit.model, "change", row.pk) if row else admin_url(edit.model, "add")
    data = form_data(steward.get(page))
    edit.changes(data, work)
    response = steward.post(page, data)
    assert response.status_code == 200, "refused: the form is shown again"
    if edit.at is None:
        form = response.context["adminform"].form
    else:
        prefix, index = edit.at
        [formset] = [
            f.formset
            for f in response.context["inline_admin_formsets"]
            if f.formset.prefix == prefix
        ]
        form = formset.forms[index]
    errors = form.errors.get(edit.field or "__all__", [])
    assert edit.rule in " ".join(errors), form.errors
    assert not WorkingChange.objects.exists(), "nothing was saved"


# --- the API: 400 naming the document path -------------------------------------------------

OT = {"apiName": "Flight", "displayName": "Flight", "pluralDisplayName": "Flights"}
PROP = {"apiName": "code", "displayName": "Code", "baseType": "string"}


def _post(api, kind: str, body: dict):
    return api.post(api_url("dev", kind), body, format="json")


def _with_props(*props: dict, **extra) -> dict:
    return {**OT, "properties": [PROP, *props], **extra}


API_CASES = {
    "api-name of an object type": (
        lambda dev: ("object-types", {**OT, "apiName": "flight"}),
        "apiName",
        "PascalCase",
    ),
    "api-name of a property": (
        lambda dev: ("object-types", _with_props({**PROP, "apiName": "Bad"})),
        "properties.1.apiName",
        "camelCase",
    ),
    "api-name of a struct field": (
        lambda dev: (
            "struct-types",
            {"apiName": "Address", "displayName": "A", "fields": [{**PROP, "apiName": "Bad"}]},
        ),
        "fields.0.apiName",
        "camelCase",
    ),
    "api-name of a link constraint": (
        lambda dev: (
            "interfaces",
            {
                "apiName": "Owned",
                "displayName": "O",
                "linkConstraints": [
                    {
                        "apiName": "Owner",
                        "targetObjectType": ObjectTypeFactory(branch=dev).api_name,
                    }
                ],
            },
        ),
        "linkConstraints.0.apiName",
        "camelCase",
    ),
    "deprecation of an object type": (
        lambda dev: ("object-types", {**OT, "status": "DEPRECATED"}),
        "deprecation.message",
        "deprecation message",
    ),
    "deprecation of a property": (
        lambda dev: (
            "object-types",
            _with_props({**PROP, "apiName": "old", "status": "DEPRECATED"}),
        ),
        "properties.1.deprecation.deadline",
        "deadline",
    ),
    "deprecation of a value type": (
        lambda dev: (
            "value-types",
            {"apiName": "Code", "displayName": "C", "baseType": "string", "status": "DEPRECATED"},
        ),
        "deprecation.message",
        "deprecation message",
    ),
    "primary key type": (
        lambda dev: (
            "object-types",
            _with_props({**PROP, "apiName": "price", "baseType": "float"}, primaryKey="price"),
        ),
        "primaryKey",
        "float",
    ),
    "title property type": (
        lambda dev: (
            "object-types",
            _with_props(
                {**PROP, "apiName": "tags", "baseType": "array", "itemType": "string"},
                titleProperty="tags",
            ),
        ),
        "titleProperty",
        "array",
    ),
    "type shape of a property": (
        lambda dev: ("object-types", _with_props({**PROP, "apiName": "tags", "baseType": "array"})),
        "properties.1.itemType",
        "item type",
    ),
    "value type of a property": (
        lambda dev: (
            "object-types",
            _with_props({**PROP, "apiName": "seats", "valueType": _vt(dev) and "Seats"}),
        ),
        "properties.1.valueType",
        "is of type integer",
    ),
    "shared property of a property": (
        lambda dev: (
            "object-types",
            _with_props(
                {
                    **PROP,
                    "apiName": "count",
                    "sharedProperty": SharedPropertyFactory(
                        branch=dev, api_name="count", base_type="integer"
                    ).api_name,
                }
            ),
        ),
        "properties.1.sharedProperty",
        "is of type integer",
    ),
    "experimental object type's active property": (
        lambda dev: (
            "object-types",
            _with_props({**PROP, "apiName": "live", "status": "ACTIVE"}, status="EXPERIMENTAL"),
        ),
        "properties.1.status",
        "experimental",
    ),
    "type shape of a struct field": (
        lambda dev: (
            "struct-types",
            {"apiName": "Address", "displayName": "A", "fields": [{**PROP, "baseType": "array"}]},
        ),
        "fields.0.itemType",
        "item type",
    ),
    "value type of a struct field": (
        lambda dev: (
            "struct-types",
            {
                "apiName": "Address",
                "displayName": "A",
                "fields": [{**PROP, "valueType": _vt(dev) and "Seats"}],
            },
        ),
        "fields.0.valueType",
        "is of type integer",
    ),
    "one target of a link constraint": (
        lambda dev: (
            "interfaces",
            {"apiName": "Owned", "displayName": "O", "linkConstraints": [{"apiName": "owner"}]},
        ),
        "linkConstraints.0",
        "exactly one",
    ),
    "shared properties of an implemented interface": (
        lambda dev: (
            "object-types",
            _with_props(
                interfaces=[
                    InterfaceFactory(
                        branch=dev,
                        api_name="Trackable",
                        properties=[SharedPropertyFactory(branch=dev, api_name="createdAt")],
                    ).api_name
                ]
            ),
        ),
        "interfaces.0",
        "createdAt",
    ),
    "type shape of a shared property": (
        lambda dev: (
            "shared-properties",
            {"apiName": "tags", "displayName": "Tags", "baseType": "array"},
        ),
        "itemType",
        "item type",
    ),
}


@pytest.mark.parametrize(("body", "path", "rule"), API_CASES.values(), ids=API_CASES)
def test_the_api_answers_400_naming_the_path(api, dev, body, path, rule):
    kind, data = body(dev)
    response = _post(api, kind, data)
    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert rule in " ".join(fields.get(path, [])), fields
    assert not dev.working_changes.exists()


def test_a_child_the_body_does_not_list_is_named_by_its_rid(api, dev):
    """A PATCH that leaves the properties out refuses what it does to them on their
    document path (``properties.<rid>.status``): there is no place in a list to name."""
    ot = ObjectTypeFactory(branch=dev, api_name="Flight", properties=1)
    response = api.patch(
        api_url("dev", "object-types", "Flight"), {"status": "EXPERIMENTAL"}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == [f"properties.{ot.properties.get().rid}.status"]


def test_a_taken_name_is_a_409_on_the_name(api, dev):
    ObjectTypeFactory(branch=dev, api_name="Flight")
    response = _post(api, "object-types", {**OT, "apiName": "FLIGHT"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate" and "already used" in error["fields"]["apiName"][0]
    # a child's name in its parent: two properties swapping names collide on the way
    ot = ObjectTypeFactory(branch=dev, api_name="Airport", properties=2)
    first, second = ot.properties.order_by("position")
    swapped = [
        {**PROP, "rid": str(first.rid), "apiName": second.api_name},
        {**PROP, "rid": str(second.rid), "apiName": first.api_name},
    ]
    response = api.patch(
        api_url("dev", "object-types", "Airport"), {"properties": swapped}, format="json"
    )
    assert response.status_code == 409
    assert "properties.0.apiName" in response.json()["error"]["fields"]
    assert sorted(Property.objects.filter(object_type=ot).values_list("api_name", flat=True)) == [
        first.api_name,
        second.api_name,
    ]


# --- rules about an interface's neighbours: its implementers, what it extends --------------


def test_the_api_refuses_an_interface_extending_itself_at_its_place(api, dev):
    InterfaceFactory(branch=dev, api_name="Entity")
    InterfaceFactory(branch=dev, api_name="Named")
    response = api.patch(
        api_url("dev", "interfaces", "Entity"), {"extends": ["Named", "Entity"]}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {"extends.1": ["An interface cannot extend itself. [rule interface-extends]"]}
    assert not dev.working_changes.exists()


def test_the_api_refuses_an_extends_cycle_naming_the_other_interface(api, dev):
    entity = InterfaceFactory(branch=dev, api_name="Entity")
    trackable = InterfaceFactory(branch=dev, api_name="Trackable", extends=[entity])
    response = api.patch(
        api_url("dev", "interfaces", "Entity"), {"extends": ["Trackable"]}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "cycle" in fields["extends"][0]
    assert fields[f"{trackable.rid}.extends"] == [
        "Interface 'Trackable': Interfaces cannot extend each other in a cycle. "
        "[rule interface-extends]"
    ]
    assert not dev.working_changes.exists()


def test_the_api_names_the_implementer_an_interface_property_breaks(api, dev):
    """An interface asking for a shared property its implementer lacks: the implementer's
    violation, under its rid and path, names the object type."""
    iface = InterfaceFactory(branch=dev, api_name="Trackable")
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=1)
    flight.interfaces.add(iface)
    SharedPropertyFactory(branch=dev, api_name="createdAt")
    response = api.patch(
        api_url("dev", "interfaces", "Trackable"), {"properties": ["createdAt"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        f"{flight.rid}.interfaces.{iface.rid}": [
            "Object type 'Flight': Implementing 'Trackable' needs properties using the shared "
            "properties: createdAt. [rule interface-properties]"
        ]
    }
    assert not dev.working_changes.exists()
