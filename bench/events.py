"""Events benchmark: outbox -> NATS JetStream with one worker, against raw nats-py.

    .venv/bin/python bench/events.py                     # 5,000 events, ~30 s
    .venv/bin/python bench/events.py --events 20000 --json bench/results/events.json

Needs PostgreSQL (``--server``, default ``postgres://postgres@127.0.0.1:5432``) and NATS
JetStream (``--nats``, default ``nats://127.0.0.1:4222``). In one run it:

1. drops, creates and migrates the database ``oms_events_bench``; uses a stream and
   subject prefix unique to the run (deleted at the end);
2. **throughput**: commits ``--events`` events (transactions of 100, through
   ``events.publish``), then times one worker (``events.delivery.drain`` in one thread:
   sequencing, SKIP LOCKED claims, CloudEvents serialisation, JetStream publish with
   ``Nats-Msg-Id``, recording) until all are acknowledged;
3. **latency**: commits one event per transaction at ``--rate`` per second for
   ``--seconds``, while the same worker loop drains (it is woken by each commit, as the
   on-commit task would be); latency = JetStream acknowledgement recorded
   (``delivered_at``) minus the commit time;
4. **ceiling**: publishes the same CloudEvents payloads with raw nats-py, twice: with
   ``js.publish`` (one request per message, a batch's requests gathered) and with
   ``js.publish_async`` (a batch published, then its acks gathered: what the NATS sink
   does), and measures ack latency of single publishes; the ratios to both are reported;
5. prints text and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import fresh_database, setup_django  # noqa: E402


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0, help="latency phase events/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="latency phase duration")
    parser.add_argument("--batch", type=int, default=500, help="worker batch size")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_events_bench")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--json", default="bench/results/events.json")
    parser.add_argument("--profile", help="write a cProfile of the throughput drain here")
    args = parser.parse_args()

    os.environ["NATS_URL"] = args.nats
    setup_django(fresh_database(args.server, args.db_name))
    from django.conf import settings
    from django.db import transaction

    import events
    from events import delivery, registry
    from events.envelope import to_json_bytes
    from events.models import Delivery, OutboxEvent

    run = uuid.uuid4().hex[:8]
    stream, prefix = f"OMS_BENCH_{run}", f"omsbench.{run}"
    settings.OMS_EVENTS_SINKS = ["nats"]
    settings.OMS_EVENTS_NATS_STREAM = stream
    settings.OMS_EVENTS_NATS_SUBJECT_PREFIX = prefix
    settings.OMS_EVENTS_BATCH_SIZE = args.batch
    settings.OMS_EVENTS_BREAKER_NAMESPACE = f"bench:{run}"
    type_ = "com.oms.bench.thing.updated.v1"
    registry.register_event_type(
        type_,
        schema={"type": "object", "required": ["rid"], "properties": {"rid": {"type": "string"}}},
        description="Benchmark event.",
    )

    def payload(i: int) -> dict:
        return {
            "rid": str(uuid.uuid4()),
            "kind": "objectType",
            "apiName": f"Thing{i}",
            "before": {"description": "old"},
            "after": {"description": f"new {i}"},
        }

    # --- throughput ---------------------------------------------------------------------
    for start in range(0, args.events, 100):
        with transaction.atomic():
            for i in range(start, min(start + 100, args.events)):
                events.publish(
                    type_, f"branches/main/objectType/{i % 500}", payload(i), branch="main"
                )
    delivery.drain(time_budget=0, batch=1)  # connect, create the stream: not timed
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    stats = delivery.drain(time_budget=3600, batch=args.batch)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    delivered = Delivery.objects.filter(status="delivered").count()
    throughput = (stats.by_result["delivered"]) / elapsed

    bodies = [to_json_bytes(e) for e in OutboxEvent.objects.order_by("position")[: args.events]]
    ids = [str(uuid.uuid4()) for _ in bodies]

    # --- latency ------------------------------------------------------------------------
    commit_times: dict[str, float] = {}
    wake, stop = threading.Event(), threading.Event()

    def worker() -> None:
        from django.db import connection

        while not stop.is_set():
            wake.wait(0.05)
            wake.clear()
            delivery.drain(time_budget=5, batch=args.batch)
        delivery.drain(time_budget=5, batch=args.batch)
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    total = int(args.rate * args.seconds)
    begin = time.perf_counter()
    for i in range(total):
        target = begin + i / args.rate
        if (delay := target - time.perf_counter()) > 0:
            time.sleep(delay)
        with transaction.atomic():
            event = events.publish(type_, f"branches/main/objectType/{i}", payload(i))
        commit_times[str(event.pk)] = time.time()
        wake.set()
    time.sleep(0.5)
    stop.set()
    wake.set()
    thread.join()
    latencies = [
        d.delivered_at.timestamp() - commit_times[str(d.event_id)]
        for d in Delivery.objects.filter(event_id__in=list(commit_times), status="delivered")
    ]

    # --- raw nats-py ceiling --------------------------------------------------------------
    async def raw() -> tuple[float, list[float], int]:
        import nats
        from nats.js.api import StreamConfig

        nc = await nats.connect(args.nats)
        js = nc.jetstream()
        raw_stream, raw_prefix = f"{stream}_RAW", f"{prefix}raw"
        await js.add_stream(StreamConfig(name=raw_stream, subjects=[f"{raw_prefix}.>"]))
        t0 = time.perf_counter()
        for s in range(0, len(bodies), args.batch):
            await asyncio.gather(
                *(
                    js.publish(f"{raw_prefix}.{type_}", b, headers={"Nats-Msg-Id": i})
                    for b, i in zip(
                        bodies[s : s + args.batch], ids[s : s + args.batch], strict=True
                    )
                )
            )
        rate = len(bodies) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for s in range(0, len(bodies), args.batch):
            futures = [
                await js.publish_async(
                    f"{raw_prefix}.{type_}", b, headers={"Nats-Msg-Id": str(uuid.uuid4())}
                )
                for b in bodies[s : s + args.batch]
            ]
            await asyncio.gather(*futures)
        async_rate = len(bodies) / (time.perf_counter() - t0)
        single = []
        for b in bodies[:total]:
            t = time.perf_counter()
            await js.publish(f"{raw_prefix}.{type_}", b, headers={"Nats-Msg-Id": str(uuid.uuid4())})
            single.append(time.perf_counter() - t)
        stored = (await js.stream_info(stream)).state.messages
        await js.delete_stream(raw_stream)
        await js.delete_stream(stream)
        await nc.close()
        return rate, async_rate, single, stored

    raw_rate, raw_async_rate, raw_latencies, stored = asyncio.run(raw())

    result = {
        "events": args.events,
        "batch": args.batch,
        "outbox": {
            "throughput_events_per_s": round(throughput, 1),
            "delivered": delivered,
            "seconds": round(elapsed, 3),
            "latency_ms": {
                "p50": round(pct(latencies, 50) * 1000, 1),
                "p95": round(pct(latencies, 95) * 1000, 1),
                "max": round(max(latencies) * 1000, 1) if latencies else None,
                "samples": len(latencies),
                "rate_per_s": args.rate,
            },
        },
        "raw_nats": {
            "throughput_events_per_s": round(raw_rate, 1),
            "publish_async_events_per_s": round(raw_async_rate, 1),
            "latency_ms": {
                "p50": round(pct(raw_latencies, 50) * 1000, 2),
                "p95": round(pct(raw_latencies, 95) * 1000, 2),
            },
        },
        "ratio_to_raw": round(throughput / raw_rate, 3),
        "ratio_to_raw_publish_async": round(throughput / raw_async_rate, 3),
        "stream_messages": stored,
        "expected_messages": args.events + total,
        "duplicates": max(
            0,
            stored
            - len(
                {*commit_times}
                | {
                    str(e)
                    for e in OutboxEvent.objects.exclude(pk__in=list(commit_times)).values_list(
                        "pk", flat=True
                    )
                }
            ),
        ),
    }
    print(
        f"outbox -> JetStream, one worker: {result['outbox']['throughput_events_per_s']:.0f} "
        f"events/s ({args.events} events, {elapsed:.2f} s)"
    )
    print(
        f"raw nats-py JetStream:          {raw_rate:.0f} events/s "
        f"(ratio {result['ratio_to_raw']:.0%})"
    )
    print(
        f"raw nats-py publish_async:      {raw_async_rate:.0f} events/s "
        f"(ratio {result['ratio_to_raw_publish_async']:.0%})"
    )
    print(
        f"commit -> JetStream ack latency: p50 {result['outbox']['latency_ms']['p50']} ms, "
        f"p95 {result['outbox']['latency_ms']['p95']} ms at {args.rate:.0f} events/s "
        f"({len(latencies)} samples)"
    )
    print(
        f"raw single publish ack latency:  p50 {result['raw_nats']['latency_ms']['p50']} ms, "
        f"p95 {result['raw_nats']['latency_ms']['p95']} ms"
    )
    print(
        f"stream messages {stored} / expected {result['expected_messages']}, "
        f"duplicates {result['duplicates']}"
    )
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
