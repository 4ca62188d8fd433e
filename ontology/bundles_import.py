"""Import a bundle onto a branch: the branch's ontology becomes exactly the bundle's.

1. parse and check the bundle's shape (:func:`parse`);
2. match its entities to the branch's: by rid, else by kind and api name (children by rid,
   else by api name within their parent), so a re-import changes nothing and a rename
   keeps its identity (:func:`match`);
3. validate the whole resulting tree and the rows its changed documents become, in one
   call (:func:`ontology.bundles_rules.validate`), and refuse the bundle with every error,
   each at its JSON pointer, before anything is written;
4. write the difference through the workspace's set-based ``apply`` (the path merges use),
   record each changed entity (working-change mark and change event) and optionally
   commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from versioning import permissions
from versioning.models import Branch
from versioning.services import commit_changes

from . import services
from .bundles import (
    FORMAT,
    FORMAT_VERSION,
    KINDS,
    BundleError,
    BundleTooLargeError,
    Parsed,
    max_documents,
    pointer,
)
from .bundles_rules import CHILDREN, validate
from .documents import KIND_MODEL, Document, to_documents
from .exceptions import OntologyError
from .workspace import apply, documents_read

#: text fields never rewritten when rids are remapped (a description may quote a rid)
_TEXT_KEYS = frozenset(
    {"apiName", "displayName", "pluralDisplayName", "description", "icon", "examples"}
)


def _error(ptr: str, message: str) -> dict[str, str]:
    return {"pointer": ptr, "message": message}


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse(data: Any) -> Parsed:
    """The documents of a parsed bundle, or :class:`BundleError` with every shape error."""
    errors: list[dict[str, str]] = []
    if not isinstance(data, dict):
        raise BundleError([_error("", "A bundle is an object with 'manifest' and 'documents'.")])
    for key in sorted(set(data) - {"manifest", "documents"}):
        errors.append(_error(pointer(key), "Unknown key; a bundle has 'manifest' and 'documents'."))
    manifest = data.get("manifest")
    if not isinstance(manifest, dict):
        errors.append(_error("/manifest", "The manifest is an object."))
        manifest = {}
    else:
        if manifest.get("format") != FORMAT:
            errors.append(_error("/manifest/format", f"Must be '{FORMAT}'."))
        version = manifest.get("formatVersion")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            errors.append(_error("/manifest/formatVersion", "Must be a positive integer."))
        elif version > FORMAT_VERSION:
            errors.append(
                _error(
                    "/manifest/formatVersion",
                    f"Version {version} is newer than this server reads ({FORMAT_VERSION}).",
                )
            )
    groups = data.get("documents")
    documents: list[Document] = []
    pointers: list[str] = []
    if not isinstance(groups, dict):
        errors.append(_error("/documents", "The documents are an object keyed by kind."))
        groups = {}
    total = sum(len(v) for v in groups.values() if isinstance(v, list))
    if total > max_documents():
        raise BundleTooLargeError(
            f"A bundle of {total} documents exceeds the limit of {max_documents()} "
            "(OMS_MAX_BUNDLE_DOCUMENTS)."
        )
    seen: dict[str, str] = {}
    for kind, docs in groups.items():
        at = pointer("documents", kind)
        if kind not in KINDS:
            errors.append(_error(at, f"Unknown kind; the kinds are {', '.join(KINDS)}."))
            continue
        if not isinstance(docs, list):
            errors.append(_error(at, "A kind's documents are a list."))
            continue
        for index, doc in enumerate(docs):
            here = pointer("documents", kind, index)
            if not isinstance(doc, dict):
                errors.append(_error(here, "A document is an object."))
                continue
            doc = dict(doc)
            if doc.setdefault("kind", kind) != kind:
                errors.append(_error(here + "/kind", f"A document under {kind} is a {kind}."))
            rid = doc.get("rid")
            if rid is not None:
                if not _is_uuid(rid):
                    errors.append(_error(here + "/rid", "A rid is a UUID string."))
                elif rid.lower() in seen:
                    errors.append(_error(here + "/rid", f"Also the rid of {seen[rid.lower()]}."))
                else:
                    seen[rid.lower()] = here
                    doc["rid"] = rid.lower()
            if not isinstance(doc.get("apiName"), str):
                errors.append(_error(here + "/apiName", "Every document has an apiName (text)."))
            documents.append(doc)
            pointers.append(here)
    if errors:
        raise BundleError(errors)
    return Parsed(manifest, documents, pointers)


# --- matching --------------------------------------------------------------------------------


def _name_key(kind: str, doc: Mapping[str, Any]) -> tuple[str, str]:
    return (kind, str(doc.get("apiName", "")).lower())


def _rewrite(value: Any, remap: Mapping[str, str], key: str | None = None) -> Any:
    """``value`` with every rid of ``remap`` replaced (as a value or as a dict key)."""
    if key in _TEXT_KEYS:
        return value
    if isinstance(value, str):
        return remap.get(value, value)
    if isinstance(value, dict):
        return {remap.get(k, k): _rewrite(v, remap, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, remap) for v in value]
    return value


def match(
    parsed: Parsed, current: Mapping[str, Document]
) -> tuple[list[Document], list[str], dict[str, str]]:
    """The bundle's documents with the branch's rids (matched by rid, else by kind and api
    name; children by rid, else by api name within the matched parent), their rids in the
    bundle's order, and ``bundle rid -> branch rid`` of those that changed."""
    by_name = {_name_key(d["kind"], d): rid for rid, d in current.items()}
    claimed_by_rid = {d["rid"] for d in parsed.documents if d.get("rid") in current}
    remap: dict[str, str] = {}
    out: list[Document] = []
    for doc in parsed.documents:
        kind, rid = doc["kind"], doc.get("rid")
        if rid is None or rid not in current:
            found = by_name.get(_name_key(kind, doc))
            if found is not None and found not in claimed_by_rid:
                claimed_by_rid.add(found)
                new = found
            else:
                new = rid or str(uuid.uuid4())
            if rid is not None and rid != new:
                remap[rid] = new
            doc = {**doc, "rid": new}
        out.append(doc)
    # children within matched parents
    for doc in out:
        key = CHILDREN.get(doc["kind"])
        existing = current.get(doc["rid"])
        children = doc.get(key) if key else None
        if not isinstance(children, dict) or existing is None:
            continue
        theirs = existing.get(key) or {}
        names = {str(c.get("apiName", "")).lower(): crid for crid, c in theirs.items()}
        kept = {crid for crid in children if crid in theirs}
        for crid, child in children.items():
            if crid in theirs or not isinstance(child, dict):
                continue
            found = names.get(str(child.get("apiName", "")).lower())
            if found is not None and found not in kept:
                kept.add(found)
                remap[crid] = found
    if remap:
        out = [_rewrite(doc, remap) for doc in out]
    return out, [d["rid"] for d in out], remap


