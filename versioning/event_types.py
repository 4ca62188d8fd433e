"""Versioning's entries in the event catalogue (registered from ``AppConfig.ready``)."""

from __future__ import annotations

from typing import Any

from . import consumers, releases
from . import services as s
from .domain.compatibility import Compatibility

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}


def _schema(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def _change(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["old", "new"],
        "properties": {"old": value, "new": value},
        "additionalProperties": False,
    }


#: a merge or a release that went ahead despite compatibility findings
_OVERRIDE = {
    "type": "object",
    "required": ["by", "mode", "findings", "count"],
    "properties": {
        "by": _NULLABLE_STR,
        "mode": _STR,
        "findings": {"type": "array", "items": {"type": "object"}},
        "count": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}

_PROPOSAL = _schema(
    ["proposal", "title", "source", "target", "status", "actor"],
    {
        "proposal": {"type": "integer"},
        "title": _STR,
        "source": _STR,
        "target": _STR,
        "status": {"enum": ["open", "approved", "merged", "closed"]},
        "actor": _NULLABLE_STR,
        "mergeCommit": _STR,
        # proposal.resolved: the conflict, its severity and the choice (null: forgotten)
        "conflictId": _STR,
        "severity": {"enum": ["WARN", "ERROR"]},
        "choice": {"enum": ["ours", "theirs", "value", None]},
        # proposal.commented: the comment's id and whether it requests changes
        "comment": {"type": "integer"},
        "requestsChanges": {"type": "boolean"},
        # proposal.merged despite compatibility findings
        "compatibilityOverride": _OVERRIDE,
    },
)

TYPES: dict[str, tuple[dict[str, Any], str]] = {
    s.COMMIT_CREATED: (
        _schema(
            ["branch", "commit", "parents", "author", "message", "changed", "deleted", "rids"],
            {
                "branch": _STR,
                "commit": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "parents": {"type": "array", "items": _STR, "maxItems": 2},
                "author": _STR,
                "message": _STR,
                "changed": {"type": "integer", "minimum": 0},
                "deleted": {"type": "integer", "minimum": 0},
                "rids": {"type": "array", "items": _STR},
                "truncated": {"type": "boolean"},
            },
        ),
        "A commit was written on a branch (a commit of working changes, a merge or a revert). "
        "rids lists the changed entities (at most 1,000; truncated says when there were more).",
    ),
    s.BRANCH_CREATED: (
        _schema(
            ["branch", "from", "head", "actor"],
            {"branch": _STR, "from": _STR, "head": _NULLABLE_STR, "actor": _NULLABLE_STR},
        ),
        "A branch was created from a branch, a commit or a release.",
    ),
    s.BRANCH_DELETED: (
        _schema(
            ["branch", "head", "actor"],
            {"branch": _STR, "head": _NULLABLE_STR, "actor": _NULLABLE_STR},
        ),
        "A branch and its working copy were deleted (its commits stay until garbage collection).",
    ),
    s.BRANCH_UPDATED: (
        _schema(
            ["branch", "head", "actor", "changes"],
            {
                "branch": _STR,
                "head": _NULLABLE_STR,
                "actor": _NULLABLE_STR,
                "changes": {
                    "type": "object",
                    "minProperties": 1,
                    "properties": {
                        "description": _change(_STR),
                        "archived": _change({"type": "boolean"}),
                        "protected": _change({"type": "boolean"}),
                        "compatibility_mode": _change(_STR),
                    },
                    "additionalProperties": False,
                },
            },
        ),
        "A branch's settings changed: changes holds each changed one (description, "
        "archived, protected) with its old and new value. A branch's name never changes.",
    ),
    s.CHANGES_DISCARDED: (
        _schema(
            ["branch", "head", "actor", "discarded", "rids"],
            {
                "branch": _STR,
                "head": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "actor": _NULLABLE_STR,
                "discarded": {"type": "integer", "minimum": 1},
                "rids": {"type": "array", "items": _STR},
                "truncated": {"type": "boolean"},
            },
        ),
        "Uncommitted changes of a branch were thrown away: the entities of rids (at most "
        "1,000; truncated says when there were more) are back to their documents at head.",
    ),
    s.PROPOSAL_OPENED: (_PROPOSAL, "A proposal (merge request) was opened."),
    s.PROPOSAL_APPROVED: (_PROPOSAL, "A reviewer approved a proposal."),
    s.PROPOSAL_MERGED: (_PROPOSAL, "A proposal was merged; mergeCommit is the merge commit."),
    s.PROPOSAL_CLOSED: (_PROPOSAL, "A proposal was closed without merging."),
    s.PROPOSAL_RESOLVED: (
        _PROPOSAL,
        "A steward chose ours, theirs or an edited value for one conflict of a proposal "
        "(choice null: the choice was forgotten). The edited value itself stays on the "
        "proposal.",
    ),
    s.PROPOSAL_COMMENTED: (
        _PROPOSAL,
        "Someone commented on a proposal (comment: its id); requestsChanges: a reviewer "
        "asked for changes, and the merge waits for their approval. The text stays on the "
        "proposal.",
    ),
    releases.RELEASE_PUBLISHED: (
        _schema(
            [
                "version",
                "branch",
                "commit",
                "previousVersion",
                "compatibility",
                "counts",
                "migrationSteps",
                "author",
            ],
            {
                "version": _STR,
                "branch": _STR,
                "commit": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "previousVersion": _NULLABLE_STR,
                "compatibility": {"enum": [c.value for c in Compatibility]},
                "counts": {
                    "type": "object",
                    "properties": {c.value: {"type": "integer"} for c in Compatibility},
                    "additionalProperties": False,
                },
                "migrationSteps": {"type": "integer", "minimum": 0},
                "author": _NULLABLE_STR,
                "brokenConsumers": {"type": "array", "items": _STR},
                "compatibilityOverride": _OVERRIDE,
            },
        ),
        "A release was published from a protected branch: its version, commit, the worst "
        "compatibility class of its changes since previousVersion and their count per "
        "class. The changelog and migration plan are at /api/v1/releases/{version}/. "
        "brokenConsumers names the registered consumers a breaking change touches; "
        "compatibilityOverride, when present, the findings a steward published it despite.",
    ),
    consumers.CONSUMER_BROKEN: (
        _schema(
            ["consumer", "owner", "contact", "pinnedRelease", "release", "branch", "changes"],
            {
                "consumer": _STR,
                "owner": _NULLABLE_STR,
                "contact": _STR,
                "pinnedRelease": _NULLABLE_STR,
                "release": _STR,
                "branch": _STR,
                "changes": {"type": "array", "items": {"type": "object"}},
                "truncated": {"type": "boolean"},
            },
        ),
        "A published release has breaking changes (MIGRATION_REQUIRED or INCOMPATIBLE) to "
        "what a registered consumer reads: changes lists them (at most 100).",
    ),
}


def register() -> None:
    """Register the types when the events catalogue exists (it is optional for versioning)."""
    try:
        from events.registry import register_event_type
    except ImportError:  # pragma: no cover - the events app is not installed
        return
    for type, (schema, description) in TYPES.items():
        register_event_type(type, schema=schema, description=description)
