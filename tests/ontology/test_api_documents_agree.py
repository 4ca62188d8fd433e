"""The REST representation of every kind says what its versioned document says.

The serializers still write their rows -> JSON by hand (for speed on the read paths)
beside the document mapping of :mod:`ontology.documents` (issue 9 asks for one mapping).
Until they share it, this test holds the two together: each REST read is the document
with its children as a list in position order, its references as ``{rid, apiName}`` and
its timestamps (and an object type's rule warnings) added. A field added to one mapping
and not the other fails here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ontology.documents import EMPTY_LIST_KEYS, SET_ONLY_KEYS, to_documents
from ontology.kinds import KINDS
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
REST_ONLY = {"createdAt", "updatedAt", "warnings"}


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
    return dev


def _in_order(item: tuple[str, dict]) -> tuple:
    """Children by position, then name (link constraints have no position)."""
    return item[1].get("position", 0), item[1]["apiName"]


def expected(doc: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The REST body a document calls for (without :data:`REST_ONLY`)."""
    kind = KINDS[doc["kind"]]
    empty = {key: [] for key in EMPTY_LIST_KEYS.get(doc["kind"], ())}  # absent: [] in REST
    out = {**empty, **{k: v for k, v in doc.items() if k != "kind"}}
    own = {}
    for child in kind.children:
        items = sorted(out[child.key].items(), key=_in_order)
        own.update({crid: c["apiName"] for crid, c in items})
        unset = dict.fromkeys(SET_ONLY_KEYS.get(child.kind, ()))  # absent: null in REST
        unset.update({key: [] for key in EMPTY_LIST_KEYS.get(child.kind, ())})
        out[child.key] = [
            {"rid": crid, **unset, **{k: v for k, v in c.items() if k != "position"}}
            for crid, c in items
        ]
    known = {**names, **own}

    def ref(rid):
        return None if rid is None else {"rid": rid, "apiName": known[rid]}

    for reference in kind.references:
        path = reference.path
        if path[-1] == "*":  # a set of rids -> a list of references, by name
            out[path[0]] = sorted((ref(r) for r in doc[path[0]]), key=lambda r: r["apiName"])
        elif len(path) == 1:
            out[path[0]] = ref(doc[path[0]])
        else:  # ("properties", "*", "valueType"): in each child
            for item in out[path[0]]:
                item[path[2]] = ref(item[path[2]])
    return out


@pytest.mark.parametrize("kind", sorted(ROUTES))
def test_each_rest_read_is_its_document(api, ontology, kind):
    docs = to_documents(ontology.pk)
    names = {rid: d["apiName"] for rid, d in docs.items()}
    for d in docs.values():  # a link's foreign key names a property of its source
        if d["kind"] == "objectType":
            names.update({prid: p["apiName"] for prid, p in d["properties"].items()})
    mine = [d for d in docs.values() if d["kind"] == kind]
    assert mine, kind
    for doc in mine:
        response = api.get(url("dev", ROUTES[kind], doc["apiName"]))
        assert response.status_code == 200, response.content
        body = {k: v for k, v in response.json().items() if k not in REST_ONLY}
        assert body == expected(doc, names), (kind, doc["apiName"])
