"""REST API benchmark: gunicorn on PostgreSQL, 32 concurrent clients, against a bare ceiling.

    .venv/bin/python bench/api.py                       # defaults below; ~2-4 minutes
    .venv/bin/python bench/api.py --configs 4x4gthread --requests 1000 --reuse-db

What it does, in one run:

1. creates a fresh database (``oms_bench``) on the PostgreSQL server, migrates it, creates
   the non-protected branch ``bench`` and fills it with ``generate_ontology --object-types
   2000 --properties 20`` (``--reuse-db`` keeps a database that is already filled);
2. creates the user ``bench`` in the ``editor`` group (from ``ensure_admin``) with the
   ``edit_branch`` grant on ``bench``, and a session for it;
3. for each gunicorn configuration (``--configs``, e.g. ``4x4gthread,2x8gthread,4x1sync``):
   starts ``gunicorn oms_site.wsgi`` with ``OMS_BENCH_BARE=1`` (which wires
   ``bench/bare_urls.py``), then drives, from ``--clients`` threads each with its own
   ``requests.Session``, a fixed number of requests per scenario:

   - ``get``: ``GET /api/v1/branches/bench/object-types/{apiName}/`` (random object type);
   - ``patch``: ``PATCH`` the same URL with a new ``description`` (through the services:
     validation, working change, outbox event);
   - ``list``: ``GET .../object-types/?page_size=100&page=K`` (random page);
   - ``bare``: the same page from the bare DRF view (``.values()``, no serializer);
   - ``get_basic``: a short sample of ``get`` with HTTP Basic auth, to show its cost;

4. prints p50/p95/p99 and requests/s per scenario with the targets of issue 2, and writes
   everything as JSON (``--json``, default ``bench/results/api.json``).

Authentication: the main scenarios use a session cookie (with a CSRF token for PATCH).
HTTP Basic auth is measured separately: it checks the password on every request, and
Django's PBKDF2 (1,000,000 iterations) makes that cost far more than the request itself.

The clients run on the same machine as the server and share its cores; the comparison
with the bare endpoint, measured the same way in the same run, is what the ratio target
is about.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import signal
import statistics
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
BRANCH = "bench"
USERNAME = "bench"
PASSWORD = "bench-password-1"
WARMUP_SECONDS = 10.0
TARGETS = {"get_p95_ms": 25.0, "patch_p95_ms": 25.0, "list_p95_ms": 50.0, "bare_ratio": 0.60}


# --- set-up -------------------------------------------------------------------------------


def database_url(server: str, name: str) -> str:
    parsed = urlparse(server)
    return urlunparse(parsed._replace(path=f"/{name}"))


def create_database(server: str, name: str, reuse: bool) -> bool:
    """Create ``name`` on the server; True when it was (re)created, False when reused."""
    parsed = urlparse(server)
    conn = psycopg2.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone() is not None
        if exists and reuse:
            conn.close()
            return False
        if exists:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return True


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


SETUP_SCRIPT = """
from django.contrib.auth import get_user_model
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from ontology.models import ObjectType
from versioning.models import Branch

