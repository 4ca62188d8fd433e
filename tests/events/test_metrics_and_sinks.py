"""Metrics on /metrics, the log sink, and EventBridge with botocore's Stubber."""

import json
import logging

import boto3
import pytest
from botocore.stub import Stubber

import events
from events import breakers, delivery
from events.sinks import Message, Result, SinkUnavailable
from events.sinks.eventbridge import EventBridgeSink

from .conftest import FakeSink

pytestmark = pytest.mark.django_db


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_report_outbox_dlq_breakers_and_latency(ops_client, test_type, use_sinks):
    from events.sinks import Outcome

    sink = FakeSink(
        "a",
        behaviour=lambda m: (
            Outcome(Result.POISON, "no") if m.subject == "things/0" else Outcome(Result.DELIVERED)
        ),
    )
    use_sinks(sink)
    for i in range(3):
        events.publish(test_type, f"things/{i}", {"name": "m"})
    before = ops_client.get("/metrics").content.decode()
    assert metric(before, "oms_events_outbox_oldest_pending_age_seconds") > 0
    delivery.drain()
    events.publish(test_type, "things/pending", {"name": "m"})
    delivery.sequence_pending()
    breakers.get_breaker("a").open()
    text = ops_client.get("/metrics").content.decode()
    assert metric(text, 'oms_events_outbox_pending{sink="a"}') == 1
    assert metric(text, "oms_events_dead_letters") == 1
    assert metric(text, 'oms_events_breaker_state{sink="a"}') == 2
    assert metric(text, 'oms_events_deliveries_total{result="delivered",sink="a"}') >= 2
    assert metric(text, 'oms_events_delivery_latency_seconds_count{sink="a"}') >= 2


def test_log_sink_writes_the_cloudevent(test_type, settings, caplog):
    settings.OMS_EVENTS_SINKS = ["log"]
    event = events.publish(test_type, "things/1", {"name": "l"})
    with caplog.at_level(logging.INFO, logger="events.sink.log"):
        delivery.drain()
    (record,) = [r for r in caplog.records if r.name == "events.sink.log"]
    assert json.loads(record.cloudevent)["id"] == str(event.pk)


def message(i: int) -> Message:
    return Message(f"id-{i}", "com.oms.test.thing.changed.v1", "s", json.dumps({"n": i}).encode())


def test_eventbridge_put_events_in_chunks_with_per_entry_outcomes():
    client = boto3.client(
        "events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    sink = EventBridgeSink("oms-bus", "urn:oms:test", client=client)
    messages = [message(i) for i in range(12)]
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 2,
                "Entries": [{"EventId": f"e{i}"} for i in range(8)]
                + [
                    {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                    {"ErrorCode": "MalformedDetail", "ErrorMessage": "bad"},
                ],
            },
            {
                "Entries": [
                    {
                        "Source": "urn:oms:test",
                        "DetailType": m.type,
                        "EventBusName": "oms-bus",
                        "Detail": json.dumps(json.loads(m.body)),
                        "Resources": [],
                    }
                    for m in messages[:10]
                ]
            },
        )
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 0, "Entries": [{"EventId": "e10"}, {"EventId": "e11"}]},
        )
        outcomes = sink.send_batch(messages)
        stub.assert_no_pending_responses()
    assert [outcomes[f"id-{i}"].result for i in range(12)] == (
        [Result.DELIVERED] * 8 + [Result.RETRY, Result.POISON] + [Result.DELIVERED] * 2
    )


def test_eventbridge_outage_is_a_sink_failure():
    client = boto3.client(
        "events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    sink = EventBridgeSink("oms-bus", "urn:oms:test", client=client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "put_events", service_error_code="InternalException", http_status_code=500
        )
        with pytest.raises(SinkUnavailable) as exc:
            sink.send_batch([message(0), message(1)])
    assert exc.value.outcomes["id-0"].result is Result.RETRY
    assert exc.value.outcomes["id-1"].result is Result.NOT_SENT
