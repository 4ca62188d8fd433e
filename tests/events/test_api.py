"""Change feed and catalogue endpoints: permissions, cursor, filters, upcasting, errors."""

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

import events
from events import delivery, registry
from events.models import OutboxEvent

pytestmark = pytest.mark.django_db
FEED = "/api/v1/events/"


@pytest.fixture
def reader():
    user = User.objects.create_user("reader", password="pw-reader-123")
    user.user_permissions.add(Permission.objects.get(codename="view_outboxevent"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def publish_and_sequence(type_, n, subject="things/{i}"):
    out = [events.publish(type_, subject.format(i=i), {"name": f"n{i}", "n": i}) for i in range(n)]
    delivery.sequence_pending()
    return out


def test_feed_needs_the_view_permission(test_type):
    publish_and_sequence(test_type, 1)
    anon = APIClient().get(FEED)
    assert anon.status_code in (401, 403)
    assert anon.json()["error"]["status"] == anon.status_code
    client = APIClient()
    client.force_authenticate(User.objects.create_user("nobody"))
    assert client.get(FEED).status_code == 403


def test_feed_pages_in_commit_order_with_a_cursor(test_type, reader):
    published = publish_and_sequence(test_type, 5)
    first = reader.get(FEED, {"limit": 2}).json()
    assert [e["id"] for e in first["events"]] == [str(e.pk) for e in published[:2]]
    assert first["hasMore"] is True and first["next"] == "2"
    second = reader.get(FEED, {"after": first["next"], "limit": 10}).json()
    assert [e["id"] for e in second["events"]] == [str(e.pk) for e in published[2:]]
    assert second["hasMore"] is False and second["next"] == "5"
    empty = reader.get(FEED, {"after": "5"}).json()
    assert empty == {"events": [], "next": "5", "hasMore": False}
    event = second["events"][0]
    assert event["specversion"] == "1.0" and event["sequence"] == "3"
    assert event["data"] == {"name": "n2", "n": 2}


def test_unsequenced_events_are_not_in_the_feed_yet(test_type, reader):
    publish_and_sequence(test_type, 1)
    events.publish(test_type, "things/late", {"name": "late"})
    body = reader.get(FEED).json()
    assert [e["subject"] for e in body["events"]] == ["things/0"]


def test_filters_by_type_and_subject(test_type, reader, settings):
    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = False  # "other" is not in the catalogue
    publish_and_sequence(test_type, 3, subject="branches/main/thing/{i}")
    events.publish("com.oms.test.other.created.v1", "branches/dev/x", {})
    delivery.sequence_pending()
    by_type = reader.get(FEED, {"type": test_type}).json()["events"]
    assert {e["type"] for e in by_type} == {test_type} and len(by_type) == 3
    both = reader.get(FEED, {"type": f"{test_type},com.oms.test.other.created.v1"}).json()
    assert len(both["events"]) == 4
    exact = reader.get(FEED, {"subject": "branches/main/thing/1"}).json()["events"]
    assert [e["subject"] for e in exact] == ["branches/main/thing/1"]
    prefix = reader.get(FEED, {"subject": "branches/main/*"}).json()["events"]
    assert len(prefix) == 3


def test_stored_v1_events_are_upcast_on_read(test_type, reader):
    v1 = "com.oms.test.thing.changed.v0".replace("v0", "v1")
    v2 = "com.oms.test.thing.changed.v2"
    assert v1 == test_type
    registry.register_event_type(
        v2, schema={"type": "object", "required": ["title"]}, description="v2 of the test thing"
    )
    registry.register_upcaster(v1, v2, lambda d: {"title": d["name"], "n": d.get("n")})
    try:
        OutboxEvent.objects.create(  # as written by an older OMS
            source="urn:oms:old",
            type=v1,
            subject="things/old",
            time="2024-01-01T00:00Z",
            dataschema=f"http://x/api/v1/events/schemas/{v1}",
            data={"name": "legacy", "n": 1},
        )
        delivery.sequence_pending()
        (event,) = reader.get(FEED, {"type": v2}).json()["events"]
        assert event["type"] == v2 and event["data"] == {"title": "legacy", "n": 1}
        assert event["dataschema"].endswith(f"/api/v1/events/schemas/{v2}")
        assert registry.validate(v2, event["data"]) == []
    finally:
        registry.unregister(v1)
        registry.unregister(v2)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"subject": "s" * 600}, "subject"),
    ],
)
def test_bad_input_is_a_400_in_the_common_format(reader, params, field):
    response = reader.get(FEED, params)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and field in body["fields"]


def test_catalogue_lists_types_and_serves_schemas(test_type, settings):
    settings.OMS_PUBLIC_URL = "https://oms.example.org"
    client = APIClient()
    types = {t["type"]: t for t in client.get("/api/v1/events/schemas/").json()["types"]}
    assert types[test_type]["dataschema"] == (
        f"https://oms.example.org/api/v1/events/schemas/{test_type}"
    )
    assert "com.oms.events.event.dead_lettered.v1" in types
    schema = client.get(f"/api/v1/events/schemas/{test_type}").json()
    assert schema["$id"] == types[test_type]["dataschema"] and schema["required"] == ["name"]
    assert schema["$schema"].startswith("https://json-schema.org/")
    missing = client.get("/api/v1/events/schemas/com.oms.nope.x.y.v1")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
