"""The commit store: DAG walks, reading trees at any commit, writing blobs and commits.

Costs follow the change, never the ontology:

* a commit's tree is its nearest checkpoint's :class:`~versioning.models.TreeEntry` rows
  overlaid with at most ``checkpoint_every()`` first-parent deltas, so the hashes of a few
  rids at any commit cost three indexed queries (chain, deltas, entries);
* DAG walks load commits in first-parent runs of up to 64 with one recursive query;
* what changed between two commits is the union of the deltas of the commits reachable
  from one but not the other (found by generation-ordered painting, like ``git rev-list
  a ^b``), so a diff or merge reads only the documents of those rids.

Only the services (:mod:`versioning.services`, :mod:`.writing`, :mod:`.merging`) call
this module; the view layer goes through services.
"""

from __future__ import annotations

import hashlib
import heapq
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .domain.canonical import canonical_bytes, doc_hash, parse
from .exceptions import UnknownRefError
from .models import Blob, Commit, TreeEntry

Document = dict[str, Any]

_CHAIN_BATCH = 64
_SQL_CHUNK = 500


def checkpoint_every() -> int:
    """Write a full tree every this many commits on a first-parent line (setting)."""
    return max(1, int(getattr(settings, "OMS_VERSIONING_CHECKPOINT_EVERY", 32)))


# --- the DAG -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: str
    parents: tuple[str, ...]
    generation: int
    is_checkpoint: bool


def first_parent_chain(start: str, *, limit: int, stop_at_checkpoint: bool = False) -> list[Node]:
    """``start`` and its first parents, newest first, in one recursive query.

    With ``stop_at_checkpoint`` the chain ends at (and includes) the first checkpoint.
    """
    table = Commit._meta.db_table
    stop = "AND NOT chain.is_checkpoint" if stop_at_checkpoint else ""
    sql = f"""
        WITH RECURSIVE chain(id, parent_id, merge_parent_id, generation, is_checkpoint, n) AS (
            SELECT id, parent_id, merge_parent_id, generation, is_checkpoint, 0
            FROM {table} WHERE id = %s
            UNION ALL
            SELECT c.id, c.parent_id, c.merge_parent_id, c.generation, c.is_checkpoint,
                   chain.n + 1
            FROM {table} c JOIN chain ON c.id = chain.parent_id
            WHERE chain.n + 1 < %s {stop}
        )
        SELECT id, parent_id, merge_parent_id, generation, is_checkpoint FROM chain ORDER BY n
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, limit])
        rows = cursor.fetchall()
    return [
        Node(cid, tuple(p for p in (parent, merge) if p), gen, bool(cp))
        for cid, parent, merge, gen, cp in rows
    ]


class Graph:
    """Commit nodes, loaded lazily in first-parent runs and memoised for one operation.

    Callable as ``get_commit`` for :mod:`versioning.domain.graph`.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def __call__(self, cid: str) -> Node:
        node = self.nodes.get(cid)
        if node is None:
            for loaded in first_parent_chain(cid, limit=_CHAIN_BATCH):
                if loaded.id in self.nodes:
                    break
                self.nodes[loaded.id] = loaded
            node = self.nodes.get(cid)
            if node is None:
                raise UnknownRefError(f"No commit {cid}.", field="ref")
        return node


_ONE, _TWO = 1, 2


def exclusive(graph: Graph, a: str | None, b: str | None) -> tuple[list[str], list[str]]:
    """(commits reachable from ``a`` but not ``b``, reachable from ``b`` but not ``a``).

    Walks both tips in decreasing generation; a commit's flags are final when it is popped
    (every descendant has a higher generation), and the walk stops once only commits
    reachable from both are queued.
    """
    flags: dict[str, int] = {}
    queue: list[tuple[int, str]] = []

    def push(cid: str, flag: int) -> None:
        before = flags.get(cid, 0)
        after = before | flag
        if before == after:
            return
        flags[cid] = after
        if not before:
            heapq.heappush(queue, (-graph(cid).generation, cid))

    if a:
        push(a, _ONE)
    if b:
        push(b, _TWO)
    only_a: list[str] = []
    only_b: list[str] = []
    while queue and any(flags[cid] != _ONE | _TWO for _, cid in queue):
        _, cid = heapq.heappop(queue)
        flag = flags[cid]
        if flag == _ONE:
            only_a.append(cid)
        elif flag == _TWO:
            only_b.append(cid)
        for parent in graph(cid).parents:
            push(parent, flag)
    return only_a, only_b