Branch.objects.get_or_create(name={branch!r}, defaults={{"protected": False}})
User = get_user_model()
user = User.objects.filter(username={username!r}).first() or User(username={username!r})
user.set_password({password!r})
user.save()
user.groups.set([Group.objects.get(name="editor")])
# editors edit the branches they are granted (or created): grant the bench branch
from guardian.shortcuts import assign_perm
assign_perm("versioning.edit_branch", user, Branch.objects.get(name={branch!r}))
store = SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
names = list(ObjectType.objects.filter(branch__name={branch!r}).values_list("api_name", flat=True))
print("SESSION", store.session_key)
print("NAMES", ",".join(names))
"""


@dataclass
class Fixture:
    session_key: str
    names: list[str]
    csrf_token: str = field(
        default_factory=lambda: "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
        )
    )


def prepare(env: dict[str, str], args: argparse.Namespace) -> tuple[Fixture, dict]:
    created = create_database(args.server, args.db_name, args.reuse_db)
    info: dict = {"database": args.db_name, "recreated": created}
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "ensure_admin")
    script = SETUP_SCRIPT.format(branch=BRANCH, username=USERNAME, password=PASSWORD)
    out = manage(env, "shell", "-c", script)
    names = next(line for line in out.splitlines() if line.startswith("NAMES")).split(" ", 1)
    if len(names) < 2 or not names[1]:
        started = time.perf_counter()
        gen = manage(
            env,
            "generate_ontology",
            "--object-types",
            str(args.object_types),
            "--properties",
            str(args.properties),
            "--branch",
            BRANCH,
        )
        info["generate_seconds"] = round(time.perf_counter() - started, 1)
        info["generate_output"] = gen.strip()
        out = manage(env, "shell", "-c", script)
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    fixture = Fixture(session_key=lines["SESSION"].strip(), names=lines["NAMES"].split(","))
    info["object_types"] = len(fixture.names)
    return fixture, info


# --- gunicorn -----------------------------------------------------------------------------


@dataclass
class ServerConfig:
    workers: int
    threads: int
    worker_class: str

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        """``4x4gthread`` -> 4 workers, 4 threads, gthread; ``4x1sync``."""
        counts, _, worker_class = text.partition("x")
        digits = "".join(c for c in worker_class if c.isdigit())
        return cls(int(counts), int(digits), worker_class[len(digits) :] or "gthread")

    @property
    def label(self) -> str:
        return f"{self.workers}x{self.threads}{self.worker_class}"


class Gunicorn:
    def __init__(self, config: ServerConfig, env: dict[str, str], port: int):
        self.config, self.env, self.port = config, env, port
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "oms_site.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.config.workers),
            "--threads",
            str(self.config.threads),
            "--worker-class",
            self.config.worker_class,
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            self.wait_until_live()
        except BaseException:
            self.__exit__()
            raise
        return self

    def wait_until_live(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()}")
            try:
                if requests.get(f"{self.url}/health/live", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health/live within 30 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    config: ServerConfig, env: dict[str, str], fixture: Fixture, args: argparse.Namespace
) -> dict:
    pages = max(1, len(fixture.names) // 100)
    results: dict[str, dict] = {}
    with Gunicorn(config, env, args.port) as server:
        plan = scenarios(fixture.names, pages)
        for scenario in plan:  # warm every worker's connections and caches
            drive(server.url, scenario, fixture, args.clients, args.warmup, WARMUP_SECONDS)
        for scenario in plan:
            results[scenario.name] = drive(
                server.url, scenario, fixture, args.clients, args.requests, args.max_seconds
            )
            results[scenario.name]["load_average"] = round(os.getloadavg()[0], 2)
            print(f"  {config.label:<12} {scenario.name:<10} {line(results[scenario.name])}")
        if args.basic_requests:
            basic = Scenario("get_basic", "GET", plan[0].path, basic_auth=True)
            results["get_basic"] = drive(
                server.url, basic, fixture, args.clients, args.basic_requests, args.max_seconds
            )
            results["get_basic"]["load_average"] = round(os.getloadavg()[0], 2)
            print(f"  {config.label:<12} get_basic  {line(results['get_basic'])}")
    ratio = results["list"]["rps"] / results["bare"]["rps"] if results["bare"]["rps"] else 0.0
    return {
        "config": config.label,
        "workers": config.workers,
        "threads": config.threads,
        "worker_class": config.worker_class,
        "scenarios": results,
        "list_vs_bare_throughput": round(ratio, 3),
        "targets_met": targets_met(results, ratio),
    }


def targets_met(results: dict, ratio: float) -> dict[str, bool]:
    return {
        "get_p95": results["get"]["p95_ms"] <= TARGETS["get_p95_ms"],
        "patch_p95": results["patch"]["p95_ms"] <= TARGETS["patch_p95_ms"],
        "list_p95": results["list"]["p95_ms"] <= TARGETS["list_p95_ms"],
        "bare_ratio": ratio >= TARGETS["bare_ratio"],
    }


# --- report -------------------------------------------------------------------------------


def line(r: dict) -> str:
    errors = f"  errors {r['errors']}" if r["errors"] else ""
    return (
        f"p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms  "
        f"{r['rps']:7.1f} req/s  ({r['ok']} ok){errors}"
    )


def report(run: dict) -> str:
    target_of = {
        "get": f"p95 <= {TARGETS['get_p95_ms']:.0f} ms",
        "patch": f"p95 <= {TARGETS['patch_p95_ms']:.0f} ms",
        "list": f"p95 <= {TARGETS['list_p95_ms']:.0f} ms, >= 60% of bare req/s",
        "bare": "the ceiling",
        "get_basic": "informative: Basic auth",
    }
    out = [
        f"OMS API benchmark - {run['dataset']['object_types']} object types x "
        f"{run['dataset']['properties']} properties on PostgreSQL, "
        f"{run['clients']} clients, {run['requests']} requests per scenario, "
        f"{run['machine']['cpus']} CPUs",
        "",
        f"{'config':<12} {'scenario':<10} {'p50':>7} {'p95':>7} {'p99':>7}  {'req/s':>7}  "
        f"{'n':>5} {'errors':<6} {'load':>5}  target",
    ]
    for result in run["configs"]:
        for name, r in result["scenarios"].items():
            met = ""
            if name in ("get", "patch", "list"):
                met = "ok  " if result["targets_met"][f"{name}_p95"] else "MISS"
            errors = sum(r["errors"].values())
            out.append(
                f"{result['config']:<12} {name:<10} {r['p50_ms']:7.1f} {r['p95_ms']:7.1f} "
                f"{r['p99_ms']:7.1f}  {r['rps']:7.1f}  {r['ok']:>5} {errors:<6} "
                f"{r.get('load_average', 0):5.1f}  {met} {target_of[name]}"
            )
        ratio_met = "ok" if result["targets_met"]["bare_ratio"] else "MISS"
        out.append(
            f"{result['config']:<12} list/bare throughput {result['list_vs_bare_throughput']:.1%}"
            f" ({ratio_met}, target >= 60%)"
        )
        out.append("")
    out.append(f"best config: {run['best']}")
    return "\n".join(out)


def best_config(configs: list[dict]) -> str:
    """Most targets met, then the highest sum of get/patch/list throughput."""

    def score(result: dict) -> tuple[int, float]:
        s = result["scenarios"]
        return (
            sum(result["targets_met"].values()),
            s["get"]["rps"] + s["patch"]["rps"] + s["list"]["rps"],
        )

    return max(configs, key=score)["config"]


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
    parser.add_argument("--clients", type=int, default=32)
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
    configs = []
    for text in args.configs.split(","):
        config = ServerConfig.parse(text.strip())
        print(f"gunicorn {config.label}:", flush=True)
        configs.append(run_config(config, env, fixture, args))
    run = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "dataset": dataset,
        "clients": args.clients,
        "requests": args.requests,
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
