"""The grammar of branch names, in the spirit of ``git check-ref-format``.

A name is a ``/``-separated path of segments. Clients, proxies and browsers normalise
paths (``a/../main`` -> ``main``, ``a//b`` -> ``a/b``), so a name they would rewrite would
let URLs, and the ``next`` links of a page, point into another branch. Refused:

- an empty segment (``a//b``, a leading or trailing ``/``), a segment ``.`` or ``..``, a
  segment starting with ``.`` or ending with ``.lock``, ``..`` anywhere;
- control characters, space and ``~ ^ : ? * [ \\ @{`` (and anything outside letters,
  digits, ``. _ - /``), a trailing ``.``;
- the reserved prefix ``refs/`` and the names ``HEAD`` and ``@``;
- a segment that is one of the API's route segments (``object-types``, ``commits``...);
- more than 100 characters, or a first character other than a letter or digit.

:func:`validate_branch_name` is the one check: the model field runs it (so the admin form
and ``full_clean`` in ``create_branch`` do), and through them the API.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MAX_LENGTH = 100
ALLOWED = re.compile(r"[A-Za-z0-9._/-]*")
RESERVED_PREFIXES = ("refs/",)
RESERVED_NAMES = frozenset({"HEAD", "@"})


def branch_name_errors(name: str, reserved_segments: frozenset[str] = frozenset()) -> list[str]:
    """Why ``name`` is not a branch name (empty when it is one)."""
    if not name:
        return ["A branch needs a name."]
    if len(name) > MAX_LENGTH:
        return [f"A branch name has at most {MAX_LENGTH} characters."]
    if not ALLOWED.fullmatch(name) or not name[0].isascii() or not name[0].isalnum():
        return [
            "Branch names use letters, digits, '.', '_', '-' and '/', starting with a "
            "letter or digit (at most 100 characters)."
        ]
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        return [f"'{name}' is reserved (git's 'refs/' namespace, HEAD)."]
    segments = name.split("/")
    if "" in segments:
        return ["A branch name has no empty segment: no '//' and no '/' at either end."]
    for segment in segments:
        if segment in (".", ".."):
            return [f"A branch name has no '{segment}' segment."]
        if segment.startswith("."):
            return [f"A segment of a branch name cannot start with '.' ('{segment}')."]
        if segment.endswith(".lock"):
            return [f"A segment of a branch name cannot end with '.lock' ('{segment}')."]
    if ".." in name:
        return ["A branch name cannot contain '..'."]
    if name.endswith("."):
        return ["A branch name cannot end with '.'."]
    reserved = sorted(set(segments) & reserved_segments)
    if reserved:
        return [f"Branch names cannot contain the segment '{reserved[0]}' (an API route)."]
    return []


def validate_branch_name(name: str, reserved_segments: frozenset[str] = frozenset()) -> None:
    """Raise a ``ValidationError`` when ``name`` is not a branch name."""
    errors = branch_name_errors(name, reserved_segments)
    if errors:
        raise ValidationError(errors[0], code="invalid")