def deltas(ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
    ids = list(ids)
    out: dict[str, dict[str, str | None]] = {}
    for start in range(0, len(ids), _SQL_CHUNK):
        chunk = ids[start : start + _SQL_CHUNK]
        out.update(Commit.objects.filter(id__in=chunk).values_list("id", "delta"))
    return out


def changed_rids(graph: Graph, a: str | None, b: str | None) -> set[str]:
    """Every rid whose document may differ between commits ``a`` and ``b`` (a superset)."""
    only_a, only_b = exclusive(graph, a, b)
    rids: set[str] = set()
    for delta in deltas(only_a + only_b).values():
        rids.update(delta)
    return rids


# --- trees ---------------------------------------------------------------------------------


def _chain_to_checkpoint(commit_id: str) -> list[Node]:
    chain: list[Node] = []
    start = commit_id
    while True:
        part = first_parent_chain(start, limit=checkpoint_every() + 1, stop_at_checkpoint=True)
        if not part:
            raise UnknownRefError(f"No commit {commit_id}.", field="ref")
        chain.extend(part)
        last = part[-1]
        if last.is_checkpoint or not last.parents:
            return chain
        start = last.parents[0]


def _overlay(chain: list[Node]) -> dict[str, str | None]:
    """The composed deltas of the non-checkpoint commits of ``chain`` (newest wins)."""
    ids = [n.id for n in chain if not n.is_checkpoint]
    found = deltas(ids)
    out: dict[str, str | None] = {}
    for cid in reversed(ids):
        out.update(found[cid])
    return out


@dataclass(frozen=True)
class _Location:
    """Where a commit's tree is kept: the composed deltas since its nearest checkpoint, and
    that checkpoint (``None``: the first-parent line has none, the overlay is the tree)."""

    overlay: dict[str, str | None]
    checkpoint: str | None


def _locate(commit_id: str) -> _Location:
    chain = _chain_to_checkpoint(commit_id)
    return _Location(_overlay(chain), chain[-1].id if chain[-1].is_checkpoint else None)


def uuid_text(field: str) -> Any:
    """A UUID column to read for its text: cast in SQL on PostgreSQL, where psycopg2 would
    otherwise build a ``uuid.UUID`` per value only for it to be str()-ed (a checkpoint holds
    every entity of the ontology). SQLite stores bare hex, whose SQL cast lacks the dashes:
    there the column is read as usual and the caller str()-s the ``UUID``."""
    if connection.vendor == "postgresql":
        return Cast(field, TextField())
    return field


def _rid_hash_pairs(entries) -> Iterator[tuple[str, str]]:
    """``(rid, hash)`` of tree entries, the rid as text."""
    return ((str(r), h) for r, h in entries.values_list(uuid_text("rid"), "hash").iterator(2000))


def _pairs_for(keys: list[str], sql: str, params: list[Any], orm: Callable) -> Iterator[tuple]:
    """The ``(key, value)`` rows of ``keys``. On PostgreSQL one statement, ``sql`` with the
    keys as its last parameter, one array: the ORM's ``IN`` builds a placeholder (and, for a
    UUID column, a ``UUID``) per key, and a merge asks for hundreds. Elsewhere
    ``orm(chunk)`` for each chunk of keys."""
    if not keys:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, keys])
            yield from cursor.fetchall()
        return
    for start in range(0, len(keys), _SQL_CHUNK):
        yield from orm(keys[start : start + _SQL_CHUNK])


def _entries(checkpoint: str, rids: Iterable[str]) -> dict[str, str]:
    """``rid -> hash`` of the checkpoint's tree entries for ``rids`` (absent ones left out)."""
    return dict(
        _pairs_for(
            list(rids),
            f"SELECT rid::text, hash FROM {TreeEntry._meta.db_table} "
            "WHERE commit_id = %s AND rid = ANY(%s::uuid[])",
            [checkpoint],
            lambda chunk: _rid_hash_pairs(
                TreeEntry.objects.filter(commit_id=checkpoint, rid__in=chunk)
            ),
        )
    )


