"""Rows <-> documents: set-based branch copy and bulk apply must be lossless."""

import copy
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ontology import services
from ontology.documents import to_documents
from ontology.models import LinkType, ObjectType, Property
from ontology.workspace import apply, copy_rows, write
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

pytestmark = pytest.mark.django_db


def build_ontology(branch):
    """A small ontology touching every kind and every kind of reference."""
    vt = ValueTypeFactory(
        branch=branch,
        api_name="IataCode",
        constraints={"regex": {"pattern": "^[A-Z]{3}$"}, "length": {"min": 3, "max": 3}},
    )
    st = StructTypeFactory(branch=branch, api_name="Address", fields=2)
    shared = SharedPropertyFactory(branch=branch, api_name="createdAt", base_type="timestamp")
    base_iface = InterfaceFactory(branch=branch, api_name="Auditable", properties=[shared])
    iface = InterfaceFactory(branch=branch, api_name="Trackable", extends=[base_iface])
    airport = ObjectTypeFactory(branch=branch, api_name="Airport", properties=2)
    PropertyFactory(object_type=airport, api_name="code", value_type=vt)
    PropertyFactory(object_type=airport, api_name="address", base_type="struct", struct_type=st)
    PropertyFactory(
        object_type=airport, api_name="createdAt", base_type="timestamp", shared_property=shared
    )
    airport.interfaces.set([iface])
    flight = ObjectTypeFactory(branch=branch, api_name="Flight", properties=2)
    fk = PropertyFactory(object_type=flight, api_name="airportId")
    old = ObjectTypeFactory(
        branch=branch,
        api_name="OldFlight",
        status="DEPRECATED",
        deprecation_message="Use Flight",
        deprecation_deadline="2027-01-01",
        replaced_by=flight,
    )
    LinkTypeFactory(
        branch=branch,
        api_name="flightAirport",
        source=flight,
        target=airport,
        cardinality="ONE_TO_MANY",
        foreign_key_property=fk,
    )
    return {"airport": airport, "flight": flight, "old": old, "iface": iface}


def strip_rids(docs):
    """Documents are compared by rid already; this just returns them sorted for diffs."""
    return dict(sorted(docs.items()))


def test_copy_rows_is_lossless_and_remaps_references():
    source = BranchFactory(name="src")
    build_ontology(source)
    target = BranchFactory(name="copy")
    copy_rows(source, target)
    assert strip_rids(to_documents(target.pk)) == strip_rids(to_documents(source.pk))
    # every reference on the copy points at rows of the copy
    for ot in ObjectType.objects.filter(branch=target):
        if ot.primary_key_id:
            assert ot.primary_key.branch_id == target.pk
        if ot.replaced_by_id:
            assert ot.replaced_by.branch_id == target.pk
        assert all(i.branch_id == target.pk for i in ot.interfaces.all())
    for link in LinkType.objects.filter(branch=target):
        assert {link.source.branch_id, link.target.branch_id} == {target.pk}
        assert link.foreign_key_property.branch_id == target.pk
    assert (
        Property.objects.filter(branch=target).count()
        == Property.objects.filter(branch=source).count()
    )


def test_apply_materialises_documents_on_an_empty_branch():
    source = BranchFactory(name="src")
    build_ontology(source)
    docs = to_documents(source.pk)
    target = BranchFactory(name="empty")
    apply(target, docs)
    assert strip_rids(to_documents(target.pk)) == strip_rids(docs)


def test_apply_updates_renames_and_deletes_by_rid():
    branch = BranchFactory(name="work")
    made = build_ontology(branch)
    docs = to_documents(branch.pk)
    airport_rid = str(made["airport"].rid)
    old_rid = str(made["old"].rid)
    airport = docs[airport_rid]
    airport["apiName"] = "Aerodrome"
    airport["description"] = "renamed"
    gone = next(r for r, p in airport["properties"].items() if p["apiName"] == "code")
    del airport["properties"][gone]
    new_prop = str(uuid.uuid4())
    airport["properties"][new_prop] = {
        **airport["properties"][airport["primaryKey"]],
        "apiName": "code",
        "position": 9,
    }
    airport["primaryKey"] = new_prop
    # a new object type takes the api name of one deleted in the same change
    new_rid = str(uuid.uuid4())
    replacement = {**docs[old_rid], "rid": new_rid, "status": "ACTIVE", "deprecation": None}
    replacement["replacedBy"] = None
    replacement["properties"] = {}
    replacement["primaryKey"] = replacement["titleProperty"] = None
    changes = {airport_rid: airport, old_rid: None, new_rid: replacement}
    apply(branch, changes)

    after = to_documents(branch.pk)
    assert after[airport_rid] == airport
    assert old_rid not in after
    assert after[new_rid]["apiName"] == "OldFlight"
    assert ObjectType.objects.get(branch=branch, rid=airport_rid).api_name == "Aerodrome"
    assert not Property.objects.filter(branch=branch, rid=gone).exists()


