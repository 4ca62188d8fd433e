"""Webhooks against a local HTTP server: signature, filters, 4xx poison, 5xx retry, outage."""

import json

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat

import events
from events import breakers, delivery
from events.choices import DeliveryStatus
from events.models import DeadLetter, Delivery, WebhookSubscription
from events.sinks.webhook import sign, verify

pytestmark = pytest.mark.django_db
SECRET = "s3cret-s3cret-s3cret"


@pytest.fixture
def hook(receiver, settings):
    settings.OMS_EVENTS_SINKS = []
    return WebhookSubscription.objects.create(name="crm", url=receiver.url, secret=SECRET)


def test_signed_structured_cloudevent_reaches_the_webhook(test_type, hook, receiver):
    event = events.publish(test_type, "things/1", {"name": "w"}, branch="main")
    delivery.drain()
    ((headers, body),) = receiver.requests
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert headers["X-OMS-Event-Id"] == str(event.pk)
    assert headers["X-OMS-Signature"] == sign(SECRET, headers["X-OMS-Timestamp"], body)
    assert verify(SECRET, headers["X-OMS-Timestamp"], body, headers["X-OMS-Signature"])
    assert not verify(
        "another-secret-value", headers["X-OMS-Timestamp"], body, headers["X-OMS-Signature"]
    )
    assert not verify(SECRET, headers["X-OMS-Timestamp"], body + b" ", headers["X-OMS-Signature"])
    ce = from_structured(HTTPMessage(headers, body), JSONFormat())
    assert ce.get_id() == str(event.pk) and ce.get_data() == {"name": "w"}
    assert Delivery.objects.get(sink="webhook:crm").status == DeliveryStatus.DELIVERED


def test_stale_signatures_are_rejected():
    assert not verify(SECRET, "1000", b"{}", sign(SECRET, "1000", b"{}"))
    assert not verify(SECRET, "not-a-time", b"{}", "sha256=00")


def test_type_filter_and_disabled_subscriptions(test_type, hook, receiver, settings):
    WebhookSubscription.objects.create(
        name="other", url=receiver.url, secret=SECRET, event_types=["com.oms.ontology.*"]
    )
    WebhookSubscription.objects.create(name="off", url=receiver.url, secret=SECRET, enabled=False)
    events.publish(test_type, "things/1", {"name": "w"})
    delivery.drain()
    assert list(Delivery.objects.values_list("sink", flat=True)) == ["webhook:crm"]
    assert len(receiver.requests) == 1


def test_env_configured_webhook(test_type, receiver, settings):
    settings.OMS_EVENTS_SINKS = []
    settings.OMS_EVENTS_WEBHOOKS = [
        {"name": "env", "url": receiver.url, "secret": SECRET, "types": ["com.oms.test.*"]}
    ]
    events.publish(test_type, "things/1", {"name": "w"})
    delivery.drain()
    headers, body = receiver.requests[0]
    assert verify(SECRET, headers["X-OMS-Timestamp"], body, headers["X-OMS-Signature"])


def test_client_error_is_poison(test_type, hook, receiver):
    receiver.status = 422
    (event,) = [events.publish(test_type, "things/1", {"name": "w"})]
    delivery.drain()
    letter = DeadLetter.objects.get(event=event)
    assert letter.reason == "poison" and letter.error.startswith("HTTP 422")
    sent = [h["X-OMS-Event-Id"] for h, _ in receiver.requests]
    assert sent.count(str(event.pk)) == 1  # not retried
    # the dead_lettered announcement failed too, but announcements are not announced again
    assert DeadLetter.objects.count() == 2 and len(sent) == 2


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried(test_type, hook, receiver, status, settings):
    settings.OMS_EVENTS_BACKOFF_BASE_SECONDS = 30
    settings.OMS_EVENTS_BACKOFF_CAP_SECONDS = 60
    receiver.status = status
    events.publish(test_type, "things/1", {"name": "w"})
    delivery.drain()
    d = Delivery.objects.get(event__type=test_type)
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1
    assert d.last_error.startswith(f"HTTP {status}")


def test_unreachable_webhook_trips_its_breaker(test_type, settings):
    settings.OMS_EVENTS_SINKS = []
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 2
    settings.OMS_EVENTS_BREAKER_RESET_TIMEOUT_SECONDS = 60
    settings.OMS_EVENTS_MAX_ATTEMPTS = 10
    WebhookSubscription.objects.create(name="down", url="http://127.0.0.1:9/x", secret=SECRET)
    for i in range(3):
        events.publish(test_type, f"things/{i}", {"name": "w"})
    delivery.sequence_pending()
    for _ in range(4):
        delivery.drain(batch=1)
        Delivery.objects.filter(status="pending").update(next_attempt_at="2000-01-01T00:00Z")
    assert breakers.state("webhook:down") == "open"
    assert sum(Delivery.objects.values_list("attempts", flat=True)) == 2
    assert DeadLetter.objects.count() == 0
    errors = set(Delivery.objects.values_list("last_error", flat=True))
    assert any("ConnectionError" in e for e in errors)
    assert json.dumps(sorted(errors))  # errors are recorded for the admin
