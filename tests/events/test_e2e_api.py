"""End to end from the REST API: a change made through the ontology API becomes a JetStream
message that a subscriber reads and a signed webhook call to a local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from events import tasks
from events.choices import DeliveryStatus
from events.models import Delivery, OutboxEvent
from events.sinks.webhook import verify
from tests.factories import BranchFactory, UserFactory
from tests.ontology.test_api_object_types import FLIGHT

from .natshelp import delete_stream, read_stream

pytestmark = [pytest.mark.nats, pytest.mark.django_db(transaction=True)]

CREATED = "com.oms.ontology.object_type.created.v1"
SECRET = "e2e-webhook-secret-0123456789"


@pytest.fixture
def wired(nats_url, receiver, settings):
    """NATS (a stream and subject prefix of our own) and one webhook for ontology events."""
    suffix = uuid.uuid4().hex[:10]
    settings.NATS_URL = nats_url
    settings.OMS_EVENTS_SINKS = ["nats"]
    settings.OMS_EVENTS_NATS_STREAM = f"OMS_E2E_{suffix}"
    settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = f"omse2e.{suffix}"
    settings.OMS_EVENTS_WEBHOOKS = [
        {"name": "e2e", "url": receiver.url, "secret": SECRET, "types": ["com.oms.ontology.*"]}
    ]
    yield settings.OMS_EVENTS_NATS_STREAM, settings.OMS_EVENTS_NATS_SUBJECT_PREFIX, suffix
    delete_stream(nats_url, settings.OMS_EVENTS_NATS_STREAM)


def editor_client(branch) -> APIClient:
    """An editor with the ontology permissions and the edit grant on ``branch``."""
    user = UserFactory(username=f"e2e-{uuid.uuid4().hex[:8]}")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ontology"))
    assign_perm("versioning.edit_branch", user, branch)
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_api_change_reaches_a_jetstream_subscriber_and_a_signed_webhook(
    wired, nats_url, receiver, kicks
):
    stream, prefix, suffix = wired
    writable = BranchFactory(name=f"e2e-{suffix}")  # not protected
    branch = writable.name
    response = editor_client(writable).post(
        f"/api/v1/branches/{branch}/object-types/", FLIGHT, format="json"
    )
    assert response.status_code == 201, response.json()
    rid = response.json()["rid"]
    assert kicks, "the drain task is enqueued when the API's transaction commits"
    event = OutboxEvent.objects.get(type=CREATED, branch=branch)

    tasks.drain_outbox()  # what the enqueued task runs in the worker
    event.refresh_from_db()
    assert event.position is not None  # sequenced: it is in the change feed

    # (a) a JetStream subscriber reads one CloudEvent with the right attributes
    ((headers, body),) = read_stream(nats_url, stream, f"{prefix}.{CREATED}", expect=1)
    assert headers["Nats-Msg-Id"] == str(event.pk)
    assert headers["Content-Type"] == "application/cloudevents+json"
    ce = from_structured(
        HTTPMessage({"content-type": "application/cloudevents+json"}, body), JSONFormat()
    )
    assert ce.get_specversion() == "1.0"
    assert ce.get_id() == str(event.pk)
    assert ce.get_type() == CREATED
    assert ce.get_source() == event.source
    assert ce.get_subject() == f"branches/{branch}/objectType/{rid}"
    assert ce.get_datacontenttype() == "application/json"
    assert ce.get_dataschema().endswith(f"/api/v1/events/schemas/{CREATED}")
    assert ce.get_extension("branch") == branch
    assert int(ce.get_extension("sequence")) == event.position
    data = ce.get_data()
    assert data["kind"] == "objectType" and data["rid"] == rid and data["branch"] == branch
    assert data["before"] is None and data["after"]["apiName"] == "Flight"

    # (b) the webhook received the same event, signed with the subscription's secret
    calls = [(h, b) for h, b in receiver.requests if h["X-OMS-Event-Id"] == str(event.pk)]
    assert len(calls) == 1
    hook_headers, hook_body = calls[0]
    timestamp = hook_headers["X-OMS-Timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + hook_body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(hook_headers["X-OMS-Signature"], f"sha256={expected}")
    assert verify(SECRET, timestamp, hook_body, hook_headers["X-OMS-Signature"])
    hook_ce = from_structured(HTTPMessage(hook_headers, hook_body), JSONFormat())
    assert hook_ce.get_id() == ce.get_id() and hook_ce.get_type() == CREATED
    assert json.loads(hook_body)["data"] == data

    sinks = dict(Delivery.objects.filter(event=event).values_list("sink", "status"))
    assert sinks == {"nats": DeliveryStatus.DELIVERED, "webhook:e2e": DeliveryStatus.DELIVERED}
