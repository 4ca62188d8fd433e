"""Bundles: a whole ontology as one file (docs/bundles.md).

A bundle is a manifest and every document of a tree, grouped by kind in dependency order
(the order of :data:`ontology.documents.KIND_MODEL`), each group sorted by api name
(case-insensitively) then rid, each document with its keys sorted. This module reads and
writes that format and exports a ref; :mod:`ontology.bundles_import` brings a bundle onto a
branch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from django.conf import settings

from .documents import KIND_MODEL, Document, to_documents
from .exceptions import OntologyError
from .schemas.text import json_text

FORMAT = "oms.bundle"
FORMAT_VERSION = 1
FORMATS = ("json", "yaml")
#: the kinds of a bundle, in the order they are written (referenced kinds first)
KINDS = tuple(KIND_MODEL)


class BundleError(OntologyError):
    """A bundle that cannot be imported: every problem, each at a JSON pointer (400)."""

    http_status = 400
    code = "invalid_bundle"

    def __init__(self, errors: list[dict[str, str]]):
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['pointer'] or '/'}: {first['message']}{more}")
        self.errors = errors
        self.fields = {}
        for error in errors:
            self.fields.setdefault(error["pointer"] or "/", []).append(error["message"])
        self.extra = {"errors": errors}


class BundleTooLargeError(OntologyError):
    """A bundle over the size limits of docs/bundles.md (413), refused before parsing."""

    http_status = 413
    code = "payload_too_large"


def max_bytes() -> int:
    return settings.OMS_MAX_BUNDLE_BYTES


def max_documents() -> int:
    return settings.OMS_MAX_BUNDLE_DOCUMENTS


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise BundleTooLargeError(
            f"A bundle of {size} bytes exceeds the limit of {limit} bytes (OMS_MAX_BUNDLE_BYTES)."
        )


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from its reference tokens."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# --- writing -------------------------------------------------------------------------------


def _sorted(value: Any) -> Any:
    """Dicts with their keys sorted, recursively (the canonical documents' order)."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _order_key(doc: Mapping[str, Any]) -> tuple[str, str]:
    return (str(doc.get("apiName", "")).lower(), str(doc.get("rid", "")))


def grouped(documents: Iterable[Document]) -> dict[str, list[Document]]:
    """Documents grouped by kind (every kind present, dependency order), each group in
    stable order, every document with sorted keys."""
    groups: dict[str, list[Document]] = {kind: [] for kind in KINDS}
    for doc in documents:
        groups[doc["kind"]].append(doc)
    return {
        kind: [_sorted(d) for d in sorted(docs, key=_order_key)] for kind, docs in groups.items()
    }


def digest(groups: Mapping[str, list[Document]]) -> str:
    """SHA-256 of the documents part: equal for equal ontologies, whatever the manifest."""
    text = json.dumps(groups, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def build(
    documents: Iterable[Document],
    *,
    ref: str | None,
    commit: str | None,
    uncommitted: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    groups = grouped(documents)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    manifest = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "source": {"ref": ref, "commit": commit, "uncommitted": uncommitted},
        "exportedAt": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "counts": {kind: len(docs) for kind, docs in groups.items()},
        "digest": digest(groups),
    }
    return {"manifest": manifest, "documents": groups}


def dumps(bundle: Mapping[str, Any], fmt: str = "json") -> str:
    """The bundle's text: JSON indented by two spaces, or YAML (block style); keys in the
    order :func:`build` gives them."""
    if fmt == "yaml":
        return yaml.dump(
            bundle,
            Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    if fmt != "json":
        raise OntologyError(f"Unknown bundle format '{fmt}'; use json or yaml.", field="format")
    return json_text(bundle)


# --- reading -------------------------------------------------------------------------------


def loads(data: bytes | str) -> Any:
    """Parse a bundle's text (JSON, or YAML when it is not JSON); size checked first."""
    raw = data.encode() if isinstance(data, str) else data
    check_size(len(raw))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BundleError(
            [{"pointer": "", "message": f"A bundle is UTF-8 text ({exc})."}]
        ) from None
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BundleError([{"pointer": "", "message": f"Not valid JSON: {exc}"}]) from None
    try:
        return _plain(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except (yaml.YAMLError, RecursionError) as exc:
        raise BundleError(
            [{"pointer": "", "message": f"Neither JSON nor YAML: {exc}".strip()}]
        ) from None


def _plain(value: Any) -> Any:
    """YAML's dates and times (an unquoted ``2026-12-31``) as the ISO text JSON has."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Parsed:
    """A bundle's documents with where each one came from."""

    manifest: dict[str, Any]
    documents: list[Document]
    pointers: list[str]  # the JSON pointer of each document in the bundle


# --- exporting -----------------------------------------------------------------------------


def documents_of(ref: str) -> tuple[dict[str, Document], str | None, bool]:
    """``(documents, commit id, uncommitted)`` of a ref: a branch's working copy (its rows,
    with any uncommitted edits), or the tree of a commit or release."""
    from versioning.models import Branch
    from versioning.services import commit_id_of, has_uncommitted_changes
    from versioning.store import documents_at

    branch = Branch.objects.filter(name=ref).first()
    if branch is not None:
        dirty = branch.head_id is None or has_uncommitted_changes(branch)
        return to_documents(branch.pk), branch.head_id, dirty
    commit = commit_id_of(ref)
    return documents_at(commit), commit, False


def export(ref: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The bundle of a ref (branch, commit id or release)."""
    docs, commit, dirty = documents_of(ref)
    return build(docs.values(), ref=ref, commit=commit, uncommitted=dirty, now=now)
