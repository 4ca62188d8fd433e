"""Per-(sink, subject) order: a delivery waits while an earlier one of its subject to the
same sink is undelivered; dead and discarded ones release it; a requeued one is late."""

import json
import random
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

import events
from events import delivery, services
from events.choices import DeliveryStatus
from events.models import Delivery, OutboxEvent
from events.sinks import DELIVERED, Outcome, Result

from .conftest import TEST_TYPE, FakeSink

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def slow_backoff(settings):
    """A retry waits until the test makes it due (``make_due``)."""
    settings.OMS_EVENTS_BACKOFF_BASE_SECONDS = 30
    settings.OMS_EVENTS_BACKOFF_CAP_SECONDS = 60


class Flaky(FakeSink):
    """Fails the events whose subject/name is in ``failing``; records what it accepted, in
    the order it accepted it."""

    def __init__(self, name="a", failing=(), result=Result.RETRY):
        super().__init__(name)
        self.failing = set(failing)
        self.result = result
        self.accepted: list[tuple[str, str]] = []  # (subject, name)
        self.behaviour = self._answer

    def _answer(self, m):
        if m.type != TEST_TYPE:  # e.g. the dead-lettered announcement
            return DELIVERED
        name = json.loads(m.body)["data"]["name"]
        if name in self.failing:
            return Outcome(self.result, "HTTP 503")
        self.accepted.append((m.subject, name))
        return DELIVERED


def publish(test_type, subject, name):
    return events.publish(test_type, subject, {"name": name})


def make_due():
    """Make pending deliveries due now. Rows another worker has locked are skipped, so
    concurrent callers (``test_concurrent_workers_...``) never wait on each other: a plain
    UPDATE of every pending row from several threads deadlocks now and then."""
    with transaction.atomic():
        pending = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=pending).update(next_attempt_at=timezone.now())


def status(event):
    return Delivery.objects.get(event=event).status


def test_a_retry_holds_back_its_subject_only(test_type, use_sinks):
    sink = Flaky(failing={"A"})
    use_sinks(sink)
    a = publish(test_type, "things/S", "A")
    delivery.drain()
    assert status(a) == DeliveryStatus.PENDING and Delivery.objects.get(event=a).attempts == 1
    b = publish(test_type, "things/S", "B")
    c = publish(test_type, "things/T", "C")
    delivery.drain()
    assert sink.accepted == [("things/T", "C")]  # C went; B waits for A
    row = Delivery.objects.get(event=b)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    make_due()
    delivery.drain()  # A fails again; B still waits, without spending attempts
    assert Delivery.objects.get(event=a).attempts == 2
    assert Delivery.objects.get(event=b).attempts == 0
    assert [m.subject for m in sink.received].count("things/S") == 2  # A twice, never B
    sink.failing.clear()
    make_due()
    delivery.drain()
    assert sink.accepted == [("things/T", "C"), ("things/S", "A"), ("things/S", "B")]
    assert {status(e) for e in (a, b, c)} == {DeliveryStatus.DELIVERED}


def test_new_events_of_a_waiting_subject_are_not_claimed_at_sequencing(
    test_type, use_sinks, postgres_db
):
    """The drain's fast path (deliveries inserted already claimed) respects the order."""
    sink = Flaky(failing={"A"})
    use_sinks(sink)
    publish(test_type, "things/S", "A")
    delivery.drain()
    b = publish(test_type, "things/S", "B")
    c = publish(test_type, "things/T", "C")
    sequenced, claimed = delivery.sequence_and_claim("w1")
    assert sequenced == 2 and [x.event_id for x in claimed] == [c.pk]
    assert Delivery.objects.get(event=b).status == DeliveryStatus.PENDING


def test_several_events_of_a_subject_in_one_batch_go_in_order(test_type, use_sinks):
    sink = Flaky(failing={"S1"})
    use_sinks(sink)
    published = [publish(test_type, "things/S", f"S{i}") for i in range(1, 4)]
    published.append(publish(test_type, "things/T", "T1"))
    delivery.drain()
    # S1 failed: S2 and S3 of the same batch were not sent and spent nothing
    assert sink.accepted == [("things/T", "T1")]
    rows = {d.event_id: d for d in Delivery.objects.all()}
    assert [rows[e.pk].attempts for e in published] == [1, 0, 0, 1]
    sink.failing.clear()
    make_due()
    delivery.drain()
    assert [name for subject, name in sink.accepted if subject == "things/S"] == [
        "S1",
        "S2",
        "S3",
    ]


