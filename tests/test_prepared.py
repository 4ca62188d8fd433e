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


def test_a_shape_is_compiled_once_and_its_query_still_goes_through_django(ontology):
    a, _, rids = ontology
    prepared.rows("t.by_rids", by_rids, a.pk, rids[:1])  # prepared, and checked once
    calls = []
    original = prepared._compile
    prepared._compile = lambda *args: calls.append(args) or original(*args)
    try:
        with CaptureQueriesContext(connection) as queries:
            for rid in rids:
                prepared.rows("t.by_rids", by_rids, a.pk, [rid])
    finally:
        prepared._compile = original
    assert calls == []
    assert len(queries) == len(rids)  # one query each: no ORM check after the first


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


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the prepared path runs on PostgreSQL")
def test_a_shape_that_answers_otherwise_than_the_orm_is_dropped(ontology):
    """Fault injection: a compiled query that drifted from the ORM's (a Django upgrade,
    say) is caught by its first run's comparison, answers with the ORM's rows, and is
    never used again."""
    a, _, rids = ontology
    wanted = rids[:3]
    expected = list(by_rids(a.pk, wanted))
    prepared.rows("t.by_rids", by_rids, a.pk, wanted)
    key = ("t.by_rids", -1, 3)
    shape = prepared._shapes[key]
    drifted = shape.sql.replace("ORDER BY 2 ASC", "ORDER BY 2 DESC")
    assert drifted != shape.sql
    prepared._shapes[key] = dataclasses.replace(shape, sql=drifted)
    prepared._checked.discard(key)  # as in a fresh process
    assert prepared.rows("t.by_rids", by_rids, a.pk, wanted) == expected
    assert prepared._shapes[key] is None
    assert prepared.rows("t.by_rids", by_rids, a.pk, wanted) == expected


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
