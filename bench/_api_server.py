"""Set-up and server of ``bench/api.py``: the database with its generated ontology, the
bench user and session, and gunicorn started from a given code tree."""

from __future__ import annotations

import argparse
import secrets
import signal
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
BRANCH = "bench"
USERNAME = "bench"
PASSWORD = "bench-password-1"


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
    def __init__(self, config: ServerConfig, env: dict[str, str], port: int, root: Path = ROOT):
        self.config, self.port, self.root = config, port, root
        self.env = {**env, "PYTHONPATH": str(root)}
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
            command, cwd=self.root, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
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
