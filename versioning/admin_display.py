"""What the versioning admin pages show: documents side by side, entity change cards,
conflicts grouped by severity, and why a proposal cannot merge yet. Plain data for the
templates in ``templates/admin/versioning/``; no requests, no writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils.html import format_html_join

from . import services
from .domain.diff import EntityChange, TreeDiff
from .models import Proposal

#: entity cards drawn in full on one page; the rest are listed by name
MAX_CARDS = 100
_RID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: conflict values longer than this (whole documents) are folded away until asked for
COLLAPSE_CHARS = 600
SEVERITIES = (
    ("BLOCK", "Blocking", "The merged ontology would break a rule: fix it on a branch."),
    ("ERROR", "Needs a decision", "Choose ours (target), theirs (source) or an edited value."),
    ("WARN", "Resolved by a strategy", "Applied automatically; review the proposed value."),
    ("INFO", "Same change on both sides", "Nothing to do."),
)


# --- files of a ref other apps offer (the ontology's bundle and generated schemas) ----------

_ref_downloads: list[tuple[str, Callable[[str], str]]] = []


def register_ref_download(label: str, url_of: Callable[[str], str]) -> None:
    """Offer a file of any ref on the branch and release pages: ``url_of(ref) -> URL``."""
    if all(existing != label for existing, _ in _ref_downloads):
        _ref_downloads.append((label, url_of))


def ref_downloads(ref: str) -> str:
    """Links to every registered file of ``ref`` (HTML)."""
    if not _ref_downloads:
        return "-"
    return format_html_join(
        " · ", '<a href="{}" download>{}</a>', ((url(ref), label) for label, url in _ref_downloads)
    )


# --- showing documents side by side ---------------------------------------------------------


def as_json(value: Any) -> str:
    """A value as a steward reads it: JSON, indented for dicts and lists."""
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _flatten(doc: Any, path: tuple, label: tuple, out: dict) -> None:
    if isinstance(doc, dict) and doc:
        for key, value in doc.items():
            name = value.get("apiName") if isinstance(value, dict) else None
            _flatten(value, (*path, key), (*label, str(name or key)), out)
    else:
        out[path] = (label, doc)


def flatten(doc: Mapping[str, Any] | None) -> dict[tuple, tuple[tuple, Any]]:
    """``path -> (label, leaf value)``; a child keyed by rid is labelled by its ``apiName``."""
    out: dict[tuple, tuple[tuple, Any]] = {}
    if doc is not None:
        _flatten(doc, (), (), out)
    return out


def side_by_side(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[dict]:
    """Rows of old/new leaf values, aligned by path, each ``same``/``added``/``removed``/
    ``modified``; a child entity's fields stay together (ordered by label)."""
    a, b = flatten(old), flatten(new)
    rows = []
    for key in sorted(a.keys() | b.keys(), key=lambda k: ((a.get(k) or b.get(k))[0], k)):
        label, before = a.get(key, (None, None))
        label_b, after = b.get(key, (None, None))
        if key not in a:
            state = "added"
        elif key not in b:
            state = "removed"
        else:
            state = "same" if before == after else "modified"
        rows.append(
            {
                "label": " › ".join(label or label_b),
                "old": as_json(before) if key in a else "",
                "new": as_json(after) if key in b else "",
                "state": state,
            }
        )
    return rows


def entity_cards(
    diff: TreeDiff | Iterable[EntityChange | dict],
    old_docs: Mapping[str, Any],
    new_docs: Mapping[str, Any],
) -> list[dict]:
    """One card per entity change: what changed and the two documents side by side."""
    changes = diff.changes if isinstance(diff, TreeDiff) else list(diff)
    cards = []
    for change in changes:
        item = change.to_dict() if isinstance(change, EntityChange) else change
        rid = item["rid"]
        card = {
            **item,
            "fieldCount": len(item.get("fields") or []),
            "rows": None,
        }
        if len(cards) < MAX_CARDS:
            card["rows"] = side_by_side(old_docs.get(rid), new_docs.get(rid))
        cards.append(card)
    return cards


