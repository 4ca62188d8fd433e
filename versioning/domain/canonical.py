"""Canonical bytes and content hash of a document (``docs/documents.md``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_bytes(doc: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same document always gives the same bytes."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def doc_hash(doc: Any) -> str:
    """SHA-256 hex of the canonical bytes: the document's identity in the blob store."""
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()
