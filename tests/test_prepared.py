"""``oms_site.prepared``: a query compiled once and run with other values answers exactly
what the ORM answers for those values, and anything it cannot run as the ORM would goes
to the ORM."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms_site import prepared
from ontology.models import ObjectType, Property
from tests.factories import BranchFactory, ObjectTypeFactory
from versioning.store import uuid_text

pytestmark = pytest.mark.django_db
ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_shapes():
    prepared.clear()
    yield
    prepared.clear()


def by_rids(branch_id, rids):
    return (
        ObjectType.objects.filter(branch_id=branch_id, rid__in=rids)
        .order_by("api_name")
        .values_list(uuid_text("rid"), "api_name", "created_at", "status")
    )


def by_name_part(branch_id, part):
    return ObjectType.objects.filter(branch_id=branch_id, api_name__icontains=part).values_list(
        "api_name"
    )


@pytest.fixture
def ontology():
    a, b = BranchFactory(name="pa"), BranchFactory(name="pb")
    types = [ObjectTypeFactory(branch=branch, properties=2) for branch in (a, a, a, b, b)]
    return a, b, [str(t.rid) for t in types]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_answer_is_the_orm_answer_for_any_values(ontology, data):
    a, b, rids = ontology
    unknown = [str(uuid.uuid4()) for _ in range(3)]
    branch = data.draw(st.sampled_from([a.pk, b.pk, 999_999]))
    wanted = data.draw(st.lists(st.sampled_from(rids + unknown), min_size=1, max_size=5))
    assert prepared.rows("t.by_rids", by_rids, branch, wanted) == list(by_rids(branch, wanted))


def test_one_query_a_call_the_first_included_and_one_compilation_a_shape(ontology):
    a, _, rids = ontology
    calls = []
    original = prepared._compile
    prepared._compile = lambda *args: calls.append(args) or original(*args)
    try:
        with CaptureQueriesContext(connection) as queries:
            for rid in rids:
                prepared.rows("t.by_rids", by_rids, a.pk, [rid])
    finally:
        prepared._compile = original
    assert len(calls) == 1
    assert len(queries) == len(rids)  # the first call is the ORM's own query, no more


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the prepared path runs on PostgreSQL")
def test_a_page_read_is_prepared_on_postgresql(ontology):
    a, _, rids = ontology
    prepared.rows("t.by_rids", by_rids, a.pk, rids[:2])
    assert prepared._shapes[("t.by_rids", -1, 2)] is not None


def test_what_the_orm_transforms_is_left_to_it(ontology):
    a, _, _ = ontology
    name = ObjectType.objects.filter(branch=a).first().api_name
    part = name[1:4]
    assert prepared.rows("t.part", by_name_part, a.pk, part) == list(by_name_part(a.pk, part))
    assert prepared._shapes[("t.part", -1, -1)] is None  # '%part%' is not the sentinel


def test_a_value_of_another_kind_than_the_shape_goes_to_the_orm(ontology):
    a, _, rids = ontology
    prepared.rows("t.by_rids", by_rids, a.pk, rids[:1])
    with pytest.raises(Exception) as raised:  # the ORM's own refusal, not the database's
        prepared.rows("t.by_rids", by_rids, a.pk, ["not-a-uuid"])
    assert "UUID" in str(raised.value)


def test_a_long_list_is_never_kept(ontology):
    a, _, rids = ontology
    many = rids + [str(uuid.uuid4()) for _ in range(prepared.MAX_LIST)]
    assert prepared.rows("t.by_rids", by_rids, a.pk, many) == list(by_rids(a.pk, many))
    assert not [key for key in prepared._shapes if key[0] == "t.by_rids"]


def test_a_shape_that_would_send_another_query_than_the_orm_is_not_kept(ontology, monkeypatch):
    """Fault injection: a compiled shape that drifted from the ORM's query for the same
    values (a Django upgrade, say) is never kept: the call answers with the ORM's rows."""
    a, _, rids = ontology
    wanted = rids[:3]
    original = prepared._compile

    def drifted(*args):
        shape = original(*args)
        return dataclasses.replace(shape, sql=shape.sql.replace("ASC", "DESC"))

    monkeypatch.setattr(prepared, "_compile", drifted)
    assert prepared.rows("t.by_rids", by_rids, a.pk, wanted) == list(by_rids(a.pk, wanted))
    assert prepared._shapes[("t.by_rids", -1, 3)] is None
    assert prepared.rows("t.by_rids", by_rids, a.pk, wanted) == list(by_rids(a.pk, wanted))


def test_model_instances_are_the_orm_instances(ontology):
    a, b, rids = ontology

    def ot(branch_id, rid):
        return ObjectType.objects.filter(branch_id=branch_id, rid=rid)[:1]

    for branch, rid in [(a.pk, rids[0]), (a.pk, rids[1]), (b.pk, rids[0]), (b.pk, rids[4])]:
        ours = prepared.instances("t.ot", ot, branch, rid)
        theirs = list(ot(branch, rid))
        assert [sorted(o.__dict__) for o in ours] == [sorted(t.__dict__) for t in theirs]
        assert [(o.pk, o.api_name, o.updated_at, o._state.adding) for o in ours] == [
            (t.pk, t.api_name, t.updated_at, False) for t in theirs
        ]
    if ON_POSTGRESQL:
        assert prepared._shapes[("t.ot", -1, -1)] is not None


def test_a_locking_read_outside_a_transaction_is_the_orm_error(ontology, monkeypatch):
    """(The test itself runs in a transaction: "outside" is the connection saying so.)"""
    from django.db.transaction import TransactionManagementError

    a, _, rids = ontology

    def locked(branch_id, rid):
        return ObjectType.objects.select_for_update().filter(branch_id=branch_id, rid=rid)

    for rid in rids[:2]:  # prepared by the first, run prepared by the second
        assert [str(o.rid) for o in prepared.instances("t.locked", locked, a.pk, rid)] == [rid]
    if connection.features.has_select_for_update:
        monkeypatch.setattr(connection, "get_autocommit", lambda: True)
        with pytest.raises(TransactionManagementError):
            prepared.instances("t.locked", locked, a.pk, rids[2])


def test_properties_of_one_object_type_read_prepared_match_the_orm(ontology):
    a, _, rids = ontology
    ids = list(ObjectType.objects.filter(rid__in=rids[:2]).values_list("id", flat=True))

    def props(branch_id, ids):
        return (
            Property.objects.filter(branch_id=branch_id, object_type_id__in=ids)
            .order_by("object_type_id", "position")
            .values_list("object_type_id", uuid_text("rid"), "api_name", "required")
        )

    assert prepared.rows("t.props", props, a.pk, ids) == list(props(a.pk, ids))


def test_a_value_build_transforms_is_left_to_the_orm(ontology):
    """``build`` lowering its argument: a shape first seen with a lower-case value would
    send the next, mixed-case one untransformed. It is never kept."""
    a, _, _ = ontology
    name = ObjectType.objects.filter(branch=a).order_by("pk").first().api_name

    def by_name(branch_id, value):
        return ObjectType.objects.filter(branch_id=branch_id, api_name=value.lower()).values_list(
            "api_name"
        )

    ObjectType.objects.filter(api_name=name).update(api_name=name.lower())
    for value in (name.lower(), name.upper(), name.lower()):
        assert prepared.rows("t.lowered", by_name, a.pk, value) == list(by_name(a.pk, value))
    assert prepared._shapes[("t.lowered", -1, -1)] is None
