"""Walks of the commit DAG by generation number: merge base and ancestry.

``get_commit(id)`` returns anything with ``id``, ``parents`` and ``generation``
(a root has generation 1; a commit's is one more than its highest parent's).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class CommitLike(Protocol):
    id: Any
    parents: Sequence[Any]
    generation: int


@dataclass(frozen=True)
class CommitNode:
    id: str
    parents: tuple[str, ...]
    generation: int


GetCommit = Callable[[Any], CommitLike]

_ONE, _TWO, _STALE = 1, 2, 4


def merge_bases(a: Any, b: Any, get_commit: GetCommit) -> list[Any]:
    """Every lowest common ancestor of ``a`` and ``b`` (more than one after criss-cross merges).

    Walks from both tips in decreasing generation, painting each commit with the tips that
    reach it; a commit reached from both is a base and its ancestors go stale. The walk stops
    once only stale commits are queued, so it never reads history below the bases.
    """
    if a == b:
        return [a]
    commits: dict[Any, CommitLike] = {}

    def fetch(cid: Any) -> CommitLike:
        commit = commits.get(cid)
        if commit is None:
            commit = commits[cid] = get_commit(cid)
        return commit

    flags: dict[Any, int] = {a: _ONE, b: _TWO}
    queue: list[tuple[int, str, Any]] = []
    for cid in (a, b):
        heapq.heappush(queue, (-fetch(cid).generation, str(cid), cid))
    live = 2  # queued entries that are not stale
    bases: list[Any] = []
    while live:
        _, _, cid = heapq.heappop(queue)
        flag = flags[cid]
        if not flag & _STALE:
            live -= 1
        if flag & (_ONE | _TWO) == (_ONE | _TWO) and not flag & _STALE:
            bases.append(cid)
            flag |= _STALE
        for parent in fetch(cid).parents:
            before = flags.get(parent)
            after = (before or 0) | flag
            if before == after:
                continue
            flags[parent] = after
            if before is None:
                heapq.heappush(queue, (-fetch(parent).generation, str(parent), parent))
                live += 0 if after & _STALE else 1
            elif not before & _STALE and after & _STALE:
                live -= 1
    return bases


def merge_base(a: Any, b: Any, get_commit: GetCommit) -> Any | None:
    """The lowest common ancestor of ``a`` and ``b`` (the newest one if there are several)."""
    bases = merge_bases(a, b, get_commit)
    if not bases:
        return None
    return max(bases, key=lambda cid: (get_commit(cid).generation, str(cid)))


def is_ancestor(a: Any, b: Any, get_commit: GetCommit) -> bool:
    """Whether ``a`` is ``b`` or one of its ancestors; skips commits older than ``a``."""
    if a == b:
        return True
    floor = get_commit(a).generation
    seen = {b}
    stack = [b]
    while stack:
        for parent in get_commit(stack.pop()).parents:
            if parent == a:
                return True
            if parent not in seen and get_commit(parent).generation > floor:
                seen.add(parent)
                stack.append(parent)
    return False
