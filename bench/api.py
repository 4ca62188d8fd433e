"""REST API benchmark: gunicorn on PostgreSQL, one client and 32 clients, against a bare ceiling.

    .venv/bin/python bench/api.py                       # defaults below; ~5 minutes a config
    .venv/bin/python bench/api.py --configs 4x4gthread --requests 1000 --reuse-db
    .venv/bin/python bench/api.py --reuse-db --configs 4x4gthread --compare before=/tmp/old

What it does, in one run:

1. creates a fresh database (``oms_bench``) on the PostgreSQL server, migrates it, creates
   the non-protected branch ``bench`` and fills it with ``generate_ontology --object-types
   2000 --properties 20`` (``--reuse-db`` keeps a database that is already filled);
2. creates the user ``bench`` in the ``editor`` group (from ``ensure_admin``) with the
   ``edit_branch`` grant on ``bench``, and a session for it;
3. for each gunicorn configuration (``--configs``, e.g. ``4x4gthread,2x8gthread,4x1sync``)
   and each code tree (this one, and every ``--compare LABEL=DIR``: the same benchmark
   against another checkout of OMS, on the same database, in the same run): starts
   ``gunicorn oms_site.wsgi`` with ``OMS_BENCH_BARE=1`` (which wires
   ``bench/bare_urls.py``), then drives, at each client count of ``--clients`` (default
   ``1,32``), from that many threads each with its own ``requests.Session``, a fixed
   number of requests per scenario:

   - ``get``: ``GET /api/v1/branches/bench/object-types/{apiName}/`` (random object type);
   - ``patch``: ``PATCH`` the same URL with a new ``description`` (through the services:
     validation, working change, outbox event);
   - ``list``: ``GET .../object-types/?page_size=100&page=K`` (random page);
   - ``bare``: the same page from the bare DRF view (``.values()``, no serializer);
   - ``get_basic``: a short sample of ``get`` with HTTP Basic auth, to show its cost;

4. prints, side by side, latency at one client (the latency targets of issue 9) and
   throughput at 32 clients (as a share of the bare endpoint's), and writes everything
   as JSON (``--json``, default ``bench/results/api.json``).

Authentication: the main scenarios use a session cookie (with a CSRF token for PATCH).
HTTP Basic auth is measured separately: it checks the password on every request, and
Django's PBKDF2 (1,000,000 iterations) makes that cost far more than the request itself.

The clients run on the same machine as the server and share its cores; the comparison
with the bare endpoint, measured the same way in the same run, is what the ratio targets
are about.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._api_server import (  # noqa: E402
    BRANCH,
    PASSWORD,
    USERNAME,
    Fixture,
    Gunicorn,
    ServerConfig,
    database_url,
    prepare,
)

WARMUP_SECONDS = 10.0
#: issue 9: latency at one client (the list's p95 relative to the bare endpoint's), the
#: list's throughput at the most clients as a share of the bare endpoint's
TARGETS = {"get_p95_ms": 15.0, "patch_p95_ms": 25.0, "list_vs_bare_p95": 1.3, "bare_ratio": 0.60}


# --- load ---------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    method: str
    path: Callable[[random.Random], str]
    body: Callable[[random.Random], dict] | None = None
    basic_auth: bool = False


def scenarios(names: list[str], pages: int) -> list[Scenario]:
    base = f"/api/v1/branches/{BRANCH}/object-types/"
    return [
        Scenario("get", "GET", lambda r: f"{base}{r.choice(names)}/"),
        Scenario(
            "patch",
            "PATCH",
            lambda r: f"{base}{r.choice(names)}/",
            lambda r: {"description": f"Benchmarked {r.random():.6f}"},
        ),
        Scenario("list", "GET", lambda r: f"{base}?page_size=100&page={r.randint(1, pages)}"),
        Scenario(
            "bare",
            "GET",
            lambda r: (
                f"/bench/branches/{BRANCH}/object-types/?page_size=100&page={r.randint(1, pages)}"
            ),
        ),
    ]


def client_session(fixture: Fixture, basic_auth: bool) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
    session.mount("http://", adapter)
    if basic_auth:
        session.auth = (USERNAME, PASSWORD)
    else:
        session.cookies.set("sessionid", fixture.session_key)
        session.cookies.set("csrftoken", fixture.csrf_token)
        session.headers["X-CSRFToken"] = fixture.csrf_token
    return session


def drive(
    url: str, scenario: Scenario, fixture: Fixture, clients: int, total: int, seconds: float
) -> dict[str, float | int]:
    """``total`` requests (or as many as fit in ``seconds``) from ``clients`` threads;
    latency percentiles and throughput."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    remaining = [total]
    start_gate = threading.Barrier(clients + 1)

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        session = client_session(fixture, scenario.basic_auth)
        mine: list[float] = []
        start_gate.wait()
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            path = scenario.path(rnd)
            body = scenario.body(rnd) if scenario.body else None
            began = time.perf_counter()
            try:
                response = session.request(scenario.method, url + path, json=body, timeout=60)
                status = response.status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - began
            if status == 200:
                mine.append(elapsed)
            else:
                with lock:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return summarise(latencies, errors, wall)


