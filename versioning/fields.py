"""Model fields of the store."""

from __future__ import annotations

import json
import re

import orjson
from django.db import models
from django.db.models.fields.json import KeyTransform

# orjson reads an integer beyond 64 bits as a float (10**30 -> 1e30), which would change
# the document and its hash; any run of 19+ digits is left to the standard library.
_LONG_DIGITS = re.compile(r"\d{19,}")


class DocumentField(models.JSONField):
    """A JSON document decoded with orjson: a diff or merge reads blobs by the hundred.

    What orjson would read differently (long integers) or refuses (NaN) is decoded by the
    standard library, so every stored document reads back exactly as with JSONField.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        if isinstance(expression, KeyTransform) and not isinstance(value, str):
            return value
        if isinstance(value, str) and not _LONG_DIGITS.search(value):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
