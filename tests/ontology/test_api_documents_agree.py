"""The REST body of every kind says what its versioned document says.

REST bodies are made from the documents (``ontology.api.representation``); these tests
check what a client relies on, walking each document generically (its keys, and its
references as :func:`ontology.kinds.references` finds them), not by a second copy of the
mapping: every document key is in REST and every REST key in the document (or REST-only),
values agree, every reference reads ``{rid, apiName}`` with the name of what it points at,
children come in position order, and the list, the single read and a write's response
agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ontology.documents import EMPTY_LIST_KEYS, SET_ONLY_KEYS, to_documents
from ontology.kinds import KINDS, references
from ontology.models import ObjectType, Property
from tests.factories import (
    InterfaceFactory,
    InterfaceLinkConstraintFactory,
    LinkTypeFactory,
    ObjectTypeFactory,
    PropertyFactory,
    SharedPropertyFactory,
    StructFieldFactory,
    StructTypeFactory,
    ValueTypeFactory,
)

from .conftest import url

pytestmark = pytest.mark.django_db

ROUTES = {k.name: k.route for k in KINDS.values() if k.route}
#: what only REST carries: row timestamps, and an object type's rule warnings
REST_ONLY = {"createdAt", "updatedAt"}
DERIVED = {"objectType": {"warnings"}}


@pytest.fixture
def ontology(dev):
    """One of every kind, with every reference and child kind in use."""
    code = ValueTypeFactory(
        branch=dev, api_name="Code", constraints={"length": {"min": 1, "max": 8}}
    )
    address = StructTypeFactory(branch=dev, api_name="Address", fields=2)
    # typed fields too: one through a value type, one an array of a primitive
    StructFieldFactory(struct_type=address, api_name="zip", value_type=code, position=2)
    StructFieldFactory(
        struct_type=address, api_name="lines", base_type="array", item_type="string", position=3
    )
    tag = SharedPropertyFactory(branch=dev, api_name="tag", value_type=code)
    base = InterfaceFactory(branch=dev, api_name="Named")
    InterfaceFactory(branch=dev, api_name="Tagged", properties=[tag], extends=[base])
    airport = ObjectTypeFactory(branch=dev, api_name="Airport", properties=2)
    PropertyFactory(object_type=airport, api_name="tag", shared_property=tag, value_type=code)
    PropertyFactory(
        object_type=airport, api_name="address", base_type="struct", struct_type=address
    )
    old = ObjectTypeFactory(
        branch=dev,
        api_name="Field",
        properties=1,
        status="DEPRECATED",
        deprecation_message="Use Airport.",
        deprecation_deadline=dt.date(2030, 1, 1),
        replaced_by=airport,
    )
    InterfaceLinkConstraintFactory(interface=base, api_name="near", target_object_type=old)
    flight = ObjectTypeFactory(branch=dev, api_name="Flight", properties=2)
    fk = flight.properties.order_by("position").last()
    LinkTypeFactory(
        branch=dev,
        api_name="flightAirport",
        source=flight,
        target=airport,
        cardinality="ONE_TO_MANY",
        foreign_key_property=fk,
    )
    LinkTypeFactory(  # a link to an interface
        branch=dev,
        api_name="flightNamed",
        source=flight,
        target=None,
        target_interface=base,
        cardinality="MANY_TO_MANY",
    )
    return dev


def _names(docs: dict[str, dict]) -> dict[str, str]:
    """rid -> api name of every entity and child of the branch."""
    names = {rid: d["apiName"] for rid, d in docs.items()}
    for d in docs.values():
        for child in KINDS[d["kind"]].children:
            names.update({crid: c["apiName"] for crid, c in d[child.key].items()})
    return names


def _at(body: Any, path: tuple[str, ...]) -> Any:
    """The REST value at a document path: a rid key of a child mapping selects the child
    of that rid in the REST list, one of a reference set the reference of that rid."""
    for key in path:
        if isinstance(body, list):
            found = [item for item in body if item["rid"] == key]
            assert len(found) == 1, (path, key)
            body = found[0]
        else:
            body = body[key]
    return body


def _reference_paths(doc: dict[str, Any]) -> set[tuple[str, ...]]:
    return {path for path, _, _ in references(doc)}


def check_body(doc: dict[str, Any], body: dict[str, Any], names: dict[str, str]) -> None:
    """``body`` is the REST form of ``doc`` (see the module docstring)."""
    kind = KINDS[doc["kind"]]
    unset_here = set(SET_ONLY_KEYS.get(doc["kind"], ()))  # absent from a document: null
    empty_here = set(EMPTY_LIST_KEYS.get(doc["kind"], ()))  # absent from a document: []
    assert set(body) == set(doc) - {"kind"} | REST_ONLY | DERIVED.get(doc["kind"], set()) | (
        unset_here | empty_here
    )
    for key in unset_here - set(doc):
        assert body[key] is None, key
    for key in empty_here - set(doc):
        assert body[key] == [], key
    ref_paths = _reference_paths(doc)
    for path, rid, _ in references(doc):
        if rid is None:
            assert _at(body, path) is None, path
        else:
            assert _at(body, path) == {"rid": rid, "apiName": names[rid]}, path
    children = {c.key: c.kind for c in kind.children}
    ref_sets = {r.path[0] for r in kind.references if r.path[1:] == ("*",)}
    for key, value in doc.items():
        if key == "kind" or (key,) in ref_paths:
            continue
        if key in children:
            items = body[key]
            assert [i["rid"] for i in items] == [
                crid
                for crid, _ in sorted(
                    value.items(), key=lambda kv: (kv[1].get("position", 0), kv[1]["apiName"])
                )
            ], key
            unset = set(SET_ONLY_KEYS.get(children[key], ()))
            empty = set(EMPTY_LIST_KEYS.get(children[key], ()))
            for item in items:
                child = value[item["rid"]]
                assert set(item) == set(child) - {"position"} | {"rid"} | unset | empty, key
                for ckey, cvalue in item.items():
                    if ckey == "rid" or (key, item["rid"], ckey) in ref_paths:
                        continue
                    absent = [] if ckey in empty else None
                    assert cvalue == child.get(ckey, absent), (key, item["rid"], ckey)
        elif key in ref_sets:
            # a reference set: as many references as rids, by api name
            assert [r["rid"] for r in body[key]] == sorted(value, key=names.get), key
        else:
            assert body[key] == value, key


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_each_rest_read_is_its_document(api, ontology, kind):
    docs = to_documents(ontology.pk)
    names = _names(docs)
    mine = [d for d in docs.values() if d["kind"] == kind]
    assert mine, kind
    listed = api.get(url("dev", ROUTES[kind]), {"page_size": 500})
    assert listed.status_code == 200, listed.content
    by_rid = {b["rid"]: b for b in listed.json()["results"]}
    assert set(by_rid) == {d["rid"] for d in mine}
    for doc in mine:
        response = api.get(url("dev", ROUTES[kind], doc["apiName"]))
        assert response.status_code == 200, response.content
        check_body(doc, response.json(), names)
        assert by_rid[doc["rid"]] == response.json()  # the list says what the read says


def test_a_write_answers_what_a_read_then_says(api, ontology):
    airport = url("dev", "object-types", "Airport")
    written = api.patch(airport, {"description": "Where flights land."}, format="json")
    assert written.status_code == 200, written.content
    read = api.get(airport)
    assert written.json() == read.json()
    assert written["ETag"] == read["ETag"]
    doc = next(d for d in to_documents(ontology.pk).values() if d["apiName"] == "Airport")
    check_body(doc, read.json(), _names(to_documents(ontology.pk)))
    assert read.json()["description"] == "Where flights land."


def test_an_object_types_warnings_come_from_its_primary_key(api, ontology):
    """A long primary key is allowed with a warning (``rules.check_primary_key_type``)."""
    airport = url("dev", "object-types", "Airport")
    assert api.get(airport).json()["warnings"] == []
    key = ObjectType.objects.get(branch=ontology, api_name="Airport").primary_key_id
    assert key is not None
    Property.objects.filter(pk=key).update(base_type="long")
    assert api.get(airport).json()["warnings"] == [
        "A long primary key is allowed but string, integer or short is preferred."
    ]
