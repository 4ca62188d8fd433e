"""The delivery engine: sequencing, claims, retries with backoff, poison, dead letters,
breakers (backpressure), reaper, purge, requeue/discard."""

from datetime import timedelta

import pytest
from django.utils import timezone

import events
from events import breakers, delivery, registry, services
from events.choices import DeadLetterReason, DeliveryStatus
from events.models import DeadLetter, Delivery, OutboxEvent
from events.sinks import Outcome, Result, Sending, SinkUnavailable

from .conftest import FakeSink

pytestmark = pytest.mark.django_db


def publish_n(type_, n, subject="things/{i}"):
    return [events.publish(type_, subject.format(i=i), {"name": f"t{i}", "n": i}) for i in range(n)]


def make_due():
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())


def test_sequencing_assigns_positions_and_one_delivery_per_matching_sink(test_type, use_sinks):
    use_sinks(FakeSink("a"), FakeSink("b", patterns=("com.oms.other.*",)))
    published = publish_n(test_type, 3)
    assert delivery.sequence_pending() == 3
    assert delivery.sequence_pending() == 0
    rows = list(OutboxEvent.objects.order_by("position"))
    assert [r.position for r in rows] == [1, 2, 3]
    assert [r.pk for r in rows] == [e.pk for e in published]
    assert set(Delivery.objects.values_list("sink", flat=True)) == {"a"}
    assert Delivery.objects.count() == 3


def test_drain_delivers_every_event_once(test_type, use_sinks):
    sink = FakeSink("a")
    use_sinks(sink)
    published = publish_n(test_type, 7)
    stats = delivery.drain(batch=3)
    assert stats.sequenced == 7 and stats.by_result["delivered"] == 7
    assert sorted(m.id for m in sink.received) == sorted(str(e.pk) for e in published)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert delivery.drain().claimed == 0  # nothing sent twice
    assert len(sink.received) == 7


def test_retryable_failure_backs_off_then_succeeds(test_type, use_sinks, settings):
    settings.OMS_EVENTS_BACKOFF_BASE_SECONDS = 30
    settings.OMS_EVENTS_BACKOFF_CAP_SECONDS = 60
    outcomes = iter([Outcome(Result.RETRY, "HTTP 503"), None])
    sink = FakeSink("a", behaviour=lambda m: next(outcomes) or services_ok())
    use_sinks(sink)
    publish_n(test_type, 1)
    before = timezone.now()
    delivery.drain()
    d = Delivery.objects.get()
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1 and d.last_error == "HTTP 503"
    # full jitter: somewhere in [now, now + min(cap, base * 2**1)]
    assert before <= d.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert delivery.drain().claimed == 0  # not due yet
    make_due()
    delivery.drain()
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DELIVERED and d.attempts == 2 and d.last_error == ""


def services_ok():
    from events.sinks import DELIVERED

    return DELIVERED


