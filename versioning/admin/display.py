"""What the versioning admin pages show: documents side by side, entity change cards,
conflicts grouped by severity, and why a proposal cannot merge yet. Plain data for the
templates in ``templates/admin/versioning/``; no requests, no writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode

from .. import services
from ..domain.diff import EntityChange, TreeDiff
from ..models import Proposal

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


# --- an entity's own page (the ontology knows where its rows are) ---------------------------

_entity_urls: list[Callable[[str, list[str]], dict[str, str]]] = []


def register_entity_urls(urls_of: Callable[[str, list[str]], dict[str, str]]) -> None:
    """``urls_of(branch_name, rids) -> {rid: admin URL}`` of the entities that exist on the
    branch; change cards link to them."""
    if urls_of not in _entity_urls:
        _entity_urls.append(urls_of)


def entity_urls(branch_name: str, rids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for urls_of in _entity_urls:
        out.update(urls_of(branch_name, rids))
    return out


# --- showing documents side by side ---------------------------------------------------------


#: what each kind of conflict means, in a steward's words
CONFLICT_WORDS = {
    "modify_modify": "changed on both sides",
    "delete_modify": "removed on one side, changed on the other",
    "add_add": "added on both sides",
    "rename_collision": "two entities take the same name",
    "dangling_reference": "refers to something the other side removed",
    "rule_violation": "the merged result breaks a rule",
}


def words(code: str) -> str:
    """An internal code in plain words: ``objectType`` -> ``object type``,
    ``MIGRATION_REQUIRED`` -> ``migration required``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", code).replace("_", " ").lower()


def as_json(value: Any) -> str:
    """A value as a steward reads it: JSON, indented for dicts and lists."""
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def as_label(value: Any) -> str:
    """A simple value as a steward reads it (``long``, ``true``, ``3``); JSON otherwise."""
    if isinstance(value, str) and value and "\n" not in value:
        return value
    return as_json(value)


def _flatten(doc: Any, path: tuple, label: tuple, out: dict) -> None:
    if isinstance(doc, dict) and doc:
        for key, value in doc.items():
            name = value.get("apiName") if isinstance(value, dict) else None
            if name and _RID.match(str(key)):
                # a child entity (a property, a field, ...) is one entry: added or
                # removed whole it becomes one summary row, changed it is compared field
                # by field (see side_by_side)
                out[(*path, key)] = ((*label, str(name)), _Child(value))
            else:
                _flatten(value, (*path, key), (*label, str(name or key)), out)
    else:
        out[path] = (label, doc)


class _Child(dict):
    """A child entity's document inside its parent's, kept whole by ``flatten``."""


def _child_summary(doc: Mapping[str, Any]) -> str:
    """An added or removed child in one line: its simple fields as ``key: value``."""
    parts = [
        f"{key}: {as_label(value)}"
        for key, value in sorted(doc.items())
        if key != "apiName" and value not in (None, "", [], {}) and not isinstance(value, dict)
    ]
    return ", ".join(parts) or "(no fields)"


def path_label(path: Iterable[Any], doc: Mapping[str, Any] | None = None) -> str:
    """A conflict's path in names: a child keyed by rid is named by its ``apiName`` when
    ``doc`` (the entity's document) has it, and left out otherwise."""
    names, node = [], doc
    for part in map(str, path):
        child = node.get(part) if isinstance(node, Mapping) else None
        if _RID.match(part):
            name = child.get("apiName") if isinstance(child, Mapping) else None
            if name:
                names.append(str(name))
        else:
            names.append(part)
        node = child
    return " › ".join(names)


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
    _expand_changed_children(a, b)
    rows = []
    for key in sorted(a.keys() | b.keys(), key=lambda k: ((a.get(k) or b.get(k))[0], k)):
        label, before = a.get(key, (None, None))
        label_b, after = b.get(key, (None, None))
        if isinstance(before, _Child) or isinstance(after, _Child):
            state = "added" if key not in a else "removed"
            rows.append(
                {
                    "label": " › ".join(label or label_b),
                    "summary": f"{state}: {_child_summary(before or after)}",
                    "state": state,
                }
            )
            continue
        if key not in a:
            state = "added"
        elif key not in b:
            state = "removed"
        else:
            state = "same" if before == after else "modified"
        rows.append(
            {
                "label": " › ".join(label or label_b),
                "old": as_label(before) if key in a else "",
                "new": as_label(after) if key in b else "",
                "state": state,
            }
        )
    return rows


def _expand_changed_children(a: dict, b: dict) -> None:
    """A child present on both sides is compared field by field: flatten it in place (and
    so its own children, level by level)."""
    while both := [
        key
        for key in a.keys() & b.keys()
        if isinstance(a[key][1], _Child) and isinstance(b[key][1], _Child)
    ]:
        for key in both:
            (label_a, old), (label_b, new) = a.pop(key), b.pop(key)
            _flatten(dict(old), key, label_a, a)
            _flatten(dict(new), key, label_b, b)


