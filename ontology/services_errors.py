"""How the services name what they refuse: a row's taken name, a child by its place.

The rules themselves are the rule set's (:mod:`ontology.rule_set`) and the rows' own
(``clean()``); these helpers only put a refusal under the path its caller knows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models


def prefixed(error: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return ValidationError({prefix: error.messages})
    out = {}
    for name, errs in error.error_dict.items():
        key = prefix if name == NON_FIELD_ERRORS else f"{prefix}.{name}"
        out[key] = errs
    return ValidationError(out)


def _unique_name_index(row: models.Model, exc: IntegrityError) -> bool:
    """Whether ``exc`` is the refusal of one of ``row``'s api-name unique indexes."""
    names = {c.name for c in row._meta.constraints if c.name.endswith("_api_name")}
    found = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    return found in names if found else any(name in str(exc) for name in names)


def write_row(row: models.Model, **kwargs: Any) -> None:
    """Save ``row``. A taken api name (case-insensitively, per branch or per parent) is
    refused by the rows' unique index as the row is written, before the rule set reads the
    documents (its ``unique-name``): reported on ``api_name`` as a duplicate (409). The
    failed statement is undone with the service's transaction (or savepoint)."""
    try:
        row.save(**kwargs)
    except IntegrityError as exc:
        if not _unique_name_index(row, exc):
            raise
        raise ValidationError(
            {
                "api_name": ValidationError(
                    f"The API name '{row.api_name}' is already used by another "
                    f"{row._meta.verbose_name} on this branch.",
                    code="duplicate",
                )
            }
        ) from None


@contextlib.contextmanager
def by_place(lists: dict[str, list[models.Model] | None]) -> Iterator[None]:
    """A refusal of the rule set about an entry of a list the caller gave (the API's
    body: children, interfaces) names it by its place in that list, as every other error
    about the list does: ``properties.<rid>.apiName`` -> ``properties.1.apiName`` (a new
    child's rid was made here), ``interfaces.<rid>`` -> ``interfaces.0``. ``lists``: the
    document key -> the rows in the caller's order (``None``: not given). Other paths,
    and a change set's refusal (raised when it closes), keep theirs."""
    try:
        yield
    except ValidationError as exc:
        places = {
            f"{key}.{row.rid}": f"{key}.{index}"
            for key, rows in lists.items()
            for index, row in enumerate(rows or ())
        }
        if not places or not hasattr(exc, "error_dict"):
            raise
        errors = {}
        for path, errs in exc.error_dict.items():
            head, _, rest = path.partition(".")
            rid, _, tail = rest.partition(".")
            place = places.get(f"{head}.{rid}")
            errors[path if place is None else ".".join(filter(None, (place, tail)))] = errs
        raise ValidationError(errors) from None
