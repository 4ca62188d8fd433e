"""Prometheus metrics of versioning (exposed on ``/metrics`` by django-prometheus)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

COMMITS = Counter("oms_versioning_commits_total", "Commits written, by kind.", ["kind"])
MERGE_SECONDS = Histogram(
    "oms_versioning_merge_seconds",
    "Three-way merges (dry runs, merges, updates from target), wall time.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10),
)
COMPACTION_RUNS = Counter(
    "oms_versioning_compaction_runs_total", "Compaction / garbage collection runs.", ["result"]
)
COMPACTION_REMOVED = Counter(
    "oms_versioning_compaction_removed_total",
    "Rows removed by compaction and garbage collection, by kind "
    "(collapsed_commits, unreachable_commits, blobs, tree_entries).",
    ["kind"],
)
COMPACTION_BYTES_FREED = Counter(
    "oms_versioning_compaction_bytes_freed_total",
    "Canonical document bytes of the blobs garbage collection deleted.",
)
CHECKPOINTS_WRITTEN = Counter(
    "oms_versioning_checkpoints_written_total", "Checkpoints written by compaction."
)
