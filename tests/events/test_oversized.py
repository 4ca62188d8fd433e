"""One oversized event must not jam delivery (issue 12, defect 2)."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

import events
from events import breakers, delivery
from events.choices import DeadLetterReason, DeliveryStatus
from events.exceptions import EventTooLarge
from events.models import DeadLetter, Delivery, OutboxEvent
from events.sinks import Outcome, Result
from events.sinks.nats import ensure_stream

from .conftest import FakeSink
from .natshelp import PrivateNats, stream_messages

pytestmark = pytest.mark.django_db


def test_publish_refuses_an_event_over_the_limit_with_413(test_type, settings):
    settings.OMS_EVENTS_MAX_EVENT_BYTES = 4000
    events.publish(test_type, "things/ok", {"name": "x" * 3000})
    with pytest.raises(EventTooLarge) as refused, transaction.atomic():
        events.publish(test_type, "things/big", {"name": "x" * 4000})
    assert refused.value.http_status == 413 and "OMS_EVENTS_MAX_EVENT_BYTES" in str(refused.value)
    assert list(OutboxEvent.objects.values_list("subject", flat=True)) == ["things/ok"]


def test_the_default_limit_fits_the_nats_default_max_payload():
    from events import conf

    assert conf.max_event_bytes() < 1024 * 1024 - 1024


def test_permanent_refusals_never_open_the_breaker(test_type, use_sinks, settings):
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 2
    sink = FakeSink("a", behaviour=lambda m: Outcome(Result.POISON, "too large"))
    use_sinks(sink)
    for i in range(5):
        events.publish(test_type, f"things/{i}", {"name": "m"})
        delivery.drain(batch=1)
    assert breakers.state("a") == "closed"
    assert (
        DeadLetter.objects.filter(event__type=test_type, reason=DeadLetterReason.POISON).count()
        == 5
    )


@pytest.fixture
def small_nats(settings, nats_url):
    """A private nats-server whose max_payload (8 KiB) is under OMS's event limit (where
    the shared NATS runs, so does nats-server)."""
    server = PrivateNats(config="max_payload: 8192\n")
    server.start()
    settings.NATS_URL = server.url
    settings.OMS_EVENTS_SINKS = ["nats"]
    settings.OMS_EVENTS_NATS_STREAM = "OMS_SMALL"
    settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = "omssmall"
    settings.OMS_EVENTS_NATS_TIMEOUT_SECONDS = 2
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 1
    try:
        ensure_stream()
        yield server
    finally:
        server.close()


@pytest.mark.nats
def test_an_event_over_the_sinks_max_payload_is_poison_at_once(test_type, small_nats):
    big = events.publish(test_type, "things/1", {"name": "x" * 20_000})
    for i in range(20):
        events.publish(test_type, f"things/{i % 3}", {"name": "m", "n": i})
    started = time.monotonic()
    delivery.drain()
    elapsed = time.monotonic() - started
    dead = Delivery.objects.get(event=big)
    assert dead.status == DeliveryStatus.DEAD and dead.attempts == 1
    letter = DeadLetter.objects.get(event=big)
    assert letter.reason == DeadLetterReason.POISON and "max_payload" in letter.error
    others = Delivery.objects.exclude(event=big).filter(sink="nats")
    assert set(others.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert stream_messages(small_nats.url, "OMS_SMALL") >= 20
    assert breakers.state("nats") == "closed"
    assert elapsed < 10