def docs_at(commit_id: str | None, rids: list[str]) -> dict[str, Any]:
    return services.documents_at(commit_id, rids[:MAX_CARDS]) if commit_id and rids else {}


def short_ref(ref: str) -> str:
    """A ref as a label: a full commit id shortened to 12 characters."""
    if len(ref) > 16 and all(c in "0123456789abcdef" for c in ref.lower()):
        return ref[:12]
    return ref


def change_summary(cards: list[dict]) -> dict[str, int]:
    out = {"added": 0, "modified": 0, "renamed": 0, "removed": 0}
    for card in cards:
        out[card["change"]] = out.get(card["change"], 0) + 1
    return out


def conflict_groups(conflicts: list[dict], stored: Mapping[str, Any]) -> list[dict]:
    """The dry run's conflicts by severity (most urgent first), ready for the template."""
    groups = []
    for severity, label, hint in SEVERITIES:
        items = []
        for c in conflicts:
            if c["severity"] != severity:
                continue
            resolution = c.get("resolution") or {}
            chosen = (stored or {}).get(c["id"]) or {}
            shown = {side: as_json(c[side]) for side in ("base", "ours", "theirs")}
            items.append(
                {
                    **c,
                    "where": " › ".join(p for p in map(str, c["path"]) if not _RID.match(p))
                    or "(whole entity)",
                    "base_json": shown["base"],
                    "ours_json": shown["ours"],
                    "theirs_json": shown["theirs"],
                    "proposed_text": _resolution_text(c.get("proposed")),
                    "resolution_text": _resolution_text(resolution),
                    "chosen": chosen.get("choice") or "",
                    "chosen_by": chosen.get("by") or "",
                    "edit_json": json.dumps(
                        _editable(c, resolution), indent=2, ensure_ascii=False, sort_keys=True
                    ),
                    "collapsed": severity == "INFO"
                    or max(map(len, shown.values())) > COLLAPSE_CHARS,
                }
            )
        if items:
            groups.append({"severity": severity, "label": label, "hint": hint, "items": items})
    return groups


def _editable(conflict: Mapping[str, Any], resolution: Mapping[str, Any]) -> Any:
    """What the edit box starts with: the stored edited value, else the strategy's
    proposal, else theirs (the source's value)."""
    if resolution.get("choice") == "value":
        return resolution.get("value")
    proposed = conflict.get("proposed") or {}
    if proposed.get("choice") == "value":
        return proposed.get("value")
    if proposed.get("choice") == "ours":
        return conflict["ours"]
    return conflict["theirs"]


def _resolution_text(resolution: Mapping[str, Any] | None) -> str:
    if not resolution:
        return ""
    choice = resolution.get("choice")
    if choice == "ours":
        return "ours (keep the target's value)"
    if choice == "theirs":
        return "theirs (take the source's value)"
    return f"edited value {as_json(resolution.get('value'))}"


def merge_blockers(run: Mapping[str, Any]) -> list[str]:
    """Why the merge button is disabled, in the steward's words."""
    out = []
    unresolved = [c for c in run["conflicts"] if not c["resolved"]]
    blocks = sum(1 for c in unresolved if c["severity"] == "BLOCK")
    if blocks:
        out.append(f"{blocks} blocking conflict(s) must be fixed on a branch")
    if len(unresolved) > blocks:
        out.append(f"{len(unresolved) - blocks} conflict(s) need a decision")
    if run["needsApproval"]:
        out.append("the target is protected: it needs an approval by someone other than the author")
    if run["upToDate"]:
        out.append("the target already has every commit of the source")
    if run.get("status") not in Proposal.ACTIVE:
        out.append(f"the proposal is {run.get('status')}")
    return out
