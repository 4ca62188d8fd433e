"""NATS JetStream on the real server: end to end, de-duplication, and NATS going away."""

import json
import os
import uuid

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from django.db import transaction
from django.utils import timezone

import events
from events import breakers, delivery
from events.choices import DeliveryStatus
from events.envelope import to_json_bytes
from events.models import DeadLetter, Delivery, OutboxEvent
from events.sinks import Message
from events.sinks.nats import NatsSink, ensure_stream

from .natshelp import PrivateNats, delete_stream, read_stream, stream_messages

pytestmark = [pytest.mark.nats, pytest.mark.django_db]


@pytest.fixture
def jetstream(nats_url, settings):
    """A unique stream and subject prefix on the shared server, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    settings.NATS_URL = nats_url
    settings.OMS_EVENTS_SINKS = ["nats"]
    settings.OMS_EVENTS_NATS_STREAM = f"OMS_TEST_{suffix}"
    settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = f"omstest.{suffix}"
    yield settings.OMS_EVENTS_NATS_STREAM, settings.OMS_EVENTS_NATS_SUBJECT_PREFIX
    delete_stream(nats_url, settings.OMS_EVENTS_NATS_STREAM)


def test_committed_change_becomes_a_jetstream_message(
    test_type, jetstream, nats_url, django_capture_on_commit_callbacks, kicks
):
    stream, prefix = jetstream
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.publish(test_type, "things/42", {"name": "x", "n": 42}, branch="main")
    assert len(kicks) == 1  # the drain is scheduled on commit
    delivery.drain()
    ((headers, body),) = read_stream(nats_url, stream, f"{prefix}.>", expect=1)
    assert headers["Nats-Msg-Id"] == str(event.pk)
    ce = from_structured(
        HTTPMessage({"content-type": "application/cloudevents+json"}, body), JSONFormat()
    )
    assert ce.get_id() == str(event.pk) and ce.get_type() == test_type
    assert ce.get_subject() == "things/42" and ce.get_data() == {"name": "x", "n": 42}
    assert ce.get_extension("branch") == "main" and ce.get_extension("sequence") == "1"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_management_command_creates_the_stream(jetstream, nats_url):
    from django.core.management import call_command

    stream, prefix = jetstream
    call_command("events_setup_nats")
    call_command("events_setup_nats")  # idempotent
    assert stream_messages(nats_url, stream) == 0


def test_the_same_event_delivered_twice_is_stored_once(test_type, jetstream, nats_url):
    stream, prefix = jetstream
    event = events.publish(test_type, "things/1", {"name": "dup"})
    delivery.drain()
    # a steward requeues an already-delivered event (or a worker died after the ack)
    Delivery.objects.update(status=DeliveryStatus.PENDING)
    delivery.drain()
    assert Delivery.objects.get().attempts == 2
    sink = NatsSink(nats_url, stream, prefix)
    body = to_json_bytes(OutboxEvent.objects.get(pk=event.pk))
    sink.send_batch([Message(str(event.pk), test_type, "things/1", body)])
    assert stream_messages(nats_url, stream) == 1


def test_nats_down_then_back_loses_and_duplicates_nothing(test_type, settings):
    if not os.path.exists("/usr/sbin/nats-server"):
        pytest.skip("nats-server binary not available")
    server = PrivateNats()
    server.start()
    try:
        settings.NATS_URL = server.url
        settings.OMS_EVENTS_SINKS = ["nats"]
        settings.OMS_EVENTS_NATS_STREAM = "OMS_FAULT"
        settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = "omsfault"
        settings.OMS_EVENTS_NATS_TIMEOUT_SECONDS = 1
        settings.OMS_EVENTS_MAX_ATTEMPTS = 10
        settings.OMS_EVENTS_BREAKER_FAIL_MAX = 3
        settings.OMS_EVENTS_BREAKER_RESET_TIMEOUT_SECONDS = 2.5
        settings.OMS_EVENTS_BATCH_SIZE = 200
        ensure_stream()
        server.stop()

        with transaction.atomic():
            published = [
                events.publish(test_type, f"things/{i % 37}", {"name": "f", "n": i})
                for i in range(1000)
            ]
        assert delivery.sequence_pending(limit=1000) == 1000
        for _ in range(3):
            Delivery.objects.update(next_attempt_at=timezone.now())
            delivery.drain(time_budget=10)
        assert breakers.state("nats") == "open"
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 0
        assert DeadLetter.objects.count() == 0
        # per-subject order: only the first event of each of the 37 subjects was tried;
        # three failing calls opened the breaker; the rest wait, no attempt spent
        tried = Delivery.objects.filter(attempts__gt=0)
        assert {d.event_id for d in tried} == {e.pk for e in published[:37]}
        spent = sum(Delivery.objects.values_list("attempts", flat=True))
        assert spent == 3 * 37
        delivery.drain(time_budget=10)  # still open: nothing sent, nothing spent
        assert sum(Delivery.objects.values_list("attempts", flat=True)) == spent

        server.start()
        import time

        time.sleep(2.6)
        Delivery.objects.update(next_attempt_at=Delivery.objects.order_by("id").first().created_at)
        delivery.drain(time_budget=30)
        assert breakers.state("nats") == "closed"
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 1000
        messages = read_stream(server.url, "OMS_FAULT", "omsfault.>", expect=1000, timeout=15)
        ids = [h["Nats-Msg-Id"] for h, _ in messages]
        assert len(ids) == 1000 and set(ids) == {str(e.pk) for e in published}
        assert stream_messages(server.url, "OMS_FAULT") == 1000
        assert all(json.loads(body)["id"] == h["Nats-Msg-Id"] for h, body in messages[:10])
        by_subject: dict[str, list[int]] = {}
        for _, body in messages:  # stream order
            envelope = json.loads(body)
            by_subject.setdefault(envelope["subject"], []).append(int(envelope["sequence"]))
        assert len(by_subject) == 37
        assert all(seq == sorted(seq) for seq in by_subject.values())
    finally:
        server.close()
