"""OutboxEvent rows -> CloudEvents 1.0 (official SDK), upcast to the current version."""

from __future__ import annotations

from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from . import conf, registry
from .models import OutboxEvent

FORMAT = JSONFormat()
CONTENT_TYPE = FORMAT.get_content_type()


def dataschema_url(type: str) -> str:
    return f"{conf.public_url()}/api/v1/events/schemas/{type}"


def to_cloudevent(event: OutboxEvent) -> CloudEvent:
    """The event as consumers see it: upcast, with branch/commit/sequence extensions."""
    type, data = registry.upcast(event.type, event.data)
    attributes: dict[str, Any] = {
        "id": str(event.id),
        "source": event.source,
        "type": type,
        "specversion": event.specversion,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": event.datacontenttype,
        "dataschema": dataschema_url(type) if type != event.type else event.dataschema,
    }
    if not attributes["dataschema"]:
        del attributes["dataschema"]
    if event.branch:
        attributes["branch"] = event.branch
    if event.commit:
        attributes["commit"] = event.commit
    if event.position is not None:
        attributes["sequence"] = str(event.position)
    return CloudEvent(attributes, data)


def to_json_bytes(event: OutboxEvent) -> bytes:
    """Structured-mode CloudEvents JSON."""
    return FORMAT.write(to_cloudevent(event))


def to_dict(event: OutboxEvent) -> dict[str, Any]:
    import json

    return json.loads(to_json_bytes(event))
