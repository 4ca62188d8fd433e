"""Dry run and merge through the API, for comparing two checkouts on a shared machine.

    .venv/bin/python bench/versioning_ab.py --db-name oms_vers_bench 2000

Runs in the checkout it is started from, on a database that ``bench/versioning.py`` left
(``--db-name``; it holds the branches ``source{N}`` and ``target{N}``). Opens a proposal
from ``source{N}`` into a fresh copy of ``target{N}``, times ``--runs`` dry runs, then
``--merges`` merges (each into a fresh copy, the ERROR conflicts resolved), and prints min
and p50 of wall and CPU time. Started alternately from two checkouts (each on its own
bench database), a few times, it compares them under the same load, which a single run
of ``bench/versioning.py`` on a loaded machine cannot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", type=int, help="object types of the bench's ontology")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_vers_bench")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--merges", type=int, default=5)
    args = parser.parse_args()
    setup_django(f"{args.server}/{args.db_name}")

    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from versioning import services
    from versioning.models import Branch, Proposal

    n = args.size
    user = get_user_model().objects.get(username="bench")
    client = APIClient()
    client.force_authenticate(user)
    source = Branch.objects.get(name=f"source{n}")
    tag = time.strftime("%H%M%S")

    def proposal(suffix: str) -> Proposal:
        target = services.create_branch(f"ab{n}-{tag}-{suffix}", f"target{n}", None)
        return services.open_proposal(source, target, f"ab {suffix}", user)

    def timed(fn) -> tuple[float, float]:
        start, start_cpu = time.perf_counter(), time.process_time()
        response = fn()
        assert response.status_code == 200, response.content
        return (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000

    first = proposal("dry")
    conflicts = client.get(f"/api/v1/proposals/{first.pk}/dry-run/").json()["conflicts"]
    resolutions = {
        c["id"]: {"choice": "theirs", "value": None} for c in conflicts if c["severity"] == "ERROR"
    }
    dry = [
        timed(lambda: client.get(f"/api/v1/proposals/{first.pk}/dry-run/"))
        for _ in range(args.runs)
    ]
    merges = []
    for i in range(args.merges):
        p = proposal(str(i))
        Proposal.objects.filter(pk=p.pk).update(resolutions=resolutions)
        merges.append(timed(lambda p=p: client.post(f"/api/v1/proposals/{p.pk}/merge/")))

    def shown(samples: list[tuple[float, float]]) -> str:
        wall, cpu = [w for w, _ in samples], [c for _, c in samples]
        return (
            f"wall min {min(wall):6.1f} p50 {statistics.median(wall):6.1f} ms, "
            f"cpu min {min(cpu):6.1f} p50 {statistics.median(cpu):6.1f} ms"
        )

    print(f"{ROOT.name} N={n}: dry run {shown(dry)} | merge {shown(merges)}")


if __name__ == "__main__":
    main()
