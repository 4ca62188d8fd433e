"""Admin: stewards see pending, failing and dead events and requeue or discard them."""

import pytest
from django.contrib.auth.models import Permission, User

import events
from events import breakers, delivery
from events.choices import DeliveryStatus
from events.models import DeadLetter, Delivery, OutboxEvent
from events.sinks import DELIVERED, Outcome, Result

from .conftest import FakeSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead(test_type, use_sinks):
    sink = FakeSink("a", behaviour=lambda m: Outcome(Result.POISON, "HTTP 400: bad"))
    use_sinks(sink)
    for i in range(3):
        events.publish(test_type, f"things/{i}", {"name": "x"})
    delivery.drain()
    sink.behaviour = lambda m: DELIVERED
    return sink


def test_dead_letters_listed_and_requeued_in_bulk(client, admin_user, dead, test_type):
    client.force_login(admin_user)
    page = client.get("/admin/events/deadletter/?open=yes")
    assert page.status_code == 200 and b"HTTP 400: bad" in page.content
    letters = list(DeadLetter.objects.filter(event__type=test_type))
    response = client.post(
        "/admin/events/deadletter/",
        {"action": "requeue", "_selected_action": [dl.pk for dl in letters[:2]]},
    )
    assert response.status_code == 302
    delivery.drain()
    statuses = sorted(
        Delivery.objects.filter(event__type=test_type).values_list("status", flat=True)
    )
    assert statuses == ["dead", "delivered", "delivered"]
    client.post(
        "/admin/events/deadletter/", {"action": "discard", "_selected_action": [letters[2].pk]}
    )
    assert DeadLetter.objects.get(pk=letters[2].pk).resolution == "discarded"


def test_event_admin_filters_and_delivery_list_shows_breakers(client, admin_user, dead, test_type):
    client.force_login(admin_user)
    dead_events = client.get("/admin/events/outboxevent/?state=dead")
    assert dead_events.status_code == 200
    shown = {e.subject for e in dead_events.context["cl"].result_list if e.type == test_type}
    assert shown == {"things/0", "things/1", "things/2"}
    assert client.get("/admin/events/outboxevent/?state=pending").status_code == 200
    breakers.get_breaker("a").open()
    page = client.get("/admin/events/delivery/?status=dead")
    assert page.status_code == 200
    assert b"Circuit breakers" in page.content and b"breaker-open" in page.content
    event = OutboxEvent.objects.filter(type=test_type).first()
    detail = client.get(f"/admin/events/outboxevent/{event.pk}/change/")
    assert detail.status_code == 200 and b"HTTP 400: bad" in detail.content


def test_event_admin_requeue_action(client, admin_user, dead, test_type):
    client.force_login(admin_user)
    ids = list(OutboxEvent.objects.filter(type=test_type).values_list("pk", flat=True))
    client.post("/admin/events/outboxevent/", {"action": "requeue", "_selected_action": ids})
    assert (
        Delivery.objects.filter(event__type=test_type, status=DeliveryStatus.PENDING).count() == 3
    )


def test_viewers_cannot_requeue(client, dead, test_type):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_deadletter", "view_delivery", "view_outboxevent"]
        )
    )
    client.force_login(viewer)
    page = client.get("/admin/events/deadletter/")
    assert page.status_code == 200 and b'value="requeue"' not in page.content
    letter = DeadLetter.objects.filter(event__type=test_type).first()
    client.post("/admin/events/deadletter/", {"action": "requeue", "_selected_action": [letter.pk]})
    assert Delivery.objects.get(pk=letter.delivery_id).status == DeliveryStatus.DEAD