def hashes_at(commit_id: str | None, rids: Iterable[str] | None = None) -> dict[str, str]:
    """``rid -> blob hash`` at a commit, for ``rids`` (absent ones left out) or the whole tree."""
    if commit_id is None:
        return {}
    where = _locate(commit_id)
    if rids is None:
        tree: dict[str, str | None] = {}
        if where.checkpoint is not None:
            entries = TreeEntry.objects.filter(commit_id=where.checkpoint)
            tree = dict(_rid_hash_pairs(entries))
        tree.update(where.overlay)
        return {rid: h for rid, h in tree.items() if h is not None}
    wanted = set(rids)
    out = {rid: where.overlay[rid] for rid in wanted if rid in where.overlay}
    if where.checkpoint is not None:
        out.update(_entries(where.checkpoint, [rid for rid in wanted if rid not in out]))
    return {rid: h for rid, h in out.items() if h is not None}


def _decode(data: bytes | memoryview) -> Document:
    return parse(zlib.decompress(data))


def blobs(hashes: Iterable[str]) -> dict[str, Document]:
    """``hash -> document``, each read and decoded once."""
    cache = BlobCache()
    cache.fetch(hashes)
    return {h: cache.document(h) for h in list(cache._data)}


def documents_at(commit_id: str | None, rids: Iterable[str] | None = None) -> dict[str, Document]:
    """Documents at a commit, keyed by rid (absent rids left out)."""
    hashes = hashes_at(commit_id, rids)
    docs = blobs(hashes.values())
    return {rid: docs[h] for rid, h in hashes.items()}


class BlobCache:
    """Blobs of one operation: fetched (compressed) in bulk, each decoded the first time a
    document is asked for and then shared, so a document several trees hold (the base and
    an unchanged side) is decoded once, and one nobody reads is never decoded."""

    def __init__(self) -> None:
        self._data: dict[str, bytes | memoryview] = {}
        self._docs: dict[str, Document] = {}

    def fetch(self, hashes: Iterable[str]) -> None:
        """Read the blobs of ``hashes`` not read yet (one query on PostgreSQL)."""
        missing = list({h for h in hashes if h not in self._data and h not in self._docs})
        self._data.update(
            _pairs_for(
                missing,
                f"SELECT hash, data FROM {Blob._meta.db_table} WHERE hash = ANY(%s)",
                [],
                lambda chunk: Blob.objects.filter(hash__in=chunk).values_list("hash", "data"),
            )
        )

    def document(self, h: str) -> Document:
        doc = self._docs.get(h)
        if doc is None:
            if h not in self._data:
                self.fetch([h])
            doc = self._docs[h] = _decode(self._data.pop(h))
        return doc


class TreeView(Mapping[str, Document]):
    """The tree of a commit as a read-only mapping, read lazily.

    ``prefetch(rids)`` looks up the hashes of many rids and reads their blobs in a few
    queries; a document is decoded when first asked for; ``get`` of an unknown rid looks up
    just that one (the commit's chain of deltas is read once per view); iterating reads the
    whole tree once. Views built with one :class:`BlobCache` share decoded documents. Merge
    and policy code see a plain mapping.
    """

    def __init__(self, commit_id: str | None, cache: BlobCache | None = None) -> None:
        self.commit_id = commit_id
        self.cache = cache or BlobCache()
        self._hashes: dict[str, str | None] = {}
        self._where: _Location | None = None
        self._all: dict[str, Document] | None = None if commit_id else {}
        self._names: dict[str, tuple[Any, Any]] | None = None

    def location(self) -> _Location:
        if self._where is None:
            assert self.commit_id is not None
            self._where = _locate(self.commit_id)
        return self._where

    def hash_of(self, rid: str) -> str | None:
        """The blob hash of ``rid`` (``None``: absent), looked up if not known yet."""
        if self._all is not None:
            return self._hashes.get(rid)
        if rid not in self._hashes:
            _lookup([self], [rid])
        return self._hashes[rid]

    def names(self) -> dict[str, tuple[Any, Any]]:
        """``rid -> (kind, apiName)`` of every document, in iteration order, from the two
        columns a blob row carries besides its data: no document is transferred or decoded."""
        if self._all is not None:
            return {rid: (doc.get("kind"), doc.get("apiName")) for rid, doc in self._all.items()}
        if self._names is None:
            hashes = hashes_at(self.commit_id)
            wanted = list(set(hashes.values()))
            found: dict[str, tuple[Any, Any]] = {}
            for start in range(0, len(wanted), _SQL_CHUNK):
                rows = Blob.objects.filter(hash__in=wanted[start : start + _SQL_CHUNK])
                found.update(
                    (h, (kind or None, name))
                    for h, kind, name in rows.values_list("hash", "kind", "api_name")
                )
            self._names = {rid: found[h] for rid, h in hashes.items()}
        return self._names

    def prefetch(self, rids: Iterable[str]) -> None:
        prefetch_trees([self], rids)

    def get(self, rid: str, default: Any = None) -> Any:
        if self._all is not None:
            return self._all.get(rid, default)
        h = self._hashes[rid] if rid in self._hashes else self.hash_of(rid)
        return default if h is None else self.cache.document(h)

    def __getitem__(self, rid: str) -> Document:
        doc = self.get(rid)
        if doc is None:
            raise KeyError(rid)
        return doc

    def __contains__(self, rid: object) -> bool:
        return isinstance(rid, str) and self.get(rid) is not None

    def _load_all(self) -> dict[str, Document]:
        if self._all is None:
            hashes = hashes_at(self.commit_id)
            self.cache.fetch(hashes.values())
            self._all = {rid: self.cache.document(h) for rid, h in hashes.items()}
            self._hashes = dict(hashes)
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._load_all())

    def __len__(self) -> int:
        return len(self._load_all())

    def items(self):  # type: ignore[override]
        return self._load_all().items()

    def values(self):  # type: ignore[override]
        return self._load_all().values()


