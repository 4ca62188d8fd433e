"""Step 3, sending: build each CloudEvent once, send per sink through its breaker, in
per-subject order; no lock is held while a sink is called."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import pybreaker
from django.utils import timezone

from .. import breakers, conf
from .. import sinks as sink_registry
from ..envelope import to_json_bytes
from ..sinks import Message, Outcome, Result, Sending, Sink, SinkUnavailable
from .recording import record, release
from .rows import Claim, Stats

logger = logging.getLogger(__name__)

HELD_BACK_SECONDS = 1.0


class SlowCall(Exception):
    """A batch call took longer than the breaker's slow-call threshold."""


def call_through_breaker(
    sink: Sink, messages: list[Message], sending: Sending | None = None
) -> tuple[dict[str, Outcome], bool]:
    """(outcomes, breaker was open and its outcomes are not to be used).

    ``sending``: a batch already started in the background (see ``Sink.start_batch``);
    the breaker then wraps waiting for it. If the breaker refuses the call meanwhile (it
    was opened by another worker), a batch that did reach the sink is still recorded."""
    breaker = breakers.get_breaker(sink.name)
    box: dict[str, dict[str, Outcome]] = {}
    slow = conf.breaker_slow_call()
    sending = sending or in_order(sink, messages, start=False)

    def run() -> None:
        started = sending.since
        try:
            box["outcomes"] = sending.result()
        except SinkUnavailable as exc:
            box["outcomes"] = exc.outcomes
            raise
        elapsed = time.monotonic() - started
        if elapsed > slow:
            raise SlowCall(f"{sink.name}: batch of {len(messages)} took {elapsed:.1f}s")

    error = ""
    try:
        breaker.call(run)
    except pybreaker.CircuitBreakerError:
        if not sending.started:
            return {}, True
        try:
            reached = sending.result()
        except Exception:
            return {}, True
        if not any(o.result is Result.DELIVERED for o in reached.values()):
            return {}, True
        box["outcomes"] = reached
    except SlowCall as exc:
        logger.warning("slow sink call", extra={"sink": sink.name, "error": str(exc)})
    except SinkUnavailable as exc:
        error = str(exc)
    except Exception as exc:  # a bug in a sink must not lose events: retry them
        logger.exception("sink failed", extra={"sink": sink.name})
        error = f"{type(exc).__name__}: {exc}"
    outcomes = dict(box.get("outcomes") or {})
    for m in messages:
        outcomes.setdefault(m.id, Outcome(Result.RETRY, error or "no outcome reported"))
    return outcomes, False


def _rounds(messages: list[Message]) -> list[list[Message]]:
    """Round k holds the k-th message of each subject (messages in feed order)."""
    rounds: list[list[Message]] = []
    seen: dict[str, int] = defaultdict(int)
    for m in messages:
        k = seen[m.subject]
        seen[m.subject] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(m)
    return rounds


def in_order(sink: Sink, messages: list[Message], *, start: bool = True) -> Sending:
    """Send a batch keeping per-subject order: when it holds several messages of a subject,
    the second goes out only once the first is acknowledged, and so on (rounds). A message
    whose predecessor in the batch was not delivered is not sent (``NOT_SENT``: released,
    no attempt spent). With ``start`` the first round begins now (``Sink.start_batch``)."""
    rounds = _rounds(messages)
    first = rounds[0] if rounds else []
    if start:
        head = sink.start_batch(first)
    else:
        head = Sending(lambda: sink.send_batch(first), started=False)
    if len(rounds) <= 1:
        return head

    def result() -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        stopped: set[str] = set()  # subjects with a message not delivered
        sending = head
        for k, round_ in enumerate(rounds):
            if k:
                todo = [m for m in round_ if m.subject not in stopped]
                for m in round_:
                    if m.subject in stopped:
                        outcomes[m.id] = Outcome(Result.NOT_SENT)
                if not todo:
                    continue
                sending = sink.start_batch(todo)
            try:
                outcomes.update(sending.result())
            except SinkUnavailable as exc:  # later rounds were not sent: no attempt spent
                outcomes.update(exc.outcomes)
                for later in rounds[k + 1 :]:
                    outcomes.update({m.id: Outcome(Result.NOT_SENT) for m in later})
                raise SinkUnavailable(str(exc), outcomes) from exc
            for m in round_:
                outcome = outcomes.get(m.id)
                if outcome is None or outcome.result is not Result.DELIVERED:
                    stopped.add(m.subject)
        return outcomes

    return Sending(result, started=head.started)


