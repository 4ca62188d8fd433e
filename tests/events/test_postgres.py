"""Concurrency on PostgreSQL: SKIP LOCKED claims, commit-ordered positions, a killed worker."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

import events
from events import delivery
from events.choices import DeliveryStatus
from events.models import Delivery, OutboxEvent

from .conftest import FakeSink, Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def in_thread(fn, *args):
    result = {}

    def run():
        try:
            result["value"] = fn(*args)
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    return t, result


def test_concurrent_claims_never_overlap(postgres_db, test_type, use_sinks):
    use_sinks(FakeSink("a"))
    with transaction.atomic():
        for i in range(200):
            events.publish(test_type, f"things/{i}", {"name": "c"})
    delivery.sequence_pending()
    barrier = threading.Barrier(4)

    def worker(name):
        barrier.wait()
        got = []
        while batch := delivery.claim(name, limit=7):
            got.extend(d.pk for d in batch)
        return got

    threads = [in_thread(worker, f"w{i}") for i in range(4)]
    for t, _ in threads:
        t.join()
    claimed = [pk for _, r in threads for pk in r["value"]]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    assert sum(1 for _, r in threads if r["value"]) > 1  # the work really was shared


def test_positions_follow_commit_order_not_insert_order(postgres_db, test_type, use_sinks):
    """A transaction that inserted first but commits last still gets the later position,
    so a feed reader that already passed the earlier ones never misses it."""
    use_sinks(FakeSink("a"))
    inserted, go = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            event = events.publish(test_type, "things/slow", {"name": "slow"})
            inserted.set()
            go.wait(10)
        return event.pk

    t, result = in_thread(slow_writer)
    inserted.wait(10)
    fast = events.publish(test_type, "things/fast", {"name": "fast"})  # autocommit
    assert delivery.sequence_pending() == 1  # only the committed one is visible
    go.set()
    t.join()
    delivery.sequence_pending()
    positions = dict(OutboxEvent.objects.values_list("subject", "position"))
    assert positions == {"things/fast": 1, "things/slow": 2}
    assert (
        OutboxEvent.objects.get(pk=result["value"]).created_at
        < OutboxEvent.objects.get(pk=fast.pk).created_at
    )


def test_parallel_drains_deliver_each_event_once(postgres_db, test_type, use_sinks):
    sink = FakeSink("a")
    use_sinks(sink)
    for chunk in range(5):
        with transaction.atomic():
            for i in range(60):
                events.publish(test_type, f"things/{chunk}/{i}", {"name": "p"})
    threads = [in_thread(delivery.drain) for _ in range(4)]
    for t, _ in threads:
        t.join()
    delivery.drain()
    ids = [m.id for m in sink.received]
    assert len(ids) == 300 and len(set(ids)) == 300
    positions = sorted(OutboxEvent.objects.values_list("position", flat=True))
    assert positions == list(range(1, 301))


DRAIN_SCRIPT = """
import django, json, sys
django.setup()
from events import delivery
worker = "doomed-worker"
delivery.sequence_pending()
claimed = delivery.claim(worker)
print(json.dumps(len(claimed)), flush=True)
delivery.deliver_claimed(claimed, worker)
"""


def test_worker_killed_mid_batch_then_reaper_and_every_event_arrives(
    postgres_db, test_type, settings
):
    receiver = Receiver()
    hang = threading.Event()
    original_status = receiver.status
    try:
        # the first request hangs until the worker is dead
        handler = receiver.server.RequestHandlerClass
        do_post = handler.do_POST

        def hanging_post(self):
            if not hang.is_set():
                hang.set()
                time.sleep(3)
            do_post(self)

        handler.do_POST = hanging_post
        secret = "killed-worker-secret"
        hooks = [{"name": "k", "url": receiver.url, "secret": secret, "types": []}]
        settings.OMS_EVENTS_SINKS = []
        settings.OMS_EVENTS_WEBHOOKS = hooks
        with transaction.atomic():
            published = [events.publish(test_type, f"things/{i}", {"name": "k"}) for i in range(20)]
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oms_site.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "OMS_EVENTS_SINKS": "",
            "OMS_EVENTS_WEBHOOKS": json.dumps(hooks),
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", DRAIN_SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert json.loads(proc.stdout.readline()) == 20
        assert hang.wait(20)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert Delivery.objects.filter(status=DeliveryStatus.CLAIMED).count() == 20
        assert delivery.drain().claimed == 0  # claimed by the dead worker: nobody else sends
        assert delivery.reap_stale_claims(older_than=0) == 20
        receiver.status = original_status
        delivery.drain()
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 20
        received = {h["X-OMS-Event-Id"] for h, _ in receiver.requests}
        assert received >= {str(e.pk) for e in published}
    finally:
        receiver.close()
