"""Generated-schema figures (issue 10).

    .venv/bin/python bench/schemas.py                # 2,000 object types x 20 properties
    .venv/bin/python bench/schemas.py --object-types 500 --requests 500

1. **generation, cold**: each generator (GraphQL SDL, JSON Schema, OpenAPI) run once on a
   synthetic tree (``bench/_synthetic.py``: ``--object-types`` × ``--properties``, as many
   link types, value types, struct types, shared properties and interfaces), in a fresh
   child process each (imports done, nothing generated before) — target ≤ 1 s each;
2. **cached answer at one client**: the tree written on a branch and committed (PostgreSQL,
   ``--server`` / ``--db-name``, default ``oms_bundles_schemas``; ``--sqlite`` for the
   embedded default; Redis db 7 as the cache when reachable), one request to fill the
   cache, then ``--requests`` (200) sequential ``GET /api/v1/refs/{commit}/schema.graphql``
   (and ``schema.json``, ``openapi.json``, and the clean branch's name) through Django's
   test client with a logged-in user: p50 / p95 / max — target p95 ≤ 10 ms. Also the
   same with ``If-None-Match`` (304).

Prints a table and writes JSON (``--json``, default ``bench/results/schemas.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GEN_TARGET = 1.0
P95_TARGET_MS = 10.0
_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from bench._synthetic import ontology
from ontology.schemas.text import render
docs = ontology({n}, {p})
start, cpu = time.perf_counter(), time.process_time()
text = render({fmt!r}, docs, label="bench", commit=None)
print(json.dumps({{"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "bytes": len(text)}}))
"""


def cold(fmt: str, n: int, p: int) -> dict:
    code = _CHILD.format(root=str(ROOT), n=n, p=p, fmt=fmt)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return json.loads(out.stdout)


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--object-types", type=int, default=2000)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_bundles_schemas")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--json", default=str(ROOT / "bench/results/schemas.json"))
    args = parser.parse_args()
    n, p = args.object_types, args.properties
    generation = {fmt: cold(fmt, n, p) for fmt in ("graphql", "json", "openapi")}

    from bench._common import fresh_database, setup_django
    from bench._synthetic import ontology

    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    else:
        url = fresh_database(args.server, args.db_name)
    if _redis_up():
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    setup_django(url)

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from ontology.workspace import apply
    from versioning.models import Branch
    from versioning.services import commit_changes

    branch = Branch.objects.create(name="bench-schemas")
    docs = ontology(n, p)
    apply(branch, {d["rid"]: d for d in docs})
    commit = commit_changes(branch, None, "bench", system=True, allow_empty=True).id
    cache.clear()
    user = get_user_model().objects.create_user("bench-schemas")
    client = Client()
    client.force_login(user)

    answers = {}
    for name in ("schema.graphql", "schema.json", "openapi.json"):
        for ref in (commit, branch.name):
            url_ = f"/api/v1/refs/{ref}/{name}"
            first = time.perf_counter()
            response = client.get(url_)
            fill = time.perf_counter() - first
            assert response.status_code == 200, response.content[:200]
            etag = response["ETag"]
            for label, headers in (("200", {}), ("304", {"HTTP_IF_NONE_MATCH": etag})):
                times, cpu = [], []
                for _ in range(args.requests):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    client.get(url_, **headers)
                    times.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - cpu_start) * 1000)
                times.sort()
                cpu.sort()
                key = f"{name} {'commit' if ref == commit else 'branch'} {label}"
                answers[key] = {
                    "p50_ms": statistics.median(times),
                    "p95_ms": times[int(len(times) * 0.95) - 1],
                    "max_ms": times[-1],
                    "cpu_p95_ms": cpu[int(len(cpu) * 0.95) - 1],
                    "first_s": fill,
                    "bytes": len(response.content),
                }

    print(
        f"{n} object types x {p} properties; database {connection.vendor}; cache "
        f"{'redis' if os.environ.get('REDIS_URL') else 'locmem'}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print("generation, cold (fresh process):")
    for fmt, g in generation.items():
        verdict = "ok" if g["seconds"] <= GEN_TARGET else "OVER"
        print(
            f"  {fmt:<8}{g['seconds']:>8.2f} s (cpu {g['cpu']:.2f} s, {g['bytes'] / 1e6:.1f} MB)"
            f"  ≤ 1 s {verdict}"
        )
    print("cached answers at one client (ms):")
    for key, a in answers.items():
        verdict = "ok" if a["p95_ms"] <= P95_TARGET_MS else "OVER"
        print(
            f"  {key:<28} p50 {a['p50_ms']:6.2f}  p95 {a['p95_ms']:6.2f}  "
            f"max {a['max_ms']:7.2f}  cpu p95 {a['cpu_p95_ms']:5.2f}  "
            f"(first {a['first_s']:.2f} s)  {verdict}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "objectTypes": n,
                "properties": p,
                "database": connection.vendor,
                "machine": platform.platform(),
                "loadAverage": os.getloadavg()[0],
                "generation": generation,
                "answers": answers,
                "targets": {"generation_s": GEN_TARGET, "p95_ms": P95_TARGET_MS},
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
