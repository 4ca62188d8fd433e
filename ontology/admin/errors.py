"""A refusal shown on the admin form of the row it is about.

A service's or the rule set's ``ValidationError`` names model fields (``api_name``) or
document paths (``replacedBy``, ``properties.<rid>.baseType``, ``<rid>.<path>`` for one of
several entities); :func:`route_errors` finds the form of the row (the page's own, or an
inline row's) and :func:`attach_errors` the field of that form, else a non-field error
naming it: every message is shown, next to its field where the form has one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from ..exceptions import DomainError


def field_label(form: forms.BaseForm, field: str) -> str:
    """A readable name of a key the form does not show (a model field, a service's own key
    such as "fields", a rule set's document path such as "primaryKey")."""
    name = model_field(field)
    try:
        return str(form._meta.model._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # not a field of the form's model
        if "." in field:  # a path in another entity (<rid>.interfaces.<rid>): as it is
            return field[:1].upper() + field[1:]
        return name.replace("_", " ").capitalize()


def model_field(path: str) -> str:
    """The model field a rule-set error's document path (in its own entity) is about:
    ``replacedBy`` -> ``replaced_by``, ``deprecation.message`` -> ``deprecation_message``,
    ``sourceSide.apiName`` -> ``source_api_name`` (the rows' names of the documents'
    keys, docs/documents.md)."""
    parts = (re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", p).lower() for p in path.split("."))
    return "_".join(p.removesuffix("_side") for p in parts)


def _form_field(form: forms.BaseForm, key: str, aliases: dict[str, str]) -> str | None:
    """The field of ``form`` an error key names: the key itself, the model field of its
    document path, or that of the longest leading part of the path that the form shows
    (``interfaces.<rid>`` -> ``interfaces``)."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        path = ".".join(parts[:end])
        for name in (path, model_field(path)):
            for candidate in (aliases.get(name, name), name):  # the add form's, or its own
                if candidate in form.fields:
                    return candidate
    return None


def attach_errors(
    form: forms.BaseForm, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Put a ValidationError's messages on the form: on the field at fault when the form
    shows it (a model field, or the field of a rule set's document path), else as a form
    error naming the field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.error_dict.items():
        texts = [m for e in errors for m in e.messages]
        target = None if field == NON_FIELD_ERRORS else _form_field(form, field, aliases or {})
        if target is not None:
            form.add_error(target, texts)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, texts)
        else:
            form.add_error(None, [f"{field_label(form, field)}: {t}" for t in texts])


#: the form of a row of the change page: ``None`` the page's own, else an inline's
#: ``(formset prefix, index)``
FormAt = tuple[str, int] | None


def route_errors(
    error: ValidationError, rows: dict[str, FormAt]
) -> dict[FormAt, dict[str, list[str]]]:
    """A refusal's messages by the form of the row they are about. ``rows``: the rid of
    each row the page wrote -> its form. A rule-set path about a child
    (``properties.<rid>.baseType``; ``<entity rid>.`` in front when the save changed
    several entities) goes to the child's form under its path in the child
    (``baseType``, or a non-field error for the child as a whole); any other key stays
    on the page's own form, as it is. Nothing is dropped."""
    messages = (
        {NON_FIELD_ERRORS: error.messages}
        if not hasattr(error, "error_dict")
        else {key: [m for e in errs for m in e.messages] for key, errs in error.error_dict.items()}
    )
    out: dict[FormAt, dict[str, list[str]]] = {}
    for key, texts in messages.items():
        parts, target, path = key.split("."), None, key
        if len(parts) > 1 and parts[0] in rows:  # <entity rid>.<path>: one of the page's
            parts = parts[1:]
            path = ".".join(parts)
        if len(parts) > 1 and parts[1] in rows:  # <children key>.<child rid>[.<path>]
            target, path = rows[parts[1]], ".".join(parts[2:]) or NON_FIELD_ERRORS
        out.setdefault(target, {}).setdefault(path, []).extend(texts)
    return out


def as_validation_error(exc: Exception) -> ValidationError:
    if isinstance(exc, ValidationError):
        return exc
    field = getattr(exc, "field", None)
    return ValidationError({field: [str(exc)]} if field else [str(exc)])


class ServiceRejected(Exception):
    """A service refused a save after the forms validated; ``inline`` = (prefix, index)
    when the refusal is about the inline row being saved. ``rows``: the rid of each row
    the save wrote -> its form (:func:`route_errors`), set by the change view."""

    def __init__(self, error: ValidationError, inline: tuple[str, int] | None = None):
        super().__init__(str(error))
        self.error = error
        self.inline = inline
        self.rows: dict[str, FormAt] = {}

    def routed(self) -> dict[FormAt, dict[str, list[str]]]:
        if self.inline is not None:  # a row's own refusal: all of it on that row
            return {self.inline: route_errors(self.error, {}).get(None, {})}
        return route_errors(self.error, self.rows)


@contextlib.contextmanager
def rejected_as_form_errors() -> Iterator[None]:
    """A refusal raised as a change set closes (the rule set over every row the save wrote:
    a dependent it breaks, say) is shown on the form like a service's, not a 500."""
    try:
        yield
    except (ValidationError, DomainError) as exc:
        raise ServiceRejected(as_validation_error(exc)) from exc