def _lookup(trees: Iterable[TreeView], rids: Iterable[str]) -> None:
    """Fill each tree's hashes of ``rids``: from its overlay of deltas, then one tree-entry
    query per checkpoint for the rids of every tree kept at that checkpoint (the base and
    the two sides of a merge usually share one)."""
    rids = list(rids)
    pending: list[tuple[TreeView, str, str]] = []
    by_checkpoint: dict[str, set[str]] = {}
    for tree in trees:
        missing = [rid for rid in rids if rid not in tree._hashes]
        if not missing:
            continue
        if tree.commit_id is None:
            tree._hashes.update(dict.fromkeys(missing))
            continue
        where = tree.location()
        for rid in missing:
            if rid in where.overlay:
                tree._hashes[rid] = where.overlay[rid]
            elif where.checkpoint is None:
                tree._hashes[rid] = None
            else:
                by_checkpoint.setdefault(where.checkpoint, set()).add(rid)
                pending.append((tree, rid, where.checkpoint))
    found = {cp: _entries(cp, wanted) for cp, wanted in by_checkpoint.items()}
    for tree, rid, cp in pending:
        tree._hashes[rid] = found[cp].get(rid)


def prefetch_trees(trees: Iterable[TreeView], rids: Iterable[str]) -> None:
    """Look up the hashes of ``rids`` in each of ``trees`` and read their blobs, one blob
    read per cache for all: a document unchanged between the trees (the base and a side,
    mostly) is fetched once, and decoded once when first read (documents are never
    mutated)."""
    trees = [tree for tree in trees if tree._all is None]
    rids = list(rids)
    _lookup(trees, rids)
    by_cache: dict[int, tuple[BlobCache, set[str]]] = {}
    for tree in trees:
        _, hashes = by_cache.setdefault(id(tree.cache), (tree.cache, set()))
        hashes.update(h for rid in rids if (h := tree._hashes[rid]) is not None)
    for cache, hashes in by_cache.values():
        cache.fetch(hashes)


# --- writing ---------------------------------------------------------------------------------


def encode(doc: Document) -> tuple[str, bytes]:
    """(hash, canonical bytes) of a document: what :func:`write_blobs` stores."""
    raw = canonical_bytes(doc)
    return hashlib.sha256(raw).hexdigest(), raw