@pytest.mark.parametrize("how", ["poison", "exhausted", "discarded"])
def test_a_dead_or_discarded_predecessor_releases_its_successors(
    test_type, use_sinks, settings, how
):
    settings.OMS_EVENTS_MAX_ATTEMPTS = 2
    sink = Flaky(failing={"A"}, result=Result.POISON if how == "poison" else Result.RETRY)
    use_sinks(sink)
    a = publish(test_type, "things/S", "A")
    delivery.drain()
    b = publish(test_type, "things/S", "B")
    delivery.drain()
    if how == "exhausted":
        make_due()
        delivery.drain()
    elif how == "discarded":
        assert services.discard_deliveries([Delivery.objects.get(event=a).pk]) == 1
        delivery.drain()
    assert status(a) == (DeliveryStatus.DISCARDED if how == "discarded" else DeliveryStatus.DEAD)
    assert status(b) == DeliveryStatus.DELIVERED
    assert sink.accepted == [("things/S", "B")]


def test_a_requeued_delivery_is_sent_late_and_holds_back_what_follows(test_type, use_sinks):
    sink = Flaky(failing={"A"}, result=Result.POISON)
    use_sinks(sink)
    a = publish(test_type, "things/S", "A")
    delivery.drain()
    publish(test_type, "things/S", "B")
    delivery.drain()
    assert status(a) == DeliveryStatus.DEAD and sink.accepted == [("things/S", "B")]
    sink.failing = {"A", "C"}
    sink.result = Result.RETRY
    assert services.requeue_deliveries([Delivery.objects.get(event=a).pk]) == 1
    c = publish(test_type, "things/S", "C")
    delivery.drain()  # A (requeued, earlier in the feed) fails again: C waits for it
    assert Delivery.objects.get(event=c).attempts == 0
    sink.failing.clear()
    make_due()
    delivery.drain()
    assert sink.accepted == [("things/S", "B"), ("things/S", "A"), ("things/S", "C")]


def test_concurrent_workers_keep_the_order_of_every_subject(
    test_type, use_sinks, postgres_db, settings
):
    """Several workers drain a flaky sink at once: per subject, the sink accepts events in
    feed order, each exactly once, and nothing is lost."""
    settings.OMS_EVENTS_MAX_ATTEMPTS = 100
    rng = random.Random(4)
    lock = threading.Lock()
    accepted: list[tuple[str, int]] = []

    def answer(m):
        with lock:
            if rng.random() < 0.2:
                return Outcome(Result.RETRY, "HTTP 503")
            accepted.append((m.subject, int(json.loads(m.body)["sequence"])))
            return DELIVERED

    use_sinks(FakeSink("a", behaviour=answer))
    total = 0
    for chunk in range(4):
        with transaction.atomic():
            for i in range(100):
                publish(test_type, f"things/{(chunk * 100 + i) % 13}", f"n{total}")
                total += 1
    stop = threading.Event()
    errors: list[BaseException] = []

    def worker(name):
        try:
            while not stop.is_set():
                delivery.drain(batch=rng.choice([5, 17, 40]), worker=f"{name}:{rng.random()}")
                make_due()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    deadline = timezone.now().timestamp() + 60
    while timezone.now().timestamp() < deadline:
        if Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == total:
            break
        threading.Event().wait(0.1)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == total
    assert len(accepted) == total and len(set(accepted)) == total  # once each, none lost
    by_subject: dict[str, list[int]] = {}
    for subject, position in accepted:
        by_subject.setdefault(subject, []).append(position)
    assert len(by_subject) == 13
    for subject, positions in by_subject.items():
        expected = sorted(
            OutboxEvent.objects.filter(subject=subject, type=test_type).values_list(
                "position", flat=True
            )
        )
        assert positions == expected, subject


def test_the_next_batch_waits_for_the_outcomes_of_the_batch_in_flight(test_type, use_sinks):
    """One batch in flight: a successor claimed in the next batch is sent only once its
    predecessor is delivered, and not at all (no attempt spent) when it was not."""
    sink = Flaky(failing={"S1"})
    use_sinks(sink)
    published = [publish(test_type, "things/S", f"S{i}") for i in range(1, 4)]
    delivery.drain(batch=1)
    rows = {d.event_id: d for d in Delivery.objects.all()}
    assert [rows[e.pk].attempts for e in published] == [1, 0, 0]
    assert {m.subject for m in sink.received} == {"things/S"} and len(sink.received) == 1
    sink.failing.clear()
    make_due()
    delivery.drain(batch=1)
    assert sink.accepted == [("things/S", "S1"), ("things/S", "S2"), ("things/S", "S3")]


def test_a_claim_is_held_back_by_the_same_workers_earlier_claim_unless_chained(
    test_type, use_sinks
):
    use_sinks(FakeSink("a"))
    first = publish(test_type, "things/S", "A")
    second = publish(test_type, "things/S", "B")
    delivery.sequence_pending()
    assert [c.event_id for c in delivery.claim("w", limit=1)] == [first.pk]
    assert delivery.claim("w", limit=1) == []
    assert delivery.claim("other", limit=1, chain=True) == []
    assert [c.event_id for c in delivery.claim("w", limit=1, chain=True)] == [second.pk]
