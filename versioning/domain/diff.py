"""Entity- and field-level diff of trees and documents, rename-aware through rids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .policy import MISSING, Path

ChangeKind = Literal["added", "removed", "modified", "renamed"]


@dataclass(frozen=True)
class FieldChange:
    """One leaf (or whole added/removed subtree) that differs; ``None`` stands for absent."""

    path: Path
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "old": self.old, "new": self.new}


@dataclass(frozen=True)
class EntityChange:
    """One top-level entity that differs. A rename is one change of kind ``renamed``."""

    rid: str
    entity_kind: str
    api_name: str
    change: ChangeKind
    old_api_name: str | None = None
    fields: list[FieldChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rid": self.rid,
            "entityKind": self.entity_kind,
            "apiName": self.api_name,
            "change": self.change,
            "oldApiName": self.old_api_name,
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class TreeDiff:
    changes: list[EntityChange]

    def to_dict(self) -> dict[str, Any]:
        return {"changes": [c.to_dict() for c in self.changes]}

    def by_rid(self) -> dict[str, EntityChange]:
        return {c.rid: c for c in self.changes}


def diff_documents(old: Any, new: Any, path: Path = ()) -> list[FieldChange]:
    """Field changes from ``old`` to ``new``, recursing into dicts (lists are leaves)."""
    out: list[FieldChange] = []
    _diff_into(old, new, path, out)
    return out


def _diff_into(old: Any, new: Any, path: Path, out: list[FieldChange]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a is MISSING or b is MISSING:
                if a is not b:
                    out.append(FieldChange((*path, key), _shown(a), _shown(b)))
            else:
                _diff_into(a, b, (*path, key), out)
        return
    out.append(FieldChange(path, _shown(old), _shown(new)))


def _shown(value: Any) -> Any:
    return None if value is MISSING else value


def diff_trees(
    old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str] | None = None
) -> TreeDiff:
    """Entity changes from ``old`` to ``new``; pass ``changed`` to look only at those rids."""
    rids = _changed_rids(old, new) if changed is None else set(changed)
    changes: list[EntityChange] = []
    for rid in sorted(rids):
        a, b = old.get(rid), new.get(rid)
        if a == b:
            continue
        if a is None:
            changes.append(EntityChange(rid, b.get("kind", ""), b.get("apiName", ""), "added"))
        elif b is None:
            changes.append(EntityChange(rid, a.get("kind", ""), a.get("apiName", ""), "removed"))
        else:
            renamed = a.get("apiName") != b.get("apiName")
            changes.append(
                EntityChange(
                    rid,
                    b.get("kind", ""),
                    b.get("apiName", ""),
                    "renamed" if renamed else "modified",
                    a.get("apiName") if renamed else None,
                    diff_documents(a, b),
                )
            )
    return TreeDiff(changes)


def _changed_rids(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    rids = {rid for rid, doc in old.items() if new.get(rid) != doc}
    rids.update(rid for rid in new if rid not in old)
    return rids
