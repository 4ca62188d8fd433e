"""Remembered resolutions: a conflict resolved once is resolved the same way again.

A conflict is identified by its id (``rid:path``) and its three values (base, ours,
theirs) in a proposal's orientation (*ours* = the target's side). When a steward resolves
one (:func:`remember`, called by ``resolve``), the choice is kept; when the same conflict
comes back — after an update from the target, in a re-opened or a new proposal — and the
proposal has no choice of its own for it, the remembered one applies
(:func:`with_memory`), shown as "resolved as before by X on DATE". A choice stored on the
proposal always wins, so a steward overrides a remembered one by resolving again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from .domain.merge import Conflict
from .domain.policy import Resolution, Severity
from .models import RememberedResolution

_FLIP = {"ours": "theirs", "theirs": "ours"}
REMEMBERED = (Severity.ERROR, Severity.WARN)


def fingerprint(conflict: Conflict | Mapping[str, Any], *, flip: bool = False) -> str:
    """SHA-256 of the conflict's id and values; ``flip``: the conflict comes from a merge
    the other way round (update from target), so ours and theirs are swapped first."""
    if isinstance(conflict, Conflict):
        cid, base, ours, theirs = conflict.id, conflict.base, conflict.ours, conflict.theirs
    else:
        cid, base = conflict["id"], conflict["base"]
        ours, theirs = conflict["ours"], conflict["theirs"]
    if flip:
        ours, theirs = theirs, ours
    raw = json.dumps([cid, base, ours, theirs], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def remember(
    conflict: Conflict, choice: str | None, value: Any, user: Any, proposal_id: int | None
) -> None:
    """Keep (or, ``choice=None``, forget) the choice for this conflict."""
    key = fingerprint(conflict)
    if choice is None:
        RememberedResolution.objects.filter(key=key).delete()
        return
    RememberedResolution.objects.update_or_create(
        key=key,
        defaults={
            "conflict_id": conflict.id,
            "choice": choice,
            "value": value if choice == "value" else None,
            "by_name": getattr(user, "username", "") or "",
            "at": timezone.now(),
            "proposal_id": proposal_id,
        },
    )


def note(by: str, at: datetime) -> str:
    return f"resolved as before by {by or 'system'} on {at.date().isoformat()}"


def with_memory(
    run: Callable[[Mapping[str, Resolution]], Any],
    stored: Mapping[str, Resolution],
    *,
    flip: bool = False,
) -> tuple[Any, dict[str, dict[str, Any]]]:
    """Run the merge ``run(resolutions)`` with the proposal's ``stored`` choices; when
    conflicts it leaves to a steward were resolved before, run it again with those.

    Returns the merge and ``conflict id -> {"choice", "by", "at", "note"}`` of the
    remembered resolutions applied."""
    merge = run(stored)
    open_ = [c for c in merge.result.conflicts if c.severity in REMEMBERED and c.id not in stored]
    if not open_:
        return merge, {}
    keys = {fingerprint(c, flip=flip): c for c in open_}
    found = RememberedResolution.objects.filter(key__in=list(keys))
    recalled: dict[str, Resolution] = {}
    applied: dict[str, dict[str, Any]] = {}
    for row in found:
        conflict = keys[row.key]
        choice = _FLIP.get(row.choice, row.choice) if flip else row.choice
        recalled[conflict.id] = Resolution(choice, row.value)
        applied[conflict.id] = {
            "choice": row.choice,
            "by": row.by_name or None,
            "at": row.at.isoformat(),
            "note": note(row.by_name, row.at),
        }
    if not recalled:
        return merge, {}
    return run({**stored, **recalled}), applied


def annotate(conflicts: list[dict[str, Any]], applied: Mapping[str, dict[str, Any]]) -> None:
    """Mark each conflict dict of a dry run with its remembered resolution (or ``None``)."""
    for conflict in conflicts:
        conflict["remembered"] = applied.get(conflict["id"])
