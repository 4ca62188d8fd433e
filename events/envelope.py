"""OutboxEvent rows -> CloudEvents 1.0 (official SDK), upcast to the current version."""

from __future__ import annotations

from datetime import datetime
from json import JSONEncoder, dumps
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from . import conf, registry
from .models import OutboxEvent

FORMAT = JSONFormat()
CONTENT_TYPE = FORMAT.get_content_type()
CONTENT_TYPE_JSON = "application/json"


class _Encoder(JSONEncoder):
    """Datetimes as the SDK's JSON format writes them (RFC 3339, ``Z`` for UTC)."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime):
            text = obj.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(obj)


def dataschema_url(type: str) -> str:
    return f"{conf.public_url()}/api/v1/events/schemas/{type}"


def to_cloudevent(event: OutboxEvent) -> CloudEvent:
    """The event as consumers see it: upcast, with branch/commit/sequence extensions."""
    return CloudEvent(*_attributes_and_data(event))


def _attributes_and_data(event: OutboxEvent, upcast: bool = True) -> tuple[dict[str, Any], Any]:
    type, data = registry.upcast(event.type, event.data) if upcast else (event.type, event.data)
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
    return attributes, data


def to_json_bytes(event: OutboxEvent, *, upcast: bool = True) -> bytes:
    """Structured-mode CloudEvents JSON: the bytes of the SDK's ``FORMAT.write`` (tested
    against it), written without building a ``CloudEvent`` for the usual case of JSON data,
    which would only re-validate attributes checked when the event was published (and
    costs about as much as the rest of the serialisation). ``upcast=False``: the event as
    stored (its size when published)."""
    attributes, data = _attributes_and_data(event, upcast)
    if attributes["datacontenttype"] != CONTENT_TYPE_JSON or not isinstance(data, dict):
        return FORMAT.write(CloudEvent(attributes, data))
    attributes["data"] = data
    return dumps(attributes, cls=_Encoder).encode("utf-8")


def to_dict(event: OutboxEvent) -> dict[str, Any]:
    import json

    return json.loads(to_json_bytes(event))