def test_backoff_is_full_jitter_under_an_exponential_ceiling(settings):
    settings.OMS_EVENTS_BACKOFF_BASE_SECONDS = 1
    settings.OMS_EVENTS_BACKOFF_CAP_SECONDS = 100
    for attempts, ceiling in [(0, 1), (3, 8), (10, 100), (500, 100)]:
        samples = [delivery.backoff(attempts) for _ in range(300)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.5 and min(samples) < ceiling * 0.5


def test_exhausted_retries_move_to_the_dead_letter_table(test_type, use_sinks):
    sink = FakeSink("a", behaviour=lambda m: Outcome(Result.RETRY, "HTTP 500: boom"))
    use_sinks(sink)
    (event,) = publish_n(test_type, 1)
    for _ in range(3):
        delivery.drain()
        make_due()
    d = Delivery.objects.get(event=event)
    assert d.status == DeliveryStatus.DEAD and d.attempts == 3
    letter = DeadLetter.objects.get(event=event)
    assert letter.reason == DeadLetterReason.EXHAUSTED and letter.error == "HTTP 500: boom"
    assert letter.attempts == 3 and letter.resolved_at is None
    announced = OutboxEvent.objects.get(type=services.DEAD_LETTERED)
    assert announced.data["eventId"] == str(event.pk) and announced.data["reason"] == "exhausted"
    assert registry.validate(announced.type, announced.data) == []


def test_poison_is_quarantined_at_once_and_others_still_go(test_type, use_sinks):
    sink = FakeSink(
        "a",
        behaviour=lambda m: (
            Outcome(Result.POISON, "HTTP 400") if m.subject == "things/1" else services_ok()
        ),
    )
    use_sinks(sink)
    publish_n(test_type, 3)
    delivery.drain()
    statuses = dict(
        Delivery.objects.filter(event__type=test_type).values_list("event__subject", "status")
    )
    assert statuses == {"things/0": "delivered", "things/1": "dead", "things/2": "delivered"}
    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetterReason.POISON and letter.attempts == 1


def test_an_event_that_cannot_be_serialised_is_poison(test_type, use_sinks, settings):
    settings.OMS_EVENTS_REQUIRE_REGISTERED_TYPES = False  # a stored type with an upcaster

    def broken(data):
        raise KeyError("missing field")

    old = "com.oms.test.broken.thing.v1"
    registry.register_upcaster(old, test_type, broken)
    try:
        sink = FakeSink("a")
        use_sinks(sink)
        events.publish(old, "things/x", {})
        delivery.drain()
    finally:
        registry.unregister(old)
    assert sink.received == [] or all(m.type != old for m in sink.received)
    letter = DeadLetter.objects.get(event__type=old)
    assert letter.reason == DeadLetterReason.POISON and "cannot serialise" in letter.error


def test_delivery_to_a_removed_sink_is_dead_lettered(test_type, use_sinks):
    use_sinks(FakeSink("gone"))
    publish_n(test_type, 1)
    delivery.sequence_pending()
    use_sinks(FakeSink("other"))
    delivery.drain()
    assert DeadLetter.objects.get().error == "sink 'gone' is not configured"


def test_open_breaker_holds_deliveries_without_spending_attempts(test_type, use_sinks, settings):
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 2
    # Redis keeps opened_at in whole seconds: keep the timeout above one second.
    settings.OMS_EVENTS_BREAKER_RESET_TIMEOUT_SECONDS = 1.5
    settings.OMS_EVENTS_MAX_ATTEMPTS = 50
    sink = FakeSink("a")
    sink.raise_exc = SinkUnavailable("connection refused")
    use_sinks(sink)
    publish_n(test_type, 4)
    delivery.sequence_pending()
    delivery.drain(batch=1)  # two failing calls open the breaker; then nothing is claimable
    assert breakers.state("a") == "open"
    assert sink.calls == 2
    make_due()
    stats = delivery.drain(batch=10)  # open: nothing claimed for this sink, sink not called
    assert stats.claimed == 0 and sink.calls == 2
    assert sum(Delivery.objects.values_list("attempts", flat=True)) == 2  # only real calls
    assert DeadLetter.objects.count() == 0

    import time

    time.sleep(1.6)
    sink.raise_exc = None  # the sink is back: the half-open probe succeeds
    make_due()
    delivery.drain(batch=10)
    assert breakers.state("a") == "closed"
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert len({m.id for m in sink.received}) == 4


class BackgroundSink(FakeSink):
    """Starts sending when the batch is claimed (like NATS); records the call order."""

    def __init__(self, *args, log=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = log if log is not None else []

    def start_batch(self, messages):
        self.log.append(("start", len(messages)))
        try:
            outcome = self.send_batch(messages)
        except SinkUnavailable as exc:
            error = exc

            def fail():
                raise error

            return Sending(fail, started=True)
        return Sending(lambda: outcome, started=True)


def test_one_batch_in_flight_overlaps_the_next_claim(test_type, use_sinks, monkeypatch):
    log: list = []
    sink = BackgroundSink("a", log=log)
    use_sinks(sink)
    publish_n(test_type, 7)
    from events.delivery import loop

    finish = loop.finish_batches

    def recording_finish(batches, *args):
        log.append(("finish", sum(len(b.group) for b in batches)))
        return finish(batches, *args)

    monkeypatch.setattr(loop, "finish_batches", recording_finish)
    stats = delivery.drain(batch=3)
    # the second batch is started before the first is recorded, and so on
    assert log == [
        ("start", 3),
        ("start", 3),
        ("finish", 3),
        ("start", 1),
        ("finish", 3),
        ("finish", 1),
    ]
    assert stats.by_result["delivered"] == 7 and stats.sequenced == 7
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_batch_in_flight_when_the_breaker_opens_keeps_what_reached_the_sink(test_type, use_sinks):
    sink = BackgroundSink("a")
    use_sinks(sink)
    publish_n(test_type, 2)
    delivery.sequence_pending()
    batches = delivery.start_batches(delivery.claim("w1"), {"a": sink})
    breakers.get_breaker("a").open()  # opened by another worker meanwhile
    stats = delivery.Stats()
    delivery.finish_batches(batches, "w1", stats, {"a": sink})
    assert stats.by_result["delivered"] == 2  # it was sent: record it, do not resend
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}

    failing = BackgroundSink("a")
    failing.raise_exc = SinkUnavailable("down")
    use_sinks(failing)
    publish_n(test_type, 2, subject="other/{i}")
    delivery.sequence_pending()
    breakers.reset("a")
    batches = delivery.start_batches(delivery.claim("w2"), {"a": failing})
    breakers.get_breaker("a").open()
    stats = delivery.Stats()
    delivery.finish_batches(batches, "w2", stats, {"a": failing})
    assert stats.by_result["held"] == 2  # failed while open: released, no attempt spent
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    assert pending.count() == 2 and all(d.attempts == 0 for d in pending)


def test_breaker_open_after_claim_releases_the_batch_unspent(test_type, use_sinks, settings):
    sink = FakeSink("a")
    use_sinks(sink)
    publish_n(test_type, 2)
    delivery.sequence_pending()
    claimed = delivery.claim("w1")
    breakers.get_breaker("a").open()  # another worker opened it meanwhile
    stats = delivery.deliver_claimed(claimed, "w1")
    assert stats.by_result["held"] == 2 and sink.calls == 0
    rows = list(Delivery.objects.all())
    assert all(d.status == DeliveryStatus.PENDING and d.attempts == 0 for d in rows)
    assert all(d.next_attempt_at > timezone.now() for d in rows)


def test_slow_calls_count_as_breaker_failures_but_keep_their_results(
    test_type, use_sinks, settings
):
    settings.OMS_EVENTS_BREAKER_SLOW_CALL_SECONDS = 0.0
    settings.OMS_EVENTS_BREAKER_FAIL_MAX = 1
    sink = FakeSink("a")
    use_sinks(sink)
    publish_n(test_type, 1)
    delivery.drain()
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert breakers.state("a") == "open"


def test_reaper_returns_claims_of_a_dead_worker(test_type, use_sinks):
    sink = FakeSink("a")
    use_sinks(sink)
    publish_n(test_type, 5)
    delivery.sequence_pending()
    claimed = delivery.claim("dead-worker", limit=3)
    assert len(claimed) == 3
    assert delivery.reap_stale_claims() == 0  # still fresh
    Delivery.objects.filter(claimed_by="dead-worker").update(
        claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert delivery.reap_stale_claims() == 3
    delivery.drain()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert len(sink.received) == 5
    # the dead worker waking up late cannot overwrite what others recorded
    delivery.deliver_claimed(claimed, "dead-worker")
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 5


def test_requeue_and_discard(test_type, use_sinks, admin_user):
    sink = FakeSink("a", behaviour=lambda m: Outcome(Result.POISON, "HTTP 410"))
    use_sinks(sink)
    publish_n(test_type, 2)
    delivery.drain()
    first, second = Delivery.objects.filter(event__type=test_type).order_by("id")
    assert first.status == second.status == DeliveryStatus.DEAD
    sink.behaviour = lambda m: services_ok()
    assert services.requeue_deliveries([first.pk], user=admin_user) == 1
    assert services.discard_deliveries([second.pk], user=admin_user) == 1
    delivery.drain()
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == DeliveryStatus.DELIVERED and second.status == DeliveryStatus.DISCARDED
    letters = {dl.delivery_id: dl for dl in DeadLetter.objects.all()}
    assert (
        letters[first.pk].resolution == "requeued" and letters[first.pk].resolved_by == admin_user
    )
    assert letters[second.pk].resolution == "discarded"
    assert services.requeue_deliveries([first.pk]) == 0  # delivered ones are left alone
    audit = OutboxEvent.objects.filter(type__in=(services.REQUEUED, services.DISCARDED))
    assert {e.data["actor"] for e in audit} == {admin_user.username}


def test_purge_keeps_unfinished_events(test_type, use_sinks):
    sink = FakeSink(
        "a",
        behaviour=lambda m: (
            Outcome(Result.POISON, "no") if m.subject == "things/0" else services_ok()
        ),
    )
    use_sinks(sink)
    publish_n(test_type, 3)
    delivery.drain()
    assert delivery.purge_delivered(older_than_days=1) == 0  # too recent
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(days=2))
    purged = delivery.purge_delivered(older_than_days=1)
    remaining = set(OutboxEvent.objects.values_list("subject", flat=True))
    assert "things/0" in remaining and "things/1" not in remaining and "things/2" not in remaining
    assert purged >= 2


def test_drain_task_and_beat_schedules(test_type, use_sinks):
    from django_celery_beat.models import PeriodicTask

    from events import tasks

    sink = FakeSink("a")
    use_sinks(sink)
    publish_n(test_type, 2)
    result = tasks.drain_outbox.run()
    assert result["delivered"] == 2
    scheduled = dict(
        PeriodicTask.objects.filter(name__startswith="events:").values_list("task", "enabled")
    )
    assert scheduled == {
        "events.drain_outbox": True,
        "events.retry_due_deliveries": True,
        "events.reap_stale_claims": True,
        "events.purge_delivered": True,
    }
    registered = {
        t.name
        for t in (
            tasks.drain_outbox,
            tasks.retry_due_deliveries,
            tasks.reap_stale_claims,
            tasks.purge_delivered,
        )
    }
    assert registered == set(scheduled)


def test_tasks_retry_transient_database_errors_three_times_and_nothing_else(monkeypatch):
    from django.db import OperationalError

    from events import tasks

    calls = []

    def flaky(failures, exc):
        def drain(**kwargs):
            calls.append(kwargs)
            if len(calls) <= failures:
                raise exc
            return delivery.Stats(sequenced=1)

        return drain

    monkeypatch.setattr(delivery, "drain", flaky(2, OperationalError("connection lost")))
    assert tasks.drain_outbox.apply().get() == {"sequenced": 1, "claimed": 0}
    assert len(calls) == 3  # two failures, retried

    calls.clear()
    monkeypatch.setattr(delivery, "drain", flaky(10, OperationalError("still down")))
    with pytest.raises(OperationalError):
        tasks.retry_due_deliveries.apply().get()
    assert len(calls) == 4  # the run and max_retries=3 retries, then it gives up

    calls.clear()
    monkeypatch.setattr(delivery, "drain", flaky(10, ValueError("a bug")))
    with pytest.raises(ValueError):
        tasks.drain_outbox.apply().get()
    assert len(calls) == 1  # not transient: no retry
