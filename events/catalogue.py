"""Event types owned by the events app itself (delivery events)."""

from __future__ import annotations

from .registry import register_event_type
from .services import DEAD_LETTERED, DISCARDED, REQUEUED

_REF = {
    "type": "object",
    "required": ["eventId", "eventType", "sink"],
    "properties": {
        "eventId": {"type": "string", "format": "uuid"},
        "eventType": {"type": "string"},
        "sink": {"type": "string"},
        "actor": {"type": ["string", "null"]},
    },
}


def register_delivery_types() -> None:
    register_event_type(
        DEAD_LETTERED,
        schema={
            **_REF,
            "required": [*_REF["required"], "reason", "error", "attempts"],
            "properties": {
                **_REF["properties"],
                "reason": {"enum": ["poison", "exhausted"]},
                "error": {"type": "string"},
                "attempts": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
        description="A delivery of an event to a sink was moved to the dead-letter table "
        "(poison: non-retryable failure; exhausted: retries used up).",
    )
    register_event_type(
        REQUEUED,
        schema={**_REF, "additionalProperties": False},
        description="A steward requeued a dead or discarded delivery.",
    )
    register_event_type(
        DISCARDED,
        schema={**_REF, "additionalProperties": False},
        description="A steward discarded a pending or dead delivery; it will not be sent.",
    )
