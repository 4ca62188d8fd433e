"""The REST renderer that shows protected values as the user may see them.

Rows, documents, diffs, proposals and bundles hold protected values (PII examples, owner
contacts) as tokens (:mod:`versioning.protection`); every JSON answer passes through
:func:`versioning.protection.reveal` here, at the one point all views share, so that a
holder of ``view_pii`` reads clear text and anyone else the token. A view that must stay
masked for everyone (the change feed: events always carry the masked form) sets
``reveals_pii = False``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer

from ..protection import TOKEN_PREFIX, reveal


def revealed(data: Any, renderer_context: dict[str, Any] | None) -> Any:
    context = renderer_context or {}
    request, view = context.get("request"), context.get("view")
    if request is None or not getattr(view, "reveals_pii", True):
        return data
    response = context.get("response")
    if response is not None and response.status_code >= 400:
        return data
    return reveal(data, getattr(request, "user", None))


#: how every token starts in a JSON text: a token is a whole string (``"pii:<digest>"``)
TOKEN_IN_JSON = b'"' + TOKEN_PREFIX.encode()


class RevealingJSONRenderer(JSONRenderer):
    """Renders first, then looks for a token in the text (one scan in C): an answer
    without one (nearly all) is sent as it is, without walking the data in Python."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        body = super().render(data, accepted_media_type, renderer_context)
        if TOKEN_IN_JSON not in body:
            return body
        shown = revealed(data, renderer_context)
        if shown is data:
            return body
        return super().render(shown, accepted_media_type, renderer_context)
