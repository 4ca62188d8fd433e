"""Bulk actions of the ontology lists: deprecate the selected entities (one message and
deadline, asked first) and set their visibility, each row written through the services
(its own event and working-change mark); none of it on a read-only branch."""

from __future__ import annotations

import datetime

import pytest

from events.models import OutboxEvent
from ontology.models import ObjectType, Property, StructField, ValueType
from tests.factories import BranchFactory, ObjectTypeFactory, ValueTypeFactory
from versioning.models import Branch, WorkingChange

from .test_admin import messages_of, select, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    return BranchFactory(name="work")


@pytest.fixture
def main():
    return Branch.objects.get(name="main")


@pytest.fixture
def steward(admin_client, work):
    select(admin_client, work)
    return admin_client


def action_names(client, model) -> set[str]:
    form = client.get(url(model, "changelist")).context["action_form"]
    if form is None:  # no action at all
        return set()
    return {name for name, _ in form.fields["action"].choices if name}


def test_deprecating_the_selected_asks_once_then_writes_each_through_the_services(steward, work):
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=1)
    airport = ObjectTypeFactory(branch=work, api_name="Airport", properties=1)
    kept = ObjectTypeFactory(branch=work, api_name="Kept")
    data = {"action": "deprecate_selected", "_selected_action": [flight.pk, airport.pk]}

    confirm = steward.post(url(ObjectType, "changelist"), data)
    assert confirm.status_code == 200
    assert {o.api_name for o in confirm.context["queryset"]} == {"Flight", "Airport"}
    assert 'name="deprecation_deadline"' in confirm.content.decode()

    blank = steward.post(url(ObjectType, "changelist"), {**data, "apply": "yes"})
    assert blank.status_code == 200 and blank.context["form"].errors.keys() == {
        "deprecation_message",
        "deprecation_deadline",
    }
    assert not ObjectType.objects.filter(branch=work, status="DEPRECATED").exists()

    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    done = steward.post(
        url(ObjectType, "changelist"),
        {
            **data,
            "apply": "yes",
            "deprecation_message": " Use Trip ",
            "deprecation_deadline": "2027-06-30",
        },
    )
    assert done.status_code == 302
    rows = ObjectType.objects.filter(branch=work).order_by("api_name")
    assert [(r.api_name, r.status) for r in rows] == [
        ("Airport", "DEPRECATED"),
        ("Flight", "DEPRECATED"),
        ("Kept", "ACTIVE"),
    ]
    assert {(r.deprecation_message, r.deprecation_deadline) for r in rows[:2]} == {
        ("Use Trip", datetime.date(2027, 6, 30))
    }
    events = OutboxEvent.objects.exclude(pk__in=before)
    assert sorted(e.data["apiName"] for e in events) == ["Airport", "Flight"]
    assert {e.type for e in events} == {"com.oms.ontology.object_type.updated.v1"}
    assert WorkingChange.objects.filter(rid__in=[flight.rid, airport.rid]).count() == 2
    assert not WorkingChange.objects.filter(rid=kept.rid).exists()
    assert messages_of(done) == ["Deprecated until 2027-06-30: 2 object types (Airport, Flight)."]


def test_properties_are_deprecated_in_bulk_too(steward, work):
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=3)
    first, second, third = flight.properties.order_by("position")
    steward.post(
        url(Property, "changelist"),
        {
            "action": "deprecate_selected",
            "_selected_action": [second.pk, third.pk],
            "apply": "yes",
            "deprecation_message": "Read seats instead",
            "deprecation_deadline": "2027-01-31",
        },
    )
    statuses = dict(flight.properties.values_list("pk", "status"))
    assert statuses == {first.pk: "ACTIVE", second.pk: "DEPRECATED", third.pk: "DEPRECATED"}


def test_visibility_is_set_in_bulk(steward, work):
    flight = ObjectTypeFactory(branch=work, api_name="Flight")
    airport = ObjectTypeFactory(branch=work, api_name="Airport")
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    response = steward.post(
        url(ObjectType, "changelist"),
        {"action": "visibility_hidden", "_selected_action": [flight.pk, airport.pk]},
    )
    assert response.status_code == 302
    assert set(ObjectType.objects.filter(branch=work).values_list("visibility", flat=True)) == {
        "HIDDEN"
    }
    assert OutboxEvent.objects.exclude(pk__in=before).count() == 2
    assert "Visibility set to hidden: 2 object types (Airport, Flight)." in messages_of(response)


def test_the_actions_fit_each_kind_and_a_read_only_branch_offers_none(steward, main):
    assert {"deprecate_selected", "visibility_hidden", "visibility_prominent"} <= action_names(
        steward, ObjectType
    )
    assert "deprecate_selected" in action_names(steward, ValueType)
    assert "visibility_hidden" not in action_names(steward, ValueType)
    assert "deprecate_selected" not in action_names(steward, StructField)  # no status

    value_type = ValueTypeFactory(branch=main, api_name="Code")
    select(steward, main)
    assert not {"deprecate_selected", "visibility_hidden"} & action_names(steward, ObjectType)
    steward.post(
        url(ValueType, "changelist"),
        {
            "action": "deprecate_selected",
            "_selected_action": [value_type.pk],
            "apply": "yes",
            "deprecation_message": "No",
            "deprecation_deadline": "2027-01-31",
        },
    )
    value_type.refresh_from_db()
    assert value_type.status == "ACTIVE"
