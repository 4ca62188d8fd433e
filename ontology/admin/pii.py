"""PII in the admin: example values shown as the steward may see them, and the suspected-PII
findings of a property answered (confirm / dismiss) from its page or the properties list.

Example values of a PII property are stored as tokens (:mod:`versioning.protection`); the
form shows them through :func:`versioning.protection.reveal`, so a holder of ``view_pii``
edits clear text and anyone else the tokens (which a save keeps as they are).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from versioning.protection import reveal

from .. import pii
from ..exceptions import DomainError


class ExamplesField(forms.Field):
    """One example value per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def examples_formfield(db_field) -> ExamplesField:
    return ExamplesField(
        required=False,
        label=db_field.verbose_name.capitalize(),
        help_text="One per line (documentation values). Those of a PII property are stored "
        "encrypted and shown as pii:… tokens to users without the view_pii permission.",
    )


class PiiAdminMixin:
    """For the property and shared property admins: the examples field, the findings of
    the row on its page, and the confirm / dismiss actions."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "examples":
            return examples_formfield(db_field)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        def __init__(self, *args, **kw):
            form.__init__(self, *args, **kw)
            if "examples" in self.fields and self.instance.pk:
                self.initial["examples"] = reveal(list(self.instance.examples or []), user)

        return type(form.__name__, (form,), {"__init__": __init__})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and object_id and object_id.isdigit():
            row = self.get_queryset(request).filter(pk=object_id).first()
            for finding in pii.entity_findings(row) if row is not None else ():
                self.message_user(
                    request,
                    f"{finding.violation.message} (actions on the list: "
                    "'Confirm PII' / 'Dismiss the PII finding')",
                    messages.WARNING,
                )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Confirm PII (flag the selected properties PII)")
    def confirm_pii(self, request, queryset):
        done = 0
        for row in queryset:
            try:
                pii.confirm(row.branch, str(row.rid), request.user)
            except (ValidationError, DomainError) as exc:
                self.message_user(request, f"{row}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} flagged PII.", messages.SUCCESS)

    @admin.action(description="Dismiss the PII finding (not PII, on every branch)")
    def dismiss_pii(self, request, queryset):
        done = 0
        for row in queryset:
            try:
                done += len(pii.dismiss(row.branch, str(row.rid), request.user))
            except DomainError as exc:
                self.message_user(request, f"{row}: {exc}", messages.ERROR)
                return
        self.message_user(request, f"{done} finding(s) dismissed.", messages.SUCCESS)
