"""The request paths of ``bench/api.py`` in one process: no gunicorn, no clients, no sockets.

    .venv/bin/python bench/api_inprocess.py                 # 2,000 x 20, 50 requests each
    .venv/bin/python bench/api_inprocess.py --reuse-db -n 200

Fills a throwaway database (``oms_inprocess``; ``--reuse-db`` keeps a filled one) as
``bench/api.py`` does (``generate_ontology`` on the branch ``bench``) and analyzes it;
then, with Django's test ``Client`` (the whole middleware, authentication and rendering
stack), interleaves ``-n`` requests of each scenario (``get``: one object type; ``list``:
a random page of 100; ``bare``: the same page from ``bench/bare_urls.py``; ``patch``: a
new ``description`` on one object type, as ``bench/api.py``) and prints
p50/p95 per scenario, the list's p95 as a multiple of the bare endpoint's (issue 9: at
most 1.3), the queries of one request of each, and the median CPU time of this process
per request (the Python side: steadier than wall time on a shared machine; the
interleaving keeps the ratio fair). ``--json PATH`` writes the figures as JSON too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._api_server import BRANCH, database_url, prepare  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict:
    url = database_url(args.server, args.db_name)
    env = {**os.environ, "DATABASE_URL": url, "OMS_BENCH_BARE": "1"}
    fixture, info = prepare(env, args)
    # one user: measure OMS, not its rate limits (as bench/api.py)
    os.environ.update(DATABASE_URL=url, OMS_BENCH_BARE="1", OMS_THROTTLE_ENABLED="false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would keep them
        cursor.execute("ANALYZE")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = fixture.session_key
    pages = max(1, len(fixture.names) // 100)
    base = f"/api/v1/branches/{BRANCH}/object-types/"
    paths = {
        "get": lambda r: f"{base}{r.choice(fixture.names)}/",
        "list": lambda r: f"{base}?page_size=100&page={r.randint(1, pages)}",
        "bare": lambda r: (
            f"/bench/branches/{BRANCH}/object-types/?page_size=100&page={r.randint(1, pages)}"
        ),
    }
    paths["patch"] = paths["get"]

    def call(name: str, target: str, rnd: random.Random):
        if name == "patch":
            body = json.dumps({"description": f"Benchmarked {rnd.random():.6f}"})
            return client.patch(target, body, content_type="application/json")
        return client.get(target)

    rnd = random.Random(args.seed)
    queries = {}
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as captured:
            response = call(name, path(rnd), rnd)
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        queries[name] = len(captured.captured_queries)
        if args.sql:
            print(f"-- {name}: {queries[name]} queries")
            for query in captured.captured_queries:
                print(f"   {query['time']}s {query['sql'][:160]}")
    for _ in range(args.warmup):
        for name, path in paths.items():
            call(name, path(rnd), rnd)
    times: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.n):
        for name, path in paths.items():
            target = path(rnd)
            started, started_cpu = time.perf_counter(), time.process_time()
            response = call(name, target, rnd)
            times[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, (name, response.status_code)
    result = {
        "database": info,
        "requests": args.n,
        "scenarios": {
            name: {
                "p50_ms": round(statistics.median(ms), 2),
                "p95_ms": round(percentile(ms, 0.95), 2),
                "cpu_p50_ms": round(statistics.median(cpu[name]), 2),
                "queries": queries[name],
            }
            for name, ms in times.items()
        },
    }
    sc = result["scenarios"]
    result["list_vs_bare_p95"] = round(sc["list"]["p95_ms"] / sc["bare"]["p95_ms"], 2)
    result["list_vs_bare_p50"] = round(sc["list"]["p50_ms"] / sc["bare"]["p50_ms"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_inprocess")
    parser.add_argument("--reuse-db", action="store_true", help="keep a filled database")
    parser.add_argument("--object-types", type=int, default=2000)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("-n", type=int, default=50, help="requests per scenario")
    parser.add_argument("--warmup", type=int, default=5, help="per scenario, not counted")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--sql", action="store_true", help="print each scenario's queries")
    args = parser.parse_args()
    result = run(args)
    print(f"{'scenario':<8} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'queries':>8}")
    for name, row in result["scenarios"].items():
        print(
            f"{name:<8} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['cpu_p50_ms']:>8} "
            f"{row['queries']:>8}"
        )
    print(
        f"list / bare: p95 {result['list_vs_bare_p95']}x (issue 9: <= 1.3), "
        f"p50 {result['list_vs_bare_p50']}x"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