def entity_cards(
    diff: TreeDiff | Iterable[EntityChange | dict],
    old_docs: Mapping[str, Any],
    new_docs: Mapping[str, Any],
    *,
    ref: str | None = None,
    branch: str | None = None,
) -> list[dict]:
    """One card per entity change: what changed and the two documents side by side; with
    ``ref``, a link to the entity's history up to it; with ``branch``, a link to the
    entity's page there (when it exists on that branch)."""
    changes = diff.changes if isinstance(diff, TreeDiff) else list(diff)
    items = [c.to_dict() if isinstance(c, EntityChange) else c for c in changes]
    pages = entity_urls(branch, [i["rid"] for i in items[:MAX_CARDS]]) if branch else {}
    history = reverse("admin:versioning_history")
    cards = []
    for item in items:
        rid = item["rid"]
        card = {
            **item,
            "entity_url": pages.get(rid, ""),
            "history_url": f"{history}?{urlencode({'ref': ref, 'rid': rid})}" if ref else "",
            "entity_kind_text": words(item.get("entityKind") or ""),
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


def conflict_groups(
    conflicts: list[dict], stored: Mapping[str, Any], docs: Mapping[str, Any] | None = None
) -> list[dict]:
    """The dry run's conflicts by severity (most urgent first), ready for the template;
    ``docs`` (rid -> document) name the children on each conflict's path."""
    groups = []
    for severity, label, hint in SEVERITIES:
        items = []
        for c in conflicts:
            if c["severity"] != severity:
                continue
            resolution = c.get("resolution") or {}
            chosen = (stored or {}).get(c["id"]) or {}
            # simple values as labels (long, true, Main name); the edit box stays JSON
            shown = {side: as_label(c[side]) for side in ("base", "ours", "theirs")}
            items.append(
                {
                    **c,
                    "where": path_label(c["path"], (docs or {}).get(c["rid"])) or "(whole entity)",
                    "entity_kind_text": words(c.get("entityKind") or ""),
                    "kind_text": CONFLICT_WORDS.get(c["kind"], words(c["kind"])),
                    "base_json": shown["base"],
                    "ours_json": shown["ours"],
                    "theirs_json": shown["theirs"],
                    "proposed_text": _proposed_text(c.get("proposed")),
                    "resolution_text": _resolution_text(resolution, by_strategy=not chosen),
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


def _resolution_text(resolution: Mapping[str, Any] | None, *, by_strategy: bool = False) -> str:
    """How a conflict is settled, in words: a steward's choice or the strategy's value."""
    if not resolution:
        return ""
    choice = resolution.get("choice")
    if choice == "ours":
        return "ours (keep the target's value)"
    if choice == "theirs":
        return "theirs (take the source's value)"
    what = "the strategy's value" if by_strategy else "edited value"
    return f"{what}: {as_label(resolution.get('value'))}"


def _proposed_text(proposed: Mapping[str, Any] | None) -> str:
    """The strategy's result in its column: the merged value itself, or which side."""
    if not proposed:
        return ""
    if proposed.get("choice") == "value":
        return as_label(proposed.get("value"))
    return _resolution_text(proposed)


def conflict_label(conflict: Mapping[str, Any], doc: Mapping[str, Any] | None = None) -> str:
    """A conflict in a message: ``Flight › properties › seats › baseType``."""
    where = path_label(conflict.get("path") or [], doc)
    name = conflict.get("apiName") or conflict.get("entityKind") or "entity"
    return f"{name} › {where}" if where else str(name)


def merge_blockers(run: Mapping[str, Any]) -> list[str]:
    """Why the merge button is disabled, in the steward's words."""
    out = []
    unresolved = [c for c in run["conflicts"] if not c["resolved"]]
    blocks = sum(1 for c in unresolved if c["severity"] == "BLOCK")
    if blocks:
        out.append(f"{blocks} blocking conflict(s) must be fixed on a branch")
    if len(unresolved) > blocks:
        out.append(f"{len(unresolved) - blocks} conflict(s) need a decision")
    findings = (run.get("compatibility") or {}).get("findings") or []
    if findings:
        mode = run["compatibility"]["mode"]
        out.append(
            f"{len(findings)} compatibility finding(s) under {mode}: fix them on a branch, or "
            "merge with the compatibility override"
        )
    if run["needsApproval"]:
        out.append("the target is protected: it needs an approval by someone other than the author")
    waiting = run.get("changesRequested") or []
    if waiting:
        out.append(f"{', '.join(waiting)} requested changes and must approve")
    if run["upToDate"]:
        out.append("the target already has every commit of the source")
    if run.get("status") not in Proposal.ACTIVE:
        out.append(f"the proposal is {run.get('status')}")
    return out
