"""HTTP conditional requests for single entities (RFC 9110 §13).

A representation's entity tag is a hash of its JSON, so it changes whenever anything a
consumer sees changes (a property, a key, an interface), whoever changed it: the API, the
admin, a merge. A consumer sends it back:

- ``If-None-Match`` on ``GET``: ``304 Not Modified`` when nothing changed (cheap polling);
- ``If-Match`` on ``PUT``/``PATCH``/``DELETE``: the write happens only if the entity is still
  what the consumer last read; otherwise ``412 Precondition Failed`` and nothing is written
  (no lost update when two stewards edit the same entity).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


class PreconditionFailed(Exception):
    http_status = 412
    code = "precondition_failed"
    field = "If-Match"


def entity_tag(data: Any) -> str:
    """A strong entity tag of a representation: the hash of its canonical JSON."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def has_if_match(request) -> bool:
    return bool(request.headers.get("If-Match", "").strip())


def require_match(request, current: str) -> None:
    """Refuse (412) unless ``If-Match`` names the current tag (or ``*``)."""
    tags = _tags(request.headers.get("If-Match", ""))
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The entity changed since you read it (If-Match does not match its current "
            f"ETag {current}); read it again and reapply your change."
        )


def none_match(request, current: str) -> bool:
    """``True`` when ``If-None-Match`` names the current tag (or ``*``): answer 304."""
    tags = _tags(request.headers.get("If-None-Match", ""))
    return "*" in tags or current in tags
