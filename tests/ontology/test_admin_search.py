"""The admin's search across every kind of the selected branch, properties included, each
hit a link to its page; bad input is a 400 naming 'q'."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ontology.models import ObjectType, Property
from tests.factories import (
    BranchFactory,
    InterfaceFactory,
    ObjectTypeFactory,
    StructTypeFactory,
    UserFactory,
    ValueTypeFactory,
)

from .test_admin import select

pytestmark = pytest.mark.django_db
SEARCH = reverse("oms-search")


def hits(response) -> dict[str, list[str]]:
    return {g["kind"]: [r["name"] for r in g["rows"]] for g in response.context["groups"]}


def test_one_query_finds_every_kind_on_the_selected_branch(admin_client):
    work = BranchFactory(name="work")
    flight = ObjectTypeFactory(branch=work, api_name="Flight", properties=1)
    prop = flight.properties.get()
    prop.api_name, prop.description = "seatCount", "Seats sold on the flight"
    prop.save()
    ValueTypeFactory(branch=work, api_name="FlightCode")
    StructTypeFactory(branch=work, api_name="Leg", fields=1, description="One flight leg")
    InterfaceFactory(branch=work, api_name="Bookable")
    ObjectTypeFactory(branch=BranchFactory(name="elsewhere"), api_name="FlightPlan")
    select(admin_client, work)

    response = admin_client.get(SEARCH, {"q": "FLIGHT"})
    assert response.status_code == 200
    assert hits(response) == {
        "object type": ["Flight"],
        "property": ["Flight.seatCount"],  # by its description
        "value type": ["FlightCode"],
        "struct type": ["Leg"],
    }
    html = response.content.decode()
    assert f'href="{reverse("admin:ontology_property_change", args=[prop.pk])}"' in html
    assert "FlightPlan" not in html  # another branch's row
    assert admin_client.get(SEARCH, {"q": "nothing-like-it"}).context["groups"] == []
    assert 'id="oms-home-search"' in admin_client.get("/admin/").content.decode()


def test_bad_input_is_a_400_naming_q_and_views_are_checked(client, admin_client):
    work = BranchFactory(name="work")
    ObjectTypeFactory(branch=work, api_name="Flight", properties=1)
    select(admin_client, work)
    too_long = admin_client.get(SEARCH, {"q": "x" * 101})
    assert too_long.status_code == 400
    assert too_long.context["error"] == "'q' is 101 characters long; at most 100."
    assert 'class="errornote"' in too_long.content.decode()

    reader = UserFactory(username="reader", permissions=["ontology.view_objecttype"])
    reader.is_staff = True
    reader.save(update_fields=["is_staff"])
    client.force_login(reader)
    select(client, work)
    assert set(hits(client.get(SEARCH, {"q": "flight"}))) == {"object type"}  # no properties
    assert ObjectType.objects.filter(branch=work).exists() and Property.objects.exists()
    client.logout()
    assert client.get(SEARCH, {"q": "flight"}).status_code == 302  # to the login