@dataclass
class Batch:
    """Claimed deliveries of one sink on their way: pre-decided outcomes (poison), the
    messages to send and, once started, the sending. ``successor``: the next batch of the
    same sink, whose sends wait for this one's outcomes (it has subjects in common)."""

    name: str
    group: list
    outcomes: dict[str, Outcome]
    sendable: list[Message]
    sending: Sending | None = None
    successor: Batch | None = None


def deliver_claimed(
    deliveries: list[Claim],
    worker: str,
    stats: Stats | None = None,
    *,
    sinks: dict[str, Sink] | None = None,
) -> Stats:
    """Send claimed deliveries (each event serialised once) and record the outcomes."""
    stats = stats or Stats()
    sinks = sink_registry.enabled_sinks() if sinks is None else sinks
    finish_batches(start_batches(deliveries, sinks), worker, stats, sinks)
    return stats


def start_batches(
    deliveries: list, sinks: dict[str, Sink], after: list[Batch] | None = None
) -> list[Batch]:
    """Serialise, group by sink and start the sends that can run in the background.
    A sink whose breaker is open is not started (``finish_batches`` holds its batch).

    ``after``: the batches still in flight. A sink's batch that shares subjects with that
    sink's batch in flight is not started now: ``finish_batches`` starts it as soon as the
    outcomes in flight are known, without the messages whose predecessor was not
    delivered (per-subject order)."""
    previous = {b.name: b for b in after or ()}
    messages: dict[str, Message | Outcome] = {}
    for d in deliveries:
        key = d.key
        if key not in messages:
            try:
                body = to_json_bytes(d.event)
                messages[key] = Message(key, d.event.type, d.event.subject, body)
            except Exception as exc:
                messages[key] = Outcome(
                    Result.POISON, f"cannot serialise: {type(exc).__name__}: {exc}"
                )
    by_sink: dict[str, list] = defaultdict(list)
    for d in deliveries:
        by_sink[d.sink].append(d)
    batches = []
    for name, group in by_sink.items():
        batch = Batch(name, group, {}, [])
        for d in group:
            m = messages[d.key]
            if isinstance(m, Outcome):
                batch.outcomes[d.key] = m
            else:
                batch.sendable.append(m)
        sink = sinks.get(name)
        if sink is None:
            for m in batch.sendable:
                batch.outcomes[m.id] = Outcome(Result.POISON, f"sink {name!r} is not configured")
            batch.sendable = []
        elif batch.sendable:
            before = previous.get(name)
            if before is not None and {m.subject for m in before.sendable} & {
                m.subject for m in batch.sendable
            }:
                before.successor = batch
            elif not breakers.blocked_until(name):
                batch.sending = in_order(sink, batch.sendable)
        batches.append(batch)
    return batches


def _start_successor(batch: Batch, failed: set[str], sinks: dict[str, Sink]) -> None:
    """Start a batch that waited for the one before it; ``failed``: subjects whose message
    in that batch was not delivered (their messages here are not sent)."""
    keep = []
    for m in batch.sendable:
        if m.subject in failed:
            batch.outcomes[m.id] = Outcome(Result.NOT_SENT)
        else:
            keep.append(m)
    batch.sendable = keep
    if keep and not breakers.blocked_until(batch.name):
        batch.sending = in_order(sinks[batch.name], keep)


def finish_batches(batches: list[Batch], worker: str, stats: Stats, sinks: dict[str, Sink]) -> None:
    """Wait for each sink's outcomes through its breaker and record them."""
    for batch in batches:
        group, outcomes, name = batch.group, batch.outcomes, batch.name
        failed = {m.subject for m in batch.sendable}
        if batch.sendable:
            sink = sinks[name]
            sent, breaker_open = call_through_breaker(sink, batch.sendable, batch.sending)
            if breaker_open:
                until = breakers.blocked_until(name) or timezone.now() + timedelta(
                    seconds=HELD_BACK_SECONDS
                )
                waiting = {m.id for m in batch.sendable}
                held = [d.pk for d in group if d.key in waiting]
                release(held, worker, until, "waiting: circuit breaker open")
                stats.by_result["held"] += len(held)
                group = [d for d in group if d.key not in waiting]
            else:
                outcomes.update(sent)
                failed = {
                    m.subject for m in batch.sendable if sent[m.id].result is not Result.DELIVERED
                }
        if batch.successor is not None:  # its sends overlap recording this batch
            _start_successor(batch.successor, failed, sinks)
        if group:
            record(group, outcomes, worker, stats)