# --- importing -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    branch: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    commit: str | None = None

    @property
    def changed(self) -> int:
        return len(self.created) + len(self.updated) + len(self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "created": len(self.created),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "commit": self.commit,
        }


Progress = Callable[[str, int, int], None]


def _check_permissions(
    user, branch: Branch, result: ImportResult, kinds: Mapping[str, str], system: bool
) -> None:
    """The model permission of every kind of write the import makes (403 before writing)."""
    needed = set()
    for action, rids in (("add", result.created), ("change", result.updated)):
        needed |= {(kinds[rid], action) for rid in rids}
    needed |= {(kinds[rid], "delete") for rid in result.deleted}
    for kind, action in sorted(needed):
        perm = services.model_perm(KIND_MODEL[kind], action)
        services.check_write(user, branch, perm, system=system)


def import_bundle(
    branch: Branch,
    parsed: Parsed,
    *,
    user: Any = None,
    message: str | None = None,
    commit: bool = False,
    system: bool = False,
    only_missing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Make ``branch`` hold exactly the bundle's ontology (``only_missing``: add the
    bundle's entities the branch lacks and leave the rest, as the demo loader does).

    Raises :class:`BundleError` (nothing written) when the resulting tree breaks a rule."""
    step = progress or (lambda stage, done, total: None)
    perm = services.model_perm(KIND_MODEL["objectType"], "change")
    services.check_write(user, branch, perm, system=system)
    if commit:
        if not (message or "").strip():
            raise OntologyError("A commit needs a message.", field="message")
        permissions.check(permissions.commit_refusal, user, branch, system=system)
    with transaction.atomic():
        branch = Branch.objects.select_for_update(no_key=True).get(pk=branch.pk)
        current = to_documents(branch.pk)
        step("read", 1, 4)
        documents, kept, remap = match(parsed, current)
        pointers = dict(zip(kept, parsed.pointers, strict=True))
        if only_missing:
            wanted = {d["rid"]: d for d in documents if d["rid"] not in current}
            tree = {**current, **wanted}
        else:
            wanted = {d["rid"]: d for d in documents}
            tree = dict(wanted)
        result = ImportResult(branch.name)
        changes: dict[str, Document | None] = {}
        for rid, doc in wanted.items():
            if rid not in current:
                result.created.append(rid)
                changes[rid] = doc
            elif current[rid] != doc:
                changes[rid] = doc
        if not only_missing:
            result.deleted = sorted(rid for rid in current if rid not in wanted)
            changes.update(dict.fromkeys(result.deleted))
        errors = validate(tree, pointers, [rid for rid, doc in changes.items() if doc is not None])
        step("validated", 2, 4)
        if errors:
            raise BundleError(_in_bundle(errors, remap))
        written: dict[str, Document | None] = {}
        if changes:
            kinds = {rid: (doc or current[rid])["kind"] for rid, doc in changes.items()}
            provisional = ImportResult(branch.name, result.created, list(changes), result.deleted)
            _check_permissions(user, branch, provisional, kinds, system)
            written = _write(branch, changes, current, result, user)
        step("written", 3, 4)
        if commit and (result.changed or branch.head_id is None):
            # the commit reads the documents just written from the rows as _write did; the
            # branch now holds the entities of ``tree``
            with documents_read(branch, written, tree):
                made = commit_changes(branch, user, message, system=system, allow_empty=True)
            result.commit = made.id if made else None
        step("done", 4, 4)
    return result


def _in_bundle(errors: list[dict[str, str]], remap: Mapping[str, str]) -> list[dict[str, str]]:
    """Errors with the bundle's own child rids in their pointers (a child matched by name
    has the branch's rid while it is validated)."""
    if not remap:
        return errors
    inverse = {new: old for old, new in remap.items()}
    return [
        {**e, "pointer": "/".join(inverse.get(part, part) for part in e["pointer"].split("/"))}
        for e in errors
    ]


def _write(branch, changes, current, result: ImportResult, user) -> dict[str, Document | None]:
    """Apply and record what changed (the documents and the rows they become were checked
    by :func:`validate`); the documents of ``changes`` as the rows now hold them."""
    try:
        # the rule set ran over the whole tree before (validate): not again here
        apply(branch, changes, {rid: current.get(rid) for rid in changes}, checked=True)
    except ValueError as exc:
        raise BundleError([_error("", str(exc))]) from exc
    touched = [rid for rid, doc in changes.items() if doc is not None]
    after = to_documents(branch.pk, touched)
    created = set(result.created)
    written: dict[str, Document | None] = {}
    # one change set: one event per entity, marked and written in bulk; the rule set
    # already ran over the whole tree (validate), so not again over the changes
    with services.change_set(checked=True):
        for rid, doc in changes.items():
            new = after.get(rid) if doc is not None else None
            old = current.get(rid)
            if rid not in created and doc is not None and old != new:
                result.updated.append(rid)
            services.record_change(branch, (new or old)["kind"], rid, old, new, user)
            written[rid] = new
    result.updated.sort()
    result.created.sort()
    return written
