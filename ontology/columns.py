"""The columns' own rules over row values, without a model instance per row.

:func:`column_errors` checks values by attribute name as a model's ``clean_fields``
checks an instance's (Django's field validation: blank, null, choices, length, the range
of an integer column, a boolean's type), plus what the database refuses in a text or a
JSON value (a NUL character). A value a cheap test finds plainly valid (a short text
among the choices, an integer in range, a ``True``) is not handed to Django; any other
is, and Django's messages are the errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models

Test = Callable[[Any], bool]

_NUL = validators.ProhibitNullCharactersValidator()


def _is_short_text(field: models.Field) -> Test | None:
    if not all(isinstance(v, validators.MaxLengthValidator) for v in field.validators):
        return None
    limit = field.max_length or float("inf")
    allowed = {str(c) for c, _ in field.flatchoices} if field.choices else None
    blank = field.blank

    def test(value: Any) -> bool:
        return (
            type(value) is str
            and (blank or value != "")
            and len(value) <= limit
            and "\x00" not in value
            and (allowed is None or value in allowed)
        )

    return test


def _is_integer(field: models.Field) -> Test | None:
    low, high = float("-inf"), float("inf")
    for v in field.validators:
        if isinstance(v, validators.MinValueValidator):
            low = max(low, v.limit_value)
        elif isinstance(v, validators.MaxValueValidator):
            high = min(high, v.limit_value)
        else:
            return None
    return lambda value: type(value) is int and low <= value <= high


def _is_texts(field: models.Field) -> Test | None:
    if field.validators:
        return None
    return lambda value: (
        type(value) is list and all(type(x) is str and "\x00" not in x for x in value)
    )


def _refuse_nul(field: models.Field, value: Any) -> None:
    """What the database refuses although the field takes it: a NUL character in a text
    (a model's text fields have no validator for it) or in a JSON value's text."""
    if isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
        _NUL(value)
    elif isinstance(field, models.JSONField):
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                _NUL(item)
            elif isinstance(item, dict):
                stack.extend([*item, *item.values()])
            elif isinstance(item, (list, tuple)):
                stack.extend(item)


@cache
def _tests(model: type[models.Model]) -> dict[str, tuple[models.Field, Test | None]]:
    """attribute name -> (field, the cheap test of a plainly valid value, if any)."""
    out: dict[str, tuple[models.Field, Test | None]] = {}
    for field in model._meta.concrete_fields:
        if field.is_relation or field.primary_key:
            continue  # references are the rule set's (documents name rids)
        internal = field.get_internal_type()
        test: Test | None = None
        if internal in ("CharField", "TextField"):
            test = _is_short_text(field)
        elif field.choices is not None:
            test = None
        elif internal == "BooleanField" and not field.validators:
            test = lambda value: type(value) is bool  # noqa: E731
        elif internal.endswith("IntegerField"):
            test = _is_integer(field)
        elif internal == "JSONField":
            test = _is_texts(field)
        elif internal == "DateField" and field.null and not field.validators:
            test = lambda value: value is None or type(value) is dt.date  # noqa: E731
        out[field.attname] = (field, test)
    return out


def column_errors(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The errors of ``values`` (attribute name -> value; names that are no column of
    ``model`` are not checked) by field name, as ``clean_fields`` reports them."""
    tests = _tests(model)
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        field, test = tests.get(name, (None, None))
        if field is None or (test is not None and test(value)):
            continue
        if field.blank and value in field.empty_values:
            continue
        try:
            field.clean(value, None)
            _refuse_nul(field, value)
        except ValidationError as exc:
            errors[field.name] = exc.messages
    return errors
