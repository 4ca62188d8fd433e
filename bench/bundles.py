"""Bundle import and export figures (issue 10).

    .venv/bin/python bench/bundles.py                    # PostgreSQL, database oms_bundles
    .venv/bin/python bench/bundles.py --sqlite           # the embedded default
    .venv/bin/python bench/bundles.py --large 2000 --properties 20

Drops and creates the database (``--server``, ``--db-name``; ``--sqlite``: a temporary
file), migrates, then times, in this process:

- **import 600**: a synthetic bundle of 600 entities with 1,000 properties (100 value types,
  20 struct types, 30 shared properties, 10 interfaces, 300 object types, 140 link types)
  imported onto an empty branch and committed (``import_bundle``: parse, match, validate,
  write, record, commit) — target ≤ 3 s; then its re-import (a no-op);
- **import large**: ``--large`` (2,000) object types × ``--properties`` (20) with as many
  link types, onto an empty branch and committed — target ≤ 15 s;
- **export large**: ``bundles.export`` of that branch and its JSON text — target ≤ 2 s.

Prints a table and writes JSON (``--json``, default ``bench/results/bundles.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import fresh_database, setup_django  # noqa: E402
from bench._synthetic import ontology  # noqa: E402

TARGETS = {"import_600": 3.0, "import_large": 15.0, "export_large": 2.0}


def as_bundle(docs):
    from ontology import bundles

    return json.loads(bundles.dumps(bundles.build(docs, ref="bench", commit=None)))


CPU: dict[str, float] = {}
STAGES: dict[str, dict[str, float]] = {}


def timed(fn, name: str):
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    CPU[name] = time.process_time() - cpu
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_bundles")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("--small-only", action="store_true", help="Only the 600 import.")
    parser.add_argument("--json", default=str(ROOT / "bench/results/bundles.json"))
    args = parser.parse_args()
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    else:
        url = fresh_database(args.server, args.db_name)
    os.environ.setdefault("OMS_MAX_BUNDLE_DOCUMENTS", "100000")
    setup_django(url)

    from django.db import connection

    from ontology import bundles
    from ontology.bundles_import import import_bundle, parse
    from versioning.models import Branch

    results: dict[str, float] = {}
    small = as_bundle(
        ontology(300, 3, value_types=100, struct_types=20, shared=30, interfaces=10, link_types=140)
    )
    branch = Branch.objects.create(name="bench-600")

    def run(branch, data, name):
        last = [time.perf_counter()]
        stages = STAGES.setdefault(name, {})

        def progress(stage, done, total):
            now = time.perf_counter()
            stages[stage] = round(now - last[0], 3)
            last[0] = now

        parsed = parse(data)
        stages["parse"] = round(time.perf_counter() - last[0], 3)
        return import_bundle(
            branch, parsed, commit=True, message="bench", system=True, progress=progress
        )

    results["import_600"], result = timed(lambda: run(branch, small, "import_600"), "import_600")
    assert result.changed == 600, result.as_dict()
    results["reimport_600"], again = timed(
        lambda: run(branch, small, "reimport_600"), "reimport_600"
    )
    assert again.changed == 0

    text = ""
    if not args.small_only:
        large = as_bundle(ontology(args.large, args.properties))
        big = Branch.objects.create(name="bench-large")
        results["import_large"], result = timed(
            lambda: run(big, large, "import_large"), "import_large"
        )
        results["export_large"], text = timed(
            lambda: bundles.dumps(bundles.export(big.name)), "export_large"
        )

    print(f"database: {connection.vendor}; {args.large} object types x {args.properties}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'figure':<16}{'seconds':>10}{'cpu s':>8}{'target':>10}")
    for name, seconds in results.items():
        target = TARGETS.get(name)
        shown = f"≤ {target:g}" if target else ""
        verdict = "" if target is None else ("ok" if seconds <= target else "OVER")
        print(f"{name:<16}{seconds:>10.2f}{CPU[name]:>8.2f}{shown:>10}  {verdict}")
    for name, stages in STAGES.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(f"export size: {len(text) / 1e6:.1f} MB")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "machine": platform.platform(),
                "large": {"objectTypes": args.large, "properties": args.properties},
                "seconds": results,
                "cpuSeconds": CPU,
                "stages": STAGES,
                "loadAverage": os.getloadavg()[0],
                "targets": TARGETS,
                "exportBytes": len(text),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
