"""The ontology's entries in the event catalogue (registered from ``AppConfig.ready``)."""

from __future__ import annotations

from events.registry import register_event_type

KINDS = {
    "object_type": "object type (with its properties)",
    "link_type": "link type",
    "value_type": "value type",
    "struct_type": "struct type (with its fields)",
    "shared_property": "shared property",
    "interface": "interface (with its link constraints)",
}

_FIELDS = {"type": ["object", "null"], "additionalProperties": True}

CHANGE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["branch", "kind", "rid", "apiName", "before", "after"],
    "properties": {
        "branch": {"type": "string", "description": "Branch the change was made on."},
        "kind": {"type": "string", "description": "Document kind, e.g. objectType."},
        "rid": {"type": "string", "format": "uuid", "description": "Stable id of the entity."},
        "apiName": {"type": "string"},
        "actor": {"type": ["string", "null"], "description": "Username of the steward."},
        "before": {
            **_FIELDS,
            "description": "Changed fields before the change (whole document on delete; "
            "null on create).",
        },
        "after": {
            **_FIELDS,
            "description": "Changed fields after the change (whole document on create; "
            "null on delete).",
        },
    },
    "additionalProperties": False,
}


def register() -> None:
    for entity, label in KINDS.items():
        for action in ("created", "updated", "deleted"):
            register_event_type(
                f"com.oms.ontology.{entity}.{action}.v1",
                schema=CHANGE_SCHEMA,
                description=f"A {label} was {action} on a branch's working copy.",
            )

    from .deprecation import DEPRECATION_OVERDUE

    register_event_type(
        DEPRECATION_OVERDUE,
        schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["branch", "count", "items", "truncated"],
            "properties": {
                "branch": {"type": "string"},
                "count": {"type": "integer", "minimum": 1},
                "items": {"type": "array", "items": {"type": "object"}},
                "truncated": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        description="Deprecated entities and properties of a protected branch past their "
        "deadline (the daily ontology.report_overdue_deprecations task): items lists them, "
        "at most 500, most overdue first.",
    )
