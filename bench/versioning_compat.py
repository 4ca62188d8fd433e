"""Compatibility checks at the size of the 2,000-object-type ontology (part of
``bench/versioning.py``; runs on its own too):

    .venv/bin/python bench/versioning_compat.py --sizes 2000 --runs 20

For each size N (the generated branch of ``bench/versioning.py``):

- a protected branch ``rel{N}`` (mode BACKWARD) from it, released as 1.0.0;
- a source branch with ``--changed`` (200) changed object types: every description, and a
  quarter of them a string property retyped to integer (INCOMPATIBLE: findings);
- **compat check**: ``compat_modes.check_merge`` of that merge against the release
  (``--runs`` times; target p95 <= 200 ms);
- **combined dry run**: ``GET proposals/{id}/dry-run/`` (conflicts, compatibility report,
  migration plan, next version, consumer impact; target p95 <= 250 ms);
- **transitive**: 20 releases on ``rel{N}`` (each a few changed descriptions, and the
  display name of 10 of the object types the source changes, so that those differ in
  every release and are classified against all 20), then the same check under
  BACKWARD_TRANSITIVE (target <= 1 s).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"compat_check": 200, "combined_dry_run": 250, "compat_transitive_20": 1000}


def _retyped(doc: dict) -> dict:
    """The object type with one plain string property (no key, no value type) made an
    integer: an INCOMPATIBLE change."""
    keys = {doc.get("primaryKey"), doc.get("titleProperty")}
    for prid, prop in doc["properties"].items():
        if prop["baseType"] == "string" and prid not in keys and not prop.get("valueType"):
            return {
                **doc,
                "properties": {**doc["properties"], prid: {**prop, "baseType": "integer"}},
            }
    return doc


class CompatSize:
    def __init__(self, n: int, args, client, user) -> None:
        from bench.versioning import change, edit, generated
        from versioning import releases, services
        from versioning.models import Branch

        self.n, self.args, self.client = n, args, client
        base = generated(n, args)
        self.rel = services.create_branch(f"rel{n}", base.name, None)
        Branch.objects.filter(pk=self.rel.pk).update(protected=True, compatibility_mode="BACKWARD")
        self.rel.refresh_from_db()
        releases.publish_release(self.rel, None)
        docs = services.documents_at(self.rel.name)
        ots = sorted(rid for rid, d in docs.items() if d["kind"] == "objectType")
        self.ots, self.docs = ots, docs
        changes = {}
        for i, rid in enumerate(ots[: args.changed]):
            doc = change(docs[rid], f"compat {rid[:6]}")
            changes[rid] = _retyped(doc) if i % 4 == 0 else doc
        self.source = services.create_branch(f"csrc{n}", self.rel.name, None)
        edit(self.source, changes)
        services.commit_changes(self.source, None, "source side")
        self.proposal = services.open_proposal(self.source, self.rel, "compat bench", user)
        self.samples: dict[str, list] = {key: [] for key in TARGETS}

    def merge(self):
        from versioning import services

        self.rel.refresh_from_db()
        self.source.refresh_from_db()
        return services.three_way(self.rel.head_id, self.source.head_id)

    def check(self, key: str) -> dict:
        from bench.versioning import timed
        from versioning import compat_modes

        merge = self.merge()
        seconds, report = timed(lambda: compat_modes.check_merge(self.rel, merge))
        self.samples[key].append(seconds)
        return report

    def dry_run(self) -> None:
        from bench.versioning import timed

        url = f"/api/v1/proposals/{self.proposal.pk}/dry-run/"
        seconds, response = timed(lambda: self.client.get(url))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["compatibility"]["findings"], "the bench's changes should have findings"
        self.samples["combined_dry_run"].append(seconds)

    def twenty_releases(self) -> None:
        from bench.versioning import change, edit
        from versioning import releases, services
        from versioning.models import Branch

        # every release also renames the display of the same 10 object types the source
        # changes (no conflict: another field), so that each earlier release differs for
        # them and the transitive check classifies them against all 20, not only the last
        shared = self.ots[:10]
        for run in range(19):  # 1.0.0 exists
            picked = self.ots[-(run + 1) * 5 :][:5]
            edits = {rid: change(self.docs[rid], f"release {run}") for rid in picked}
            edits.update(
                {rid: {**self.docs[rid], "displayName": f"Release {run}"} for rid in shared}
            )
            edit(self.rel, edits)
            services.commit_changes(self.rel, None, f"release {run}", system=True)
            self.rel.refresh_from_db()
            releases.publish_release(self.rel, None)
        Branch.objects.filter(pk=self.rel.pk).update(compatibility_mode="BACKWARD_TRANSITIVE")
        self.rel.refresh_from_db()

    def finish(self, report) -> dict[str, Any]:
        from bench.versioning import summary

        out = {key: summary(samples) for key, samples in self.samples.items() if samples}
        out["findings"] = len(report.findings)
        out["checked_against"] = len(report.checked)
        return out


def bench(sizes: list[int], args, client, user) -> dict[str, Any]:
    prepared = [CompatSize(n, args, client, user) for n in sizes]
    gc.collect()
    gc.freeze()
    for _ in range(args.runs):
        for size in prepared:
            size.check("compat_check")
            size.dry_run()
    reports = {}
    for size in prepared:
        size.twenty_releases()
        for _ in range(max(3, args.runs // 4)):
            reports[size.n] = size.check("compat_transitive_20")
    gc.unfreeze()
    return {str(s.n): s.finish(reports[s.n]) for s in prepared}


def report(results: dict[str, Any]) -> None:
    for n, r in results.items():
        print(f"\ncompatibility, {n} object types")
        for key, target in TARGETS.items():
            s = r[key]
            print(
                f"  {key:<22} p50 {s['p50_ms']:8.2f} ms  p95 {s['p95_ms']:8.2f} ms  "
                f"(target p95 <= {target} ms, {s['runs']} runs)"
            )
        print(f"  findings {r['findings']} against {r['checked_against']} release(s) (transitive)")


def main() -> None:
    from bench._common import fresh_database, setup_django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="oms_compat_bench")
    parser.add_argument("--sizes", default="2000")
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("--changed", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_django(fresh_database(args.server, args.db_name))
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    client = APIClient()
    client.force_authenticate(user)
    results = bench([int(s) for s in args.sizes.split(",")], args, client, user)
    report(results)


if __name__ == "__main__":
    main()
