"""Protected values: PII kept out of every table in clear (docs/documents.md, "PII").

A protected value is stored once, encrypted (:class:`versioning.models.ProtectedValue`,
MultiFernet from ``events.encryption``), under its **digest**: HMAC-SHA256 of the clear
text with a stable key (``OMS_PII_DIGEST_KEY``, else derived from ``SECRET_KEY``). Rows,
documents, blobs, diffs and events hold the **token** ``pii:<digest>`` instead of the
value. The digest is deterministic, so the same value gives the same token: documents stay
content-addressed (a random-IV ciphertext would change a document's hash on every write).

The token *is* the masked form: anyone may see it, it tells nothing but equality, and it
round-trips (a bundle exported by a user without ``view_pii`` imports back to the same
values). :func:`reveal` is the one function that turns tokens back into clear text, for a
user holding ``versioning.view_pii``; everything that shows documents to a user (the REST
renderer, the admin) calls it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

TOKEN_PREFIX = "pii:"
TOKEN_RE = re.compile(r"^pii:[0-9a-f]{64}$")
#: the permission that shows protected values in clear
VIEW_PII = "versioning.view_pii"
MASK = "•••"
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 64


def digest_key() -> bytes:
    key = getattr(settings, "OMS_PII_DIGEST_KEY", "") or ""
    if key:
        return key.encode()
    return hashlib.sha256(b"oms-pii-digest:" + settings.SECRET_KEY.encode()).digest()


def is_token(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == _TOKEN_LENGTH
        and value.startswith(TOKEN_PREFIX)
        and TOKEN_RE.match(value) is not None
    )


def token(clear: str) -> str:
    """The token of ``clear`` (nothing stored; see :func:`protect`)."""
    mac = hmac.new(digest_key(), clear.encode("utf-8"), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + mac


def protect(values: Iterable[str]) -> list[str]:
    """The values as tokens, their ciphertexts stored (a token given stays as it is)."""
    from .models import ProtectedValue

    out: list[str] = []
    new: dict[str, str] = {}
    for value in values:
        if is_token(value):
            out.append(value)
            continue
        tok = token(value)
        new[tok[len(TOKEN_PREFIX) :]] = value
        out.append(tok)
    if new:
        known = set(ProtectedValue.objects.filter(digest__in=new).values_list("digest", flat=True))
        ProtectedValue.objects.bulk_create(
            [ProtectedValue(digest=d, value=v) for d, v in new.items() if d not in known],
            ignore_conflicts=True,
        )
    return out


def unknown_tokens(values: Iterable[Any]) -> list[str]:
    """The tokens among ``values`` that name no stored value (a made-up token)."""
    from .models import ProtectedValue

    wanted = {v[len(TOKEN_PREFIX) :] for v in values if is_token(v)}
    if not wanted:
        return []
    known = set(ProtectedValue.objects.filter(digest__in=wanted).values_list("digest", flat=True))
    return sorted(TOKEN_PREFIX + d for d in wanted - known)


def may_view(user: Any) -> bool:
    """``view_pii``, read as every other permission is (:func:`versioning.grants.holds`)."""
    from .grants import holds  # as the models below: this module loads before them

    return holds(user, VIEW_PII)


def _tokens_in(data: Any, found: set[str]) -> None:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if is_token(item):
                found.add(item[len(TOKEN_PREFIX) :])
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _replaced(data: Any, clear: dict[str, str]) -> Any:
    if isinstance(data, str):
        return clear.get(data[len(TOKEN_PREFIX) :], data) if is_token(data) else data
    if isinstance(data, dict):
        return {k: _replaced(v, clear) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_replaced(v, clear) for v in data]
    return data


def reveal(data: Any, user: Any) -> Any:
    """``data`` (any JSON-like value) as ``user`` may see it: tokens resolved to clear text
    for a holder of ``view_pii``, left as they are (masked) for anyone else. Data without
    a token costs no query; with tokens, the permission and one query."""
    found: set[str] = set()
    _tokens_in(data, found)
    if not found or not may_view(user):
        return data
    from .models import ProtectedValue

    clear = dict(ProtectedValue.objects.filter(digest__in=found).values_list("digest", "value"))
    return _replaced(data, clear)