def test_apply_with_before_leaves_unchanged_children_alone_and_syncs_changed_ones():
    branch = BranchFactory(name="work")
    made = build_ontology(branch)
    docs = to_documents(branch.pk)
    airport_rid, flight_rid = str(made["airport"].rid), str(made["flight"].rid)
    iface_rid = str(made["iface"].rid)
    stamps = dict(Property.objects.filter(branch=branch).values_list("rid", "updated_at"))
    airport = {**docs[airport_rid], "description": "only the header", "apiName": "Aerodrome"}
    flight = copy.deepcopy(docs[flight_rid])
    changed_prop = next(iter(flight["properties"]))
    flight["properties"][changed_prop]["description"] = "a child changed"
    iface = {**docs[iface_rid], "description": "no link constraints either way"}
    changes = {airport_rid: airport, flight_rid: flight, iface_rid: iface}
    # the writer's reads (apply checks the rule set first, which reads the neighbourhood)
    with CaptureQueriesContext(connection) as ctx:
        write(branch, changes, before={rid: docs[rid] for rid in changes})
    read_children_of = {
        rid
        for rid in changes
        for q in ctx.captured_queries
        if ("ontology_property" in q["sql"] or "linkconstraint" in q["sql"])
        and (rid in q["sql"] or rid.replace("-", "") in q["sql"])
    }
    assert read_children_of == {flight_rid}

    after = to_documents(branch.pk)
    assert after == {**docs, **changes}
    touched = {
        str(rid)
        for rid, at in Property.objects.filter(branch=branch).values_list("rid", "updated_at")
        if at != stamps[rid]
    }
    assert touched == {changed_prop}


def test_apply_with_before_rewrites_every_kind_of_reference_that_changed():
    branch = BranchFactory(name="work")
    build_ontology(branch)
    other_vt = ValueTypeFactory(branch=branch, api_name="IcaoCode")
    spare = InterfaceFactory(branch=branch, api_name="Spare")
    docs = to_documents(branch.pk)
    by_name = {doc["apiName"]: rid for rid, doc in docs.items()}
    changes = {}
    airport = copy.deepcopy(docs[by_name["Airport"]])
    keys = [r for r in airport["properties"] if r != airport["primaryKey"]]
    airport["primaryKey"], airport["titleProperty"] = keys[0], keys[1]
    airport["interfaces"] = {str(spare.rid): True}
    changes[by_name["Airport"]] = airport
    old = {**docs[by_name["OldFlight"]], "replacedBy": by_name["Airport"]}
    changes[by_name["OldFlight"]] = old
    link = dict(docs[by_name["flightAirport"]])
    flight = docs[by_name["Flight"]]
    link["foreignKeyProperty"] = next(
        r for r in flight["properties"] if r != link["foreignKeyProperty"]
    )
    changes[by_name["flightAirport"]] = link
    shared = {**docs[by_name["createdAt"]], "valueType": str(other_vt.rid)}
    changes[by_name["createdAt"]] = shared
    trackable = {
        **docs[by_name["Trackable"]],
        "extends": {},
        "properties": {by_name["createdAt"]: True},
    }
    changes[by_name["Trackable"]] = trackable
    assert all(changes[rid] != docs[rid] for rid in changes)

    write(branch, changes, before={rid: docs[rid] for rid in changes})

    assert to_documents(branch.pk) == {**docs, **changes}


def test_apply_with_before_looks_up_no_reference_that_did_not_change():
    branch = BranchFactory(name="work")
    made = build_ontology(branch)
    docs = to_documents(branch.pk)
    changes = {
        rid: {**doc, "description": "only the text"}
        for rid, doc in docs.items()
        if doc["kind"] in ("objectType", "linkType", "sharedProperty", "interface")
    }
    assert str(made["airport"].rid) in changes and str(made["old"].rid) in changes
    with CaptureQueriesContext(connection) as ctx:
        write(branch, changes, before={rid: docs[rid] for rid in changes})
    lookups = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT")
        and ("ontology_property" in q["sql"] or "_interfaces" in q["sql"] or "_extends" in q["sql"])
    ]
    assert lookups == []
    assert to_documents(branch.pk) == {**docs, **changes}


def test_services_mark_working_change_and_refuse_in_use_deletes():
    branch = BranchFactory(name="svc")
    made = build_ontology(branch)
    airport = made["airport"]
    with pytest.raises(services.InUseError) as exc:
        services.delete(airport)
    assert "flightAirport" in str(exc.value)
    assert ObjectType.objects.filter(pk=airport.pk).exists()

    airport.description = "changed"
    services.save(airport)
    assert branch.working_changes.filter(rid=airport.rid, kind="objectType").exists()


def test_protected_branch_refuses_service_writes():
    main = BranchFactory(name="main")
    assert main.protected
    ot = ObjectTypeFactory.build(branch=main, api_name="Nope", display_name="N")
    with pytest.raises(services.ProtectedBranchError):
        services.save(ot)


def test_drop_rows_removes_one_branch_and_leaves_the_other():
    keep = BranchFactory(name="keep")
    build_ontology(keep)
    gone = BranchFactory(name="gone")
    copy_rows(keep, gone)
    before = to_documents(keep.pk)
    from ontology.workspace import drop_rows

    drop_rows(gone)
    assert to_documents(gone.pk) == {}
    assert not Property.objects.filter(branch=gone).exists()
    assert to_documents(keep.pk) == before
