"""publish(): one outbox row in the caller's transaction, a valid CloudEvents 1.0 event."""

import json
import uuid

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from django.db import transaction

import events
from events.envelope import to_json_bytes
from events.exceptions import InvalidEvent
from events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_publish_writes_one_cloudevent_row(test_type, settings):
    settings.OMS_INSTANCE_URI = "urn:oms:test-instance"
    settings.OMS_PUBLIC_URL = "https://oms.example.org/"
    event = events.publish(test_type, "things/1", {"name": "a"}, branch="main", commit="c0ffee")
    assert OutboxEvent.objects.count() == 1
    row = OutboxEvent.objects.get()
    assert row.pk == event.pk and isinstance(row.pk, uuid.UUID)
    assert row.position is None  # sequenced after commit, by the drain
    assert row.deliveries.count() == 0  # publish writes the outbox row and nothing else

    body = to_json_bytes(row)
    parsed = from_structured(
        HTTPMessage({"content-type": "application/cloudevents+json"}, body),
        JSONFormat(),
        CloudEvent,
    )
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_id() == str(row.pk)
    assert parsed.get_source() == "urn:oms:test-instance"
    assert parsed.get_type() == test_type
    assert parsed.get_subject() == "things/1"
    assert parsed.get_time() is not None and parsed.get_time().tzinfo is not None
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_dataschema() == f"https://oms.example.org/api/v1/events/schemas/{test_type}"
    assert parsed.get_extension("branch") == "main"
    assert parsed.get_extension("commit") == "c0ffee"
    assert parsed.get_data() == {"name": "a"}
    assert json.loads(body)["data"] == {"name": "a"}


def test_rolled_back_change_publishes_nothing(test_type, kicks, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        events.publish(test_type, "things/1", {"name": "a"})
        raise RuntimeError("the change failed")
    assert OutboxEvent.objects.count() == 0
    assert callbacks == [] and kicks == []


def test_one_drain_is_scheduled_per_transaction(
    test_type, kicks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for i in range(5):
            events.publish(test_type, f"things/{i}", {"name": "a"})
    assert OutboxEvent.objects.count() == 5
    assert len(callbacks) == 1
    assert len(kicks) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("bad type", "s", {}), "does not follow"),
        (("com.oms.test.thing.changed.v1", "", {"name": "a"}), "subject"),
        (("com.oms.test.thing.changed.v1", "s", ["not", "a", "dict"]), "JSON object"),
        (("com.oms.test.thing.changed.v1", "s", {"name": 5}), "does not match its schema"),
        (("com.oms.test.thing.changed.v1", "s", {}), "'name' is a required property"),
    ],
)
def test_invalid_events_are_refused_in_the_callers_transaction(test_type, args, message):
    with pytest.raises(InvalidEvent, match=message):
        events.publish(*args)
    assert OutboxEvent.objects.count() == 0


def test_publish_many_writes_them_in_order_with_one_drain(
    test_type, kicks, django_capture_on_commit_callbacks, monkeypatch
):
    """A bulk import's events: the same rows ``publish`` writes, in the order given (the
    change feed's order) even when one insert stamps them all with the same microsecond,
    with one drain scheduled."""
    from django.utils import timezone

    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    items = [(test_type, f"things/{i}", {"name": f"n{i}"}, {"branch": "dev"}) for i in range(7)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        assert events.publish_many(items) == 7
    rows = list(OutboxEvent.objects.order_by("created_at", "id"))  # the sequencer's order
    assert [r.subject for r in rows] == [f"things/{i}" for i in range(7)]
    assert len({r.id for r in rows}) == 7 and all(r.id.version == 4 for r in rows)
    assert {r.branch for r in rows} == {"dev"} and all(r.position is None for r in rows)
    assert len(callbacks) == 1 and len(kicks) == 1


def test_publish_many_checks_every_event_before_writing_any(test_type):
    items = [
        (test_type, "things/1", {"name": "a"}, {}),
        (test_type, "things/2", {"name": 5}, {}),  # breaks the registered schema
    ]
    with pytest.raises(InvalidEvent, match="does not match its schema"):
        events.publish_many(items)
    assert OutboxEvent.objects.count() == 0


def test_unregistered_types_are_refused_when_required(settings):
    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = True
    with pytest.raises(InvalidEvent, match="Unknown event type"):
        events.publish("com.oms.test.nobody.registered.v1", "s", {})
    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = False
    events.publish("com.oms.test.nobody.registered.v1", "s", {})
    assert OutboxEvent.objects.count() == 1


def test_serialisation_writes_the_bytes_of_the_sdk(test_type, settings):
    """to_json_bytes skips building a CloudEvent; it must write what the SDK writes."""
    from datetime import UTC, datetime, timedelta, timezone

    from events import registry
    from events.envelope import FORMAT, to_cloudevent

    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = False
    old = "com.oms.test.older.thing.v1"
    registry.register_upcaster(old, test_type, lambda data: {**data, "name": "upcast"})
    try:
        rows = [
            events.publish(test_type, "things/1", {"name": "é ü \u2028", "n": 2**70}),
            events.publish(test_type, "things/2", {"name": "b"}, branch="main", commit="c0"),
            events.publish(old, "things/3", {"x": [1, 2.5, None, True]}),
        ]
        rows[0].time = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        rows[1].time = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
        rows[1].position = 42
        rows[2].dataschema = ""
        for row in rows:
            assert to_json_bytes(row) == FORMAT.write(to_cloudevent(row))
        assert json.loads(to_json_bytes(rows[2]))["data"]["name"] == "upcast"
    finally:
        registry.unregister(old)
