"""Bulk actions of the ontology lists: deprecate the selected entities (one message and
deadline for all, asked on a confirmation page) and set their visibility.

Each row is written through ``services.save`` in its own savepoint, so the rule set
checks it, it gets its own event and working-change mark, and a row the rules refuse
(a deprecation cannot be undone here; an experimental object type with active properties,
...) is kept and reported by name while the others are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.template.response import TemplateResponse

from .. import services
from ..choices import Status, Visibility
from ..exceptions import DomainError


class DeprecationForm(forms.Form):
    deprecation_message = forms.CharField(
        label="Deprecation message",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="What consumers should use instead, shown with every selected entity.",
    )
    deprecation_deadline = forms.DateField(
        label="Deadline",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date after which it may be removed (YYYY-MM-DD).",
    )

    def clean_deprecation_message(self) -> str:
        text = self.cleaned_data["deprecation_message"].strip()
        if not text:
            raise ValidationError("Write a deprecation message.")
        return text


def write_each(
    modeladmin: admin.ModelAdmin,
    request: Any,
    queryset: models.QuerySet,
    change: Callable[[models.Model], None],
    done_text: str,
) -> None:
    """Apply ``change`` to each row and save it through the services, each in its own
    savepoint; report what was written and every refusal by name."""
    written, refused = [], []
    with transaction.atomic():
        for row in queryset:
            name = str(row)
            try:
                with transaction.atomic():
                    change(row)
                    services.save(row, user=request.user)
                    modeladmin.log_change(request, row, done_text)
            except (ValidationError, DomainError) as exc:
                refused.append(f"'{name}' was not changed: {' '.join(_messages(exc))}")
            else:
                written.append(name)
    if written:
        opts = modeladmin.opts
        modeladmin.message_user(
            request,
            f"{done_text.capitalize()}: {len(written)} {model_ngettext(opts, len(written))} "
            f"({', '.join(written)}).",
            messages.SUCCESS,
        )
    for refusal in refused:
        modeladmin.message_user(request, refusal, messages.ERROR)


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [f"{field}: {m}" for field, errs in exc.message_dict.items() for m in errs]
        return list(exc.messages)
    return [str(exc)]


@admin.action(permissions=["change"], description="Deprecate selected %(verbose_name_plural)s…")
def deprecate_selected(modeladmin, request, queryset):
    """Ask for one deprecation message and deadline, then deprecate every selected row."""
    form = DeprecationForm(request.POST if request.POST.get("apply") else None)
    if form.is_valid():
        data = form.cleaned_data

        def deprecate(row) -> None:
            row.status = Status.DEPRECATED
            row.deprecation_message = data["deprecation_message"]
            row.deprecation_deadline = data["deprecation_deadline"]

        deadline = data["deprecation_deadline"].isoformat()
        write_each(modeladmin, request, queryset, deprecate, f"deprecated until {deadline}")
        return None
    opts = modeladmin.opts
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Deprecate {opts.verbose_name_plural}",
        "opts": opts,
        "queryset": queryset,
        "rows_label": f"{len(queryset)} {model_ngettext(opts, len(queryset))}",
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": "deprecate_selected",
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/oms/deprecate_selected.html", context)


def visibility_action(value: Visibility):
    @admin.action(
        permissions=["change"],
        description=f"Set visibility of selected %(verbose_name_plural)s: {value.label.lower()}",
    )
    def action(modeladmin, request, queryset):
        def show(row) -> None:
            row.visibility = value

        write_each(modeladmin, request, queryset, show, f"visibility set to {value.label.lower()}")

    action.__name__ = f"visibility_{value.value.lower()}"
    return action


def actions_for(model: type[models.Model]) -> list:
    """The bulk actions that fit a model: deprecation where it has a status, visibility
    where it has one."""
    names = {f.name for f in model._meta.get_fields()}
    out: list = []
    if {"status", "deprecation_message", "deprecation_deadline"} <= names:
        out.append(deprecate_selected)
    if "visibility" in names:
        out.extend(visibility_action(v) for v in Visibility)
    return out
