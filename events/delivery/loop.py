"""The drain: sequence, claim, send and record until nothing is due, one batch in flight."""

from __future__ import annotations

import time

from .. import conf
from .. import sinks as sink_registry
from ..sinks import Sink
from .claiming import claim, release_claims
from .rows import Claim, Stats, worker_id
from .sending import Batch, finish_batches, start_batches
from .sequencing import sequence_and_claim

SINKS_TTL_SECONDS = 1.0  # a drain reads the enabled sinks (webhooks) again after this
RETRY_CLAIM_INTERVAL_SECONDS = 1.0  # see drain


def drain(
    *,
    sequence: bool = True,
    time_budget: float | None = None,
    batch: int | None = None,
    worker: str | None = None,
) -> Stats:
    """Sequence and deliver until nothing is due or the time budget is spent."""
    worker = worker or worker_id()
    deadline = time.monotonic() + (
        time_budget if time_budget is not None else conf.drain_time_budget()
    )
    size = batch or conf.batch_size()
    stats = Stats()
    # One batch in flight: while a batch's acknowledgements come back (a sink that sends
    # in the background: NATS), the next one is claimed, serialised and started.
    in_flight: tuple[list[Batch], dict[str, Sink]] | None = None
    sinks: dict[str, Sink] = {}
    read_at, retried_at = -SINKS_TTL_SECONDS, -RETRY_CLAIM_INTERVAL_SECONDS
    retries_found = True

    def retries() -> list[Claim]:
        # successors of this worker's batch in flight may be claimed: their sends wait for
        # its outcomes (start_batches)
        nonlocal retried_at, retries_found
        found = claim(worker, size, sink_names=list(sinks), chain=True)
        retried_at, retries_found = time.monotonic(), bool(found)
        return found

    try:
        while True:
            if time.monotonic() - read_at >= SINKS_TTL_SECONDS:  # webhooks change in the admin
                sinks, read_at = sink_registry.enabled_sinks(), time.monotonic()
            # due retries first — while new events keep coming, looked for at most once a
            # second unless the last look found some (one statement less per batch)
            looked = (
                not sequence
                or retries_found
                or time.monotonic() - retried_at >= RETRY_CLAIM_INTERVAL_SECONDS
            )
            claimed = retries() if looked else []
            sequenced = 0
            if sequence and len(claimed) < size:
                sequenced, fresh = sequence_and_claim(
                    worker, size - len(claimed), sinks=sinks, chain=True
                )
                claimed += fresh
            if not claimed and not looked:  # nothing new: the retries decide if we are done
                claimed = retries()
            stats.sequenced += max(sequenced, 0)
            stats.claimed += len(claimed)
            after = in_flight[0] if in_flight is not None else None
            started = (start_batches(claimed, sinks, after), sinks) if claimed else None
            finished = in_flight is not None
            if finished:  # recording may publish (dead letters): look again after it
                finish_batches(in_flight[0], worker, stats, in_flight[1])
            in_flight = started
            if (sequenced <= 0 and not claimed and not finished) or time.monotonic() > deadline:
                break
        if in_flight is not None:
            finish_batches(in_flight[0], worker, stats, in_flight[1])
    except BaseException:
        release_claims(worker)
        raise
    return stats
