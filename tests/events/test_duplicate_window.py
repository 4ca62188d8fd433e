"""A worker killed after publishing to JetStream, before recording, duplicates nothing:
the stream's duplicate window covers claim timeout + reaper interval + a drain, by
construction (issue 12, defect 3)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nats
import pytest
from django.core import checks
from django.db import transaction
from nats.js.api import StreamConfig

import events
from events import conf, delivery
from events.choices import DeliveryStatus
from events.models import Delivery

from .natshelp import PrivateNats, stream_messages

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_is_sized_from_the_claim_timeout_and_the_reaper(settings):
    # the defaults: 300 s claim timeout + 60 s reaper + 50 s drain; 120 s was too short
    assert conf.nats_duplicate_window() == 300 + 60 + 50
    settings.OMS_EVENTS_CLAIM_TIMEOUT_SECONDS = 900
    assert conf.nats_duplicate_window() == 900 + 60 + 50


def test_a_shorter_configured_window_is_raised_and_the_check_says_so(settings):
    settings.OMS_EVENTS_SINKS = ["nats"]
    settings.OMS_EVENTS_NATS_DUPLICATE_WINDOW_SECONDS = 120
    assert conf.nats_duplicate_window() == 410
    found = [m for m in checks.run_checks() if m.id == "events.W001"]
    assert len(found) == 1 and "120 s" in found[0].msg
    settings.OMS_EVENTS_NATS_DUPLICATE_WINDOW_SECONDS = 3600
    assert conf.nats_duplicate_window() == 3600
    assert not [m for m in checks.run_checks() if m.id == "events.W001"]


@pytest.mark.django_db
def test_the_worker_start_up_names_a_reaper_schedule_slower_than_the_setting(settings):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from events.apps import reaper_schedule_problem

    slow, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="events: reap stale claims",
        defaults={"task": "events.reap_stale_claims", "interval": slow, "enabled": True},
    )
    assert "600 s" in reaper_schedule_problem()
    settings.OMS_EVENTS_REAPER_INTERVAL_SECONDS = 600
    assert reaper_schedule_problem() is None


# the doomed worker: starts as a Celery worker does (stream set up), claims, publishes,
# and is killed by the test after publishing and before recording
KILLED_WORKER = """
import django, json, sys, time
django.setup()
from events import apps, delivery
from events.delivery import sending
apps._on_worker_ready()
def never_record(*args, **kwargs):
    print(json.dumps("published"), flush=True)
    time.sleep(600)
sending.record = never_record
worker = "doomed-worker"
delivery.sequence_pending()
claimed = delivery.claim(worker)
print(json.dumps(len(claimed)), flush=True)
delivery.deliver_claimed(claimed, worker)
"""


def _old_stream(url: str, stream: str, prefix: str, window: float) -> None:
    """The stream as an older OMS made it: a duplicate window too short for a re-send."""

    async def run():
        nc = await nats.connect(url)
        try:
            config = StreamConfig(name=stream, subjects=[f"{prefix}.>"], duplicate_window=window)
            await nc.jetstream().add_stream(config)
        finally:
            await nc.close()

    asyncio.run(run())


@pytest.mark.nats
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kill_9_after_publish_before_recording_leaves_no_duplicate_in_the_stream(
    postgres_db, nats_url, test_type, settings
):
    server = PrivateNats()
    server.start()
    try:
        stream, prefix = "OMS_KILLED", "omskilled"
        timings = {
            "OMS_EVENTS_CLAIM_TIMEOUT_SECONDS": "2",
            "OMS_EVENTS_REAPER_INTERVAL_SECONDS": "1",
            "OMS_EVENTS_DRAIN_TIME_BUDGET_SECONDS": "5",
        }
        for name, value in timings.items():
            setattr(settings, name, float(value))
        settings.NATS_URL = server.url
        settings.OMS_EVENTS_SINKS = ["nats"]
        settings.OMS_EVENTS_NATS_STREAM = stream
        settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = prefix
        _old_stream(server.url, stream, prefix, window=1.0)
        with transaction.atomic():
            for i in range(50):
                events.publish(test_type, f"things/{i}", {"name": "k"})
        from django.db import connection

        db = connection.settings_dict
        env = {
            **os.environ,
            **timings,
            "DJANGO_SETTINGS_MODULE": "oms_site.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "NATS_URL": server.url,
            "OMS_EVENTS_SINKS": "nats",
            "OMS_EVENTS_NATS_STREAM": stream,
            "OMS_EVENTS_NATS_SUBJECT_PREFIX": prefix,
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_WORKER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert json.loads(proc.stdout.readline()) == 50
            assert json.loads(proc.stdout.readline()) == "published"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        published_at = time.monotonic()
        assert stream_messages(server.url, stream) == 50
        assert Delivery.objects.filter(status=DeliveryStatus.CLAIMED).count() == 50
        time.sleep(2.2)  # the claim expires; the old 1 s window is long over
        assert delivery.reap_stale_claims() == 50
        delivery.drain()
        assert time.monotonic() - published_at > 1.0
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 50
        assert stream_messages(server.url, stream) == 50  # 0 duplicates
    finally:
        server.close()
