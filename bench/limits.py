"""How long one write at the entity limits holds a worker (issue 9: at most 2 s).

    .venv/bin/python bench/limits.py                      # fresh SQLite file, the defaults
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_limits .venv/bin/python bench/limits.py
    .venv/bin/python bench/limits.py --properties 400,800 --repeat 3 --json out.json

In-process (Django's test client, no network): migrates the database named by
``DATABASE_URL`` (default: a new SQLite file under ``var/``), creates the branch ``bench``
and an editor, then for each property count N:

- ``create``: ``POST object-types/`` with N properties (primary key and title set);
- ``patch``: ``PATCH`` it with all N properties given again, each with a new description;
- ``refused``: ``POST`` with N + 1 properties over the limit (answers 400 before any work).

Prints the best and worst of ``--repeat`` runs per step, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def body(name: str, count: int, note: str = "") -> dict:
    return {
        "apiName": name,
        "displayName": name,
        "pluralDisplayName": f"{name}s",
        "primaryKey": "p0",
        "titleProperty": "p0",
        "properties": [
            {
                "apiName": f"p{i}",
                "displayName": f"Property {i}",
                "baseType": "string",
                "description": f"{note}{i}",
            }
            for i in range(count)
        ],
    }


def timed(method, path: str, data: dict) -> tuple[float, int]:
    start = time.perf_counter()
    response = method(path, data, format="json")
    return time.perf_counter() - start, response.status_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", default="", help="counts, default: the limit")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "limits.json"))
    args = parser.parse_args(argv)

    if "DATABASE_URL" not in os.environ:
        (ROOT / "var").mkdir(exist_ok=True)
        handle, path = tempfile.mkstemp(prefix="bench-limits-", suffix=".sqlite3", dir=ROOT / "var")
        os.close(handle)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_site.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from ontology import limits
    from versioning.models import Branch

    call_command("migrate", verbosity=0)
    Branch.objects.get_or_create(name="bench")
    user, _ = User.objects.get_or_create(username="bench-limits", is_superuser=True)
    user.user_permissions.add(*Permission.objects.all())
    client = APIClient()
    client.force_authenticate(user)
    url = "/api/v1/branches/bench/object-types/"

    counts = [int(c) for c in args.properties.split(",") if c] or [limits.PROPERTIES]
    results = []
    for count in counts:
        steps: dict[str, list[float]] = {"create": [], "patch": [], "refused": []}
        for run in range(args.repeat):
            name = f"Bench{count}x{run}"
            seconds, status = timed(client.post, url, body(name, count))
            assert status == 201, status
            steps["create"].append(seconds)
            patch = {"properties": body(name, count, "changed ")["properties"]}
            seconds, status = timed(client.patch, f"{url}{name}/", patch)
            assert status == 200, status
            steps["patch"].append(seconds)
            over = body(f"Over{count}x{run}", limits.PROPERTIES + 1)
            seconds, status = timed(client.post, url, over)
            assert status == 400, status
            steps["refused"].append(seconds)
        row = {"properties": count, "limit": limits.PROPERTIES}
        for step, values in steps.items():
            row[f"{step}_best_s"] = round(min(values), 3)
            row[f"{step}_worst_s"] = round(max(values), 3)
        results.append(row)
        print(
            f"{count:>6} properties: create {row['create_best_s']:.2f}-{row['create_worst_s']:.2f}"
            f" s, patch {row['patch_best_s']:.2f}-{row['patch_worst_s']:.2f} s,"
            f" refused (limit+1) {row['refused_best_s']:.3f}-{row['refused_worst_s']:.3f} s"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"database": os.environ["DATABASE_URL"].split(":")[0], "results": results}
    out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
