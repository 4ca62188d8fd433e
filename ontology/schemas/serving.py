"""The generated schemas of a ref, rendered once per state and cached (docs/schemas.md).

* A commit id or a release names one tree forever: its answer is cached under the commit
  and served as immutable.
* A branch is served as it is now, uncommitted edits included. Its state is its head plus
  its working-change marks (how many, and the latest mark's time: every edit of the
  working copy writes one, a commit or a discard removes them): a clean branch shares
  its head commit's answer; a branch with uncommitted edits gets an answer per state, so
  an edit is never answered from before it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.db.models import Count, Max

from versioning.models import Branch, WorkingChange
from versioning.services import commit_id_of
from versioning.store import documents_at

from ..documents import to_documents
from .text import render

#: format -> content type of the answer
FORMATS = {
    "graphql": "application/graphql; charset=utf-8",
    "json": "application/schema+json",
    "openapi": "application/vnd.oai.openapi+json",
}
FILE_NAMES = {"graphql": "schema.graphql", "json": "schema.json", "openapi": "openapi.json"}

#: a fingerprint of the generators' code and of the rules they read (the time-of-day
#: pattern): a new version never answers from an old cache
_SOURCES = [*sorted(Path(__file__).parent.glob("*.py")), Path(__file__).parent.parent / "rules.py"]
_CODE = hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()[:12]
_COMMIT_TTL = 7 * 24 * 3600
_BRANCH_TTL = 3600
#: bytes of answers each process keeps in memory in front of the shared cache (a key names
#: one answer forever, so a copy is never stale)
LOCAL_BYTES = 64 * 1024 * 1024


class _Local:
    """A small LRU of answers by key, bounded in bytes, shared by a process's threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: str, value: tuple[bytes, str]) -> None:
        if len(value[0]) > self.limit:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.size += len(value[0])
            while self.size > self.limit:
                _, (body, _) = self.items.popitem(last=False)
                self.size -= len(body)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


local = _Local(LOCAL_BYTES)


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    etag: str  # strong: the quoted SHA-256 of the body
    immutable: bool
    commit: str | None


def _render(fmt: str, documents: list[dict], label: str, commit: str | None) -> tuple[bytes, str]:
    body = render(fmt, documents, label=label, commit=commit).encode()
    return body, '"' + hashlib.sha256(body).hexdigest() + '"'


def _state(branch: Branch) -> tuple[str | None, str | None]:
    """``(commit, None)`` for a clean branch with a head, else ``(None, state key)``."""
    marks = WorkingChange.objects.filter(branch=branch).aggregate(
        n=Count("pk"), at=Max("changed_at")
    )
    if branch.head_id and not marks["n"]:
        return branch.head_id, None
    at = marks["at"].isoformat() if marks["at"] else "-"
    return None, f"branch:{branch.pk}:{branch.head_id or '-'}:{marks['n']}:{at}"


def answer(ref: str, fmt: str) -> Answer:
    """The schema ``fmt`` (graphql, json, openapi) of a ref, from the cache when it can."""
    content_type = FORMATS[fmt]
    branch = Branch.objects.filter(name=ref).first()
    if branch is not None:
        commit, state = _state(branch)
        immutable = False
    else:
        commit, state = commit_id_of(ref), None
        # a full commit id or a release names one tree forever; a prefix might one day
        # name two commits
        immutable = ref == commit or not _looks_like_prefix(ref, commit)
    key = f"schema:{_CODE}:{fmt}:" + (f"commit:{commit}" if state is None else state)
    hit = local.get(key) or cache.get(key)
    if hit is None:
        if state is None:
            documents = list(documents_at(commit).values())
        else:
            documents = list(to_documents(branch.pk).values())
        label = ref if state is not None else (commit or ref)
        hit = _render(fmt, documents, label, commit if state is None else None)
        cache.set(key, hit, _COMMIT_TTL if state is None else _BRANCH_TTL)
    local.put(key, hit)
    body, etag = hit
    return Answer(body, content_type, etag, immutable, commit)


def _looks_like_prefix(ref: str, commit: str | None) -> bool:
    return bool(commit) and commit.startswith(ref.lower())
