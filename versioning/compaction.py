"""Compaction and garbage collection of the commit store (run by ``versioning.compact``).

1. **Checkpoints**: a branch head more than ``checkpoint_every()`` commits past its last
   checkpoint (the interval was lowered, or commits came from elsewhere) gets one.
2. **Collapse** old linear runs on archived branches: a commit made on that branch, older
   than the cut-off, with one parent and one child, that is no branch head, release,
   checkpoint, merge commit, merge parent, fork point or proposal's merge commit, is
   folded into its child (the child's delta absorbs it and it points at the grandparent;
   what the run changed back, or added and deleted, is dropped from that delta). The
   child keeps its id.
3. **Unreachable commits** (from no branch head, release or merge commit) older than the
   grace period are deleted with their tree entries.
4. **Unreferenced blobs** older than the grace period are deleted.

Safe against concurrent commits: each step runs in short transactions that lock what
they change and re-check it; commits only ever add children to heads (which are kept),
and a commit that reuses an existing blob touches its ``created_at`` under a row lock,
which makes the grace-period ``DELETE`` skip it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import metrics, store
from .models import Blob, Branch, Commit, Proposal, TreeEntry

logger = logging.getLogger(__name__)

#: other apps (releases) name commits that must survive: ``fn() -> iterable of commit ids``
_keepers: list[Callable[[], Iterable[str]]] = []


def register_keeper(fn: Callable[[], Iterable[str]]) -> None:
    if fn not in _keepers:
        _keepers.append(fn)


@dataclass
class Report:
    checkpoints: int = 0
    collapsed_commits: int = 0
    unreachable_commits: int = 0
    tree_entries: int = 0
    blobs: int = 0
    blob_bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _roots() -> set[str]:
    roots = set(Branch.objects.exclude(head=None).values_list("head_id", flat=True))
    roots.update(
        Proposal.objects.exclude(merge_commit=None).values_list("merge_commit_id", flat=True)
    )
    for keeper in _keepers:
        roots.update(keeper())
    return roots


def write_missing_checkpoints(report: Report) -> None:
    every = store.checkpoint_every()
    for cid in Branch.objects.filter(head__depth__gte=every).values_list("head_id", flat=True):
        with transaction.atomic():
            commit = Commit.objects.select_for_update().filter(id=cid, is_checkpoint=False).first()
            if commit is None:
                continue
            store.write_checkpoint(commit)
            Commit.objects.filter(id=cid).update(is_checkpoint=True, depth=0)
            report.checkpoints += 1


def collapse_archived(report: Report, *, older_than: timedelta) -> None:
    cutoff = timezone.now() - older_than
    keep = _roots()
    archived = Branch.objects.filter(archived=True).exclude(head=None)
    for name, head in archived.values_list("name", "head_id"):
        _collapse_line(name, head, cutoff, keep, report)


def _collapse_line(name: str, head: str, cutoff, keep: set[str], report: Report) -> None:
    """Fold the foldable commits made on the archived branch ``name`` (never the commits
    of the branch it came from)."""
    chain = store.first_parent_chain(head, limit=100_000)
    ids = [n.id for n in chain]
    rows = {
        c["id"]: c
        for c in Commit.objects.filter(id__in=ids).values(
            "id", "parent_id", "merge_parent_id", "is_checkpoint", "created_at", "branch_name"
        )
    }
    children: dict[str, int] = defaultdict(int)
    for parent in Commit.objects.filter(parent_id__in=ids).values_list("parent_id", flat=True):
        children[parent] += 1
    merged_in = set(
        Commit.objects.filter(merge_parent_id__in=ids).values_list("merge_parent_id", flat=True)
    )

    def foldable(cid: str) -> bool:
        row = rows[cid]
        return (
            cid not in keep
            and row["branch_name"] == name
            and row["parent_id"] is not None
            and row["merge_parent_id"] is None
            and not row["is_checkpoint"]
            and row["created_at"] < cutoff
            and children[cid] == 1
            and cid not in merged_in
        )

    run: list[str] = []
    for child, cid in zip(ids, ids[1:], strict=False):
        if foldable(cid):
            if not run:
                run.append(child)
            run.append(cid)
            continue
        if len(run) > 1:
            _fold(run, report)
        run = []
    if len(run) > 1:
        _fold(run, report)


def _fold(run: list[str], report: Report) -> None:
    """``run`` = [child, x1, ..., xn] newest first: fold x1..xn into child."""
    child_id, doomed = run[0], run[1:]
    with transaction.atomic():
        locked = {c.id: c for c in Commit.objects.select_for_update().filter(id__in=run)}
        if len(locked) != len(run) or Branch.objects.filter(head_id__in=doomed).exists():
            return
        if Commit.objects.filter(merge_parent_id__in=doomed).exists() or (
            Commit.objects.filter(parent_id__in=doomed).exclude(id__in=run).exists()
        ):
            return
        delta: dict[str, str | None] = {}
        for cid in reversed(run):
            delta.update(locked[cid].delta)
        child = locked[child_id]
        child.parent_id = locked[doomed[-1]].parent_id
        # what the run changed and changed back (or added and deleted) is no change
        # against the new parent: left out, or history would show empty changes
        before = store.hashes_at(child.parent_id, list(delta))
        child.delta = {rid: h for rid, h in sorted(delta.items()) if h != before.get(rid)}
        child.save(update_fields=["parent", "delta"])
        Commit.objects.filter(id__in=doomed).update(parent=None, merge_parent=None)
        Commit.objects.filter(id__in=doomed).delete()
        report.collapsed_commits += len(doomed)


def delete_unreachable(report: Report, *, grace: timedelta) -> None:
    cutoff = timezone.now() - grace
    edges: dict[str, tuple[str, ...]] = {}
    old: set[str] = set()
    for cid, parent, merge, created in Commit.objects.values_list(
        "id", "parent_id", "merge_parent_id", "created_at"
    ).iterator(5000):
        edges[cid] = tuple(p for p in (parent, merge) if p)
        if created < cutoff:
            old.add(cid)
    seen: set[str] = set()
    stack = [r for r in _roots() if r in edges]
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        stack.extend(edges.get(cid, ()))
    doomed = sorted(old - seen)
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        with transaction.atomic():
            if Branch.objects.select_for_update().filter(head_id__in=chunk).exists():
                continue  # became a head meanwhile; next run decides
            entries = TreeEntry.objects.filter(commit_id__in=chunk).count()
            Commit.objects.filter(id__in=chunk).update(parent=None, merge_parent=None)
            deleted = Commit.objects.filter(id__in=chunk).delete()[1].get("versioning.Commit", 0)
            report.unreachable_commits += deleted
            report.tree_entries += entries


def delete_unreferenced_blobs(report: Report, *, grace: timedelta) -> None:
    cutoff = timezone.now() - grace
    referenced: set[str] = set()
    for delta in Commit.objects.values_list("delta", flat=True).iterator(2000):
        referenced.update(h for h in delta.values() if h)
    in_trees = TreeEntry.objects.values("hash")
    candidates = (
        Blob.objects.filter(created_at__lt=cutoff)
        .exclude(hash__in=in_trees)
        .values_list("hash", "size")
    )
    doomed = [(h, size) for h, size in candidates.iterator(5000) if h not in referenced]
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        hashes = [h for h, _ in chunk]
        with transaction.atomic():
            # the row lock of a commit touching a blob makes this re-check its created_at
            gone = list(
                Blob.objects.select_for_update()
                .filter(hash__in=hashes, created_at__lt=cutoff)
                .values_list("hash", "size")
            )
            Blob.objects.filter(hash__in=[h for h, _ in gone], created_at__lt=cutoff).delete()
        report.blobs += len(gone)
        report.blob_bytes += sum(size for _, size in gone)


def run(*, older_than: timedelta, grace: timedelta) -> Report:
    report = Report()
    write_missing_checkpoints(report)
    collapse_archived(report, older_than=older_than)
    delete_unreachable(report, grace=grace)
    delete_unreferenced_blobs(report, grace=grace)
    metrics.CHECKPOINTS_WRITTEN.inc(report.checkpoints)
    for kind in ("collapsed_commits", "unreachable_commits", "tree_entries", "blobs"):
        metrics.COMPACTION_REMOVED.labels(kind).inc(getattr(report, kind))
    metrics.COMPACTION_BYTES_FREED.inc(report.blob_bytes)
    logger.info(
        "versioning compaction: %d checkpoints written, %d commits collapsed, %d unreachable "
        "commits and %d tree entries deleted, %d blobs (%d bytes) freed",
        report.checkpoints,
        report.collapsed_commits,
        report.unreachable_commits,
        report.tree_entries,
        report.blobs,
        report.blob_bytes,
        extra={"compaction": report.as_dict()},
    )
    return report