def write_blobs(
    changes: Mapping[str, Document | None],
    *,
    encoded: Mapping[str, tuple[str, bytes | None]] | None = None,
) -> dict[str, str | None]:
    """Store the documents (once per hash); ``rid -> hash`` (``None`` for deletions).

    ``encoded`` (``rid -> encode(doc)``) spares encoding documents the caller already hashed;
    ``(hash, None)`` names a document read from the store under that hash, encoded again
    only if its blob has been collected meanwhile.
    """
    hashes: dict[str, str | None] = {}
    by_hash: dict[str, tuple[Document, bytes | None]] = {}
    encoded = encoded or {}
    for rid, doc in changes.items():
        if doc is None:
            hashes[rid] = None
            continue
        digest, raw = encoded.get(rid) or encode(doc)
        hashes[rid] = digest
        by_hash[digest] = (doc, raw)
    # touch reused blobs under a row lock (in hash order): garbage collection deletes only
    # blobs older than its grace period and re-checks that after waiting for the lock; the
    # blobs the UPDATE did not find are inserted
    keys = sorted(by_hash)
    known: set[str] = set()
    now = timezone.now()
    for start in range(0, len(keys), _SQL_CHUNK):
        chunk = keys[start : start + _SQL_CHUNK]
        if connection.vendor != "postgresql":  # SQLite: one writer at a time anyway
            reused = Blob.objects.filter(hash__in=chunk)
            reused.update(created_at=now)
            known.update(reused.values_list("hash", flat=True))
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Blob._meta.db_table} SET created_at = %s "
                "WHERE hash = ANY(%s) RETURNING hash",
                [now, chunk],
            )
            known.update(h for (h,) in cursor.fetchall())
    new = []
    for h, (doc, raw) in by_hash.items():
        if h in known:
            continue
        raw = raw if raw is not None else canonical_bytes(doc)
        name = doc.get("apiName")
        new.append(
            Blob(
                hash=h,
                kind=str(doc.get("kind") or ""),
                api_name=name if isinstance(name, str) else None,
                data=zlib.compress(raw),
                size=len(raw),
            )
        )
    Blob.objects.bulk_create(new, batch_size=_SQL_CHUNK, ignore_conflicts=True)
    return hashes


def commit_id(
    parents: list[str], delta: Mapping[str, str | None], author: str, message: str, when
) -> str:
    """The content address of a commit: SHA-256 over its parents, delta, author, message, time."""
    return doc_hash(
        {
            "parents": parents,
            "delta": dict(delta),
            "author": author,
            "message": message,
            "time": when.isoformat(),
        }
    )


def new_commit(
    *,
    parent: Commit | None,
    merge_parent: Commit | None,
    delta: dict[str, str | None],
    user: Any,
    message: str,
    branch_name: str,
) -> Commit:
    """Create the commit row (and its checkpoint entries when due); the head is not moved."""
    now = timezone.now()
    author = user.get_username() if user is not None else "system"
    parents = [p.id for p in (parent, merge_parent) if p is not None]
    generation = 1 + max((p.generation for p in (parent, merge_parent) if p), default=0)
    depth = parent.depth + 1 if parent is not None else 0
    checkpoint = parent is None or depth >= checkpoint_every()
    commit = Commit.objects.create(
        id=commit_id(parents, delta, author, message, now),
        parent=parent,
        merge_parent=merge_parent,
        author=user,
        author_name=author,
        message=message,
        created_at=now,
        generation=generation,
        delta=delta,
        is_checkpoint=checkpoint,
        depth=0 if checkpoint else depth,
        branch_name=branch_name,
    )
    if checkpoint:
        write_checkpoint(commit)
    return commit


def write_checkpoint(commit: Commit) -> None:
    """Write ``commit``'s full tree as entries: the previous checkpoint's entries copied in
    one ``INSERT ... SELECT``, then the composed deltas since then laid over them."""
    if commit.parent_id is None:
        overlay: dict[str, str | None] = dict(commit.delta)
        base = None
    else:
        chain = _chain_to_checkpoint(commit.parent_id)
        overlay = _overlay(chain)
        overlay.update(commit.delta)
        base = chain[-1] if chain[-1].is_checkpoint else None
    TreeEntry.objects.filter(commit=commit).delete()
    if base is not None:
        table = TreeEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (commit_id, rid, hash) "
                f"SELECT %s, rid, hash FROM {table} WHERE commit_id = %s",
                [commit.id, base.id],
            )
        keys = list(overlay)
        for start in range(0, len(keys), _SQL_CHUNK):
            TreeEntry.objects.filter(
                commit=commit, rid__in=keys[start : start + _SQL_CHUNK]
            ).delete()
    TreeEntry.objects.bulk_create(
        [TreeEntry(commit=commit, rid=rid, hash=h) for rid, h in overlay.items() if h is not None],
        batch_size=2000,
    )
