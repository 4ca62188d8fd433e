"""Deprecations past their deadline, on protected branches.

The removal side of the lifecycle (no removal without an earlier deprecation) is a rule
of ``ontology/compat_policy.py``; this module lists what stayed deprecated past its
deadline, for the daily task (``ontology.report_overdue_deprecations``: an event per
branch), the metric (read at scrape time, ``ontology/metrics.py``), the admin's *Overdue
deprecations* page and the admin home's panel of the selected branch.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Model, QuerySet
from django.utils import timezone

import events

from .choices import Status
from .compatibility import KIND_WORDS
from .kinds import TOP_LEVEL
from .models import Property

DEPRECATION_OVERDUE = "com.oms.ontology.deprecation.overdue.v1"
_EVENT_ITEMS = 500


#: the models with a deprecation lifecycle: every top-level kind, and properties
MODELS = (*(kind.model for kind in TOP_LEVEL), Property)


def _overdue_rows(model: type[Model], today: date, branch: Any = None) -> QuerySet:
    """The rule: DEPRECATED with a deadline before ``today``, on ``branch`` or else on
    every protected, active branch."""
    where: dict[str, Any] = (
        {"branch__protected": True, "branch__archived": False}
        if branch is None
        else {"branch": branch}
    )
    return model._default_manager.filter(
        **where, status=Status.DEPRECATED, deprecation_deadline__lt=today
    )


def counts(today: date | None = None) -> dict[str, int]:
    """How many are overdue per protected, active branch (the metric, read at scrape
    time: one grouped count per model)."""
    today = today or timezone.now().date()
    out: dict[str, int] = {}
    for model in MODELS:
        rows = _overdue_rows(model, today).values("branch__name").annotate(n=Count("pk"))
        for row in rows.order_by():
            out[row["branch__name"]] = out.get(row["branch__name"], 0) + row["n"]
    return out


def overdue(
    today: date | None = None, *, branch: Any = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Every entity or property DEPRECATED with a deadline before ``today``, most overdue
    first: of every protected, active branch, or of ``branch`` alone (the admin home's
    panel of the selected branch). ``limit``: at most that many (per kind read, then
    overall). Each item also carries the row's ``pk`` and its ``entityKind`` (the kinds'
    name, ``property`` for a property), for links."""
    today = today or timezone.now().date()
    found = []
    for model in MODELS:
        rows = _overdue_rows(model, today, branch).order_by("deprecation_deadline")
        fields = [
            "pk",
            "rid",
            "api_name",
            "deprecation_deadline",
            "deprecation_message",
            "branch__name",
        ]
        if model is Property:
            fields.append("object_type__api_name")
        for row in rows.values(*fields)[:limit]:
            entity = row["api_name"]
            if model is Property:
                entity = f"{row['object_type__api_name']}.{entity}"
            found.append(
                {
                    "branch": row["branch__name"],
                    "kind": "property" if model is Property else KIND_WORDS[model.kind],
                    "entityKind": "property" if model is Property else model.kind,
                    "pk": row["pk"],
                    "rid": str(row["rid"]),
                    "entity": entity,
                    "deadline": row["deprecation_deadline"].isoformat(),
                    "daysOverdue": (today - row["deprecation_deadline"]).days,
                    "message": row["deprecation_message"],
                }
            )
    found.sort(key=lambda item: (-item["daysOverdue"], item["branch"], item["entity"]))
    return found[:limit]


def report(today: date | None = None) -> list[dict[str, Any]]:
    """Publish one event per branch with overdue items (the gauge is read at scrape time,
    ``ontology/metrics.py``)."""
    items = overdue(today)
    by_branch: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_branch.setdefault(item["branch"], []).append(item)
    for branch, rows in by_branch.items():
        found = [{k: v for k, v in item.items() if k != "pk"} for item in rows]
        events.publish(
            DEPRECATION_OVERDUE,
            f"branches/{branch}/deprecations",
            {
                "branch": branch,
                "count": len(found),
                "items": found[:_EVENT_ITEMS],
                "truncated": len(found) > _EVENT_ITEMS,
            },
            branch=branch,
        )
    return items