def summarise(latencies: list[float], errors: dict[str, int], wall: float) -> dict:
    ms = sorted(x * 1000 for x in latencies)

    def pct(q: float) -> float:
        if not ms:
            return float("nan")
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)

    return {
        "ok": len(ms),
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "rps": round(len(ms) / wall, 1) if wall else 0.0,
        "seconds": round(wall, 2),
    }


def run_config(
    config: ServerConfig,
    env: dict[str, str],
    fixture: Fixture,
    args: argparse.Namespace,
    root: Path = ROOT,
    code: str = "this",
) -> dict:
    """Every scenario at every client count against one gunicorn of the code at ``root``."""
    pages = max(1, len(fixture.names) // 100)
    counts = sorted(args.clients)
    by_clients: dict[str, dict[str, dict]] = {}
    with Gunicorn(config, env, args.port, root) as server:
        plan = scenarios(fixture.names, pages)
        for scenario in plan:  # warm every worker's connections and caches
            drive(server.url, scenario, fixture, counts[-1], args.warmup, WARMUP_SECONDS)
        for clients in counts:
            results = by_clients.setdefault(str(clients), {})
            for scenario in plan:
                results[scenario.name] = drive(
                    server.url, scenario, fixture, clients, args.requests, args.max_seconds
                )
                results[scenario.name]["load_average"] = round(os.getloadavg()[0], 2)
                label = f"{config.label} {code} {clients}c"
                print(f"  {label:<22} {scenario.name:<10} {line(results[scenario.name])}")
        if args.basic_requests:
            basic = Scenario("get_basic", "GET", plan[0].path, basic_auth=True)
            result = drive(
                server.url, basic, fixture, counts[0], args.basic_requests, args.max_seconds
            )
            result["load_average"] = round(os.getloadavg()[0], 2)
            by_clients[str(counts[0])]["get_basic"] = result
            print(f"  {config.label} {code} {counts[0]}c get_basic  {line(result)}")
    one, many = by_clients[str(counts[0])], by_clients[str(counts[-1])]
    return {
        "config": config.label,
        "code": code,
        "root": str(root),
        "workers": config.workers,
        "threads": config.threads,
        "worker_class": config.worker_class,
        "latency_clients": counts[0],
        "throughput_clients": counts[-1],
        "clients": by_clients,
        "list_vs_bare_p95": _ratio(one["list"]["p95_ms"], one["bare"]["p95_ms"]),
        "list_vs_bare_throughput": _ratio(many["list"]["rps"], many["bare"]["rps"]),
        "targets_met": targets_met(one, many),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


def targets_met(one: dict, many: dict) -> dict[str, bool]:
    """Latency targets at the fewest clients, the throughput target at the most."""
    return {
        "get_p95": one["get"]["p95_ms"] <= TARGETS["get_p95_ms"],
        "patch_p95": one["patch"]["p95_ms"] <= TARGETS["patch_p95_ms"],
        "list_p95": _ratio(one["list"]["p95_ms"], one["bare"]["p95_ms"])
        <= TARGETS["list_vs_bare_p95"],
        "bare_ratio": _ratio(many["list"]["rps"], many["bare"]["rps"]) >= TARGETS["bare_ratio"],
    }


# --- report -------------------------------------------------------------------------------


def line(r: dict) -> str:
    errors = f"  errors {r['errors']}" if r["errors"] else ""
    return (
        f"p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms  "
        f"{r['rps']:7.1f} req/s  ({r['ok']} ok){errors}"
    )


def report(run: dict) -> str:
    one, many = run["latency_clients"], run["throughput_clients"]
    target_of = {
        "get": f"p95 <= {TARGETS['get_p95_ms']:.0f} ms at {one}",
        "patch": f"p95 <= {TARGETS['patch_p95_ms']:.0f} ms at {one}",
        "list": f"p95 <= {TARGETS['list_vs_bare_p95']} x bare at {one}; "
        f">= {TARGETS['bare_ratio']:.0%} of bare req/s at {many}",
        "bare": "the ceiling",
        "get_basic": "informative: Basic auth",
    }
    out = [
        f"OMS API benchmark - {run['dataset']['object_types']} object types x "
        f"{run['dataset']['properties']} properties on PostgreSQL, "
        f"{run['requests']} requests per scenario (at most {run['max_seconds']:.0f} s), "
        f"{run['machine']['cpus']} CPUs, load average at start "
        f"{run['load_average_at_start'][0]:.1f}",
        "",
        f"{'config':<12} {'code':<8} {'scenario':<10} | {one} client{'s' * (one != 1)}: "
        f"{'p50':>6} {'p95':>6} {'p99':>6} {'n':>5} | {many} clients: "
        f"{'p50':>6} {'p95':>6} {'req/s':>7} {'err':>4} {'load':>5} | target",
    ]
    width = len(f"{one} client{'s' * (one != 1)}: ")
    for result in run["configs"]:
        low, high = result["clients"][str(one)], result["clients"][str(many)]
        met = result["targets_met"]
        for name in low:
            a, b = low[name], high.get(name)
            mark = ""
            if name in ("get", "patch", "list"):
                mark = "ok   " if met[f"{name}_p95"] else "MISS "
            right = (
                f"{b['p50_ms']:6.1f} {b['p95_ms']:6.1f} {b['rps']:7.1f} "
                f"{sum(b['errors'].values()) + sum(a['errors'].values()):>4} "
                f"{b.get('load_average', 0):5.1f}"
                if b
                else f"{'':>6} {'':>6} {'':>7} {sum(a['errors'].values()):>4} "
                f"{a.get('load_average', 0):5.1f}"
            )
            out.append(
                f"{result['config']:<12} {result['code']:<8} {name:<10} | {'':>{width}}"
                f"{a['p50_ms']:6.1f} {a['p95_ms']:6.1f} {a['p99_ms']:6.1f} {a['ok']:>5} | "
                f"{'':>{len(f'{many} clients: ')}}{right} | {mark}{target_of[name]}"
            )
        out.append(
            f"{result['config']:<12} {result['code']:<8} list/bare p95 at {one}: "
            f"{result['list_vs_bare_p95']:.2f}x ({'ok' if met['list_p95'] else 'MISS'}, "
            f"target <= {TARGETS['list_vs_bare_p95']}x); list/bare throughput at {many}: "
            f"{result['list_vs_bare_throughput']:.1%} "
            f"({'ok' if met['bare_ratio'] else 'MISS'}, target >= {TARGETS['bare_ratio']:.0%})"
        )
        out.append("")
    out.append(f"best config: {run['best']}")
    return "\n".join(out)


def best_config(configs: list[dict]) -> str:
    """Of this code tree's runs: most targets met, then the highest sum of get/patch/list
    throughput at the most clients."""

    def score(result: dict) -> tuple[int, float]:
        s = result["clients"][str(result["throughput_clients"])]
        return (
            sum(result["targets_met"].values()),
            s["get"]["rps"] + s["patch"]["rps"] + s["list"]["rps"],
        )

    return max((c for c in configs if c["code"] == "this"), key=score)["config"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_bench")
    parser.add_argument("--reuse-db", action="store_true", help="keep a filled database")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="Redis for cache and Celery broker, as in production ('' = embedded defaults)",
    )
    parser.add_argument("--object-types", type=int, default=2000)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 32],
        help="client counts, comma-separated: latency targets at the fewest, throughput at "
        "the most",
    )
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also run each config against the OMS code in DIR (e.g. a checkout of the "
        "commit before a change), on the same database, in the same run",
    )
    parser.add_argument("--requests", type=int, default=2000, help="per scenario")
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="per scenario: stop issuing after this"
    )
    parser.add_argument("--warmup", type=int, default=100, help="per scenario, not counted")
    parser.add_argument("--basic-requests", type=int, default=64, help="0 to skip")
    parser.add_argument(
        "--configs",
        default="4x4gthread,2x8gthread,4x1sync",
        help="gunicorn WORKERSxTHREADS<worker-class>, comma-separated",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "api.json"))
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(args.server, args.db_name),
        DJANGO_SETTINGS_MODULE="oms_site.settings",
        OMS_BENCH_BARE="1",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        OMS_VAR_DIR=str(ROOT / "var" / "bench"),
        OMS_THROTTLE_ENABLED="false",  # one user at 32 clients: measure OMS, not its limits
    )
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, CELERY_BROKER_URL=args.redis_url)
    else:
        env.pop("REDIS_URL", None)
        env.pop("CELERY_BROKER_URL", None)

    print(f"preparing {args.db_name} ({args.object_types} x {args.properties}) ...", flush=True)
    fixture, dataset = prepare(env, args)
    dataset["properties"] = args.properties
    print(f"dataset: {json.dumps(dataset)}", flush=True)
    load_at_start = os.getloadavg()
    trees = [("this", ROOT)]
    for item in args.compare:
        label, _, directory = item.partition("=")
        trees.append((label, Path(directory).resolve()))
    configs = []
    for text in args.configs.split(","):
        config = ServerConfig.parse(text.strip())
        for code, root in trees:
            print(f"gunicorn {config.label} ({code}: {root}):", flush=True)
            configs.append(run_config(config, env, fixture, args, root, code))
    run = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "dataset": dataset,
        "latency_clients": min(args.clients),
        "throughput_clients": max(args.clients),
        "requests": args.requests,
        "max_seconds": args.max_seconds,
        "redis": bool(args.redis_url),
        "targets": TARGETS,
        "configs": configs,
        "best": best_config(configs),
    }
    print()
    print(report(run))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
