"""Branch-scoped admin classes whose writes go through :mod:`ontology.services`.

- Querysets and foreign-key choices are limited to the steward's selected branch; new rows
  get that branch before validation, so the models' row-local rules (``clean()``) run on
  the form.
- On a protected or archived branch, or one the user may not edit (no model-wide or
  per-branch ``versioning.edit_branch``), the ontology is read-only.
- ``save_model``/``save_related``/``delete_model``/``delete_queryset`` call the services,
  which mark the branch's working change and publish the event. A refusal of the rule set
  (over the documents the save wrote, when its change set closes) or of a service rolls
  the whole save back and the form is shown again with the steward's input kept, each
  message on the field at fault of the row it is about, an inline row's included
  (:mod:`ontology.admin.errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import model_ngettext
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from versioning.selection import current_branch

from .. import services
from ..documents import document_version
from ..exceptions import DomainError
from . import bulk
from .branching import is_editable, twin, user_may_edit
from .errors import (
    ServiceRejected,
    as_validation_error,
    attach_errors,
    field_label,
    model_field,
    rejected_as_form_errors,
)
from .marks import BranchMarksMixin

BADGE_CLASSES = {
    "ACTIVE": "oms-badge-ok",
    "EXPERIMENTAL": "oms-badge-info",
    "DEPRECATED": "oms-badge-warn",
}


def badge(text: str, css: str = "") -> str:
    return format_html('<span class="oms-badge {}">{}</span>', css, text)


def status_badge(row: Any) -> str:
    return badge(row.get_status_display(), BADGE_CLASSES.get(row.status, ""))


class BranchFormMixin:
    """Sets the selected branch on new rows (before validation) and shows every model
    rule message on the form, even when the field at fault is not on it."""

    oms_branch = None
    oms_rejected: ServiceRejected | None = None
    error_aliases: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.oms_branch is not None and not self.instance.branch_id:
            self.instance.branch = self.oms_branch

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict"):
            kept: dict[str, list] = {}
            for field, errs in errors.error_dict.items():
                if field == NON_FIELD_ERRORS or field in self.fields:
                    kept.setdefault(field, []).extend(errs)
                else:
                    kept.setdefault(NON_FIELD_ERRORS, []).extend(
                        f"{field_label(self, field)}: {m}" for e in errs for m in e.messages
                    )
            errors = ValidationError(kept)
        super()._update_errors(errors)

    def clean(self):
        cleaned = super().clean()
        self._check_version()
        rejected = self.oms_rejected
        if rejected is not None:
            routed = rejected.routed()
            own = routed.pop(None, None)
            if own:
                attach_errors(self, ValidationError(own), self.error_aliases)
            if routed:
                self.add_error(None, "The changes were not saved: see the errors below.")
        return cleaned

    oms_submitted_version: str | None = None

    def _check_version(self) -> None:
        """Two stewards, one entity: a form opened before someone else saved the entity is
        refused instead of silently overwriting their change. The entity's row is locked
        (in the admin's transaction) before comparing, so two saves cannot both pass."""
        if not (self.instance.pk and self.oms_submitted_version):
            return
        top = services.top_level(self.instance)
        type(top)._default_manager.select_for_update().filter(pk=top.pk).first()
        if document_version(top) != self.oms_submitted_version:
            self.add_error(None, STALE_MESSAGE.format(entity=top._meta.verbose_name))


STALE_MESSAGE = (
    "Someone else changed this {entity} since you opened it, so your changes were not "
    "saved. Reload the page to see the current version, or save again to overwrite their "
    "change with yours."
)


class BranchFormSetMixin:
    """Inline formsets: names unique case-insensitively, deletions refused while the child
    is still in use, and a service's refusal shown on the child at fault."""

    oms_rejected: ServiceRejected | None = None

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # a table cell has no <label>: name the tick box
            form.fields["DELETE"].widget.attrs.setdefault("aria-label", "Delete")

    def clean(self):
        super().clean()
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            name = (form.cleaned_data.get("api_name") or "").lower()
            if not name:
                continue
            if name in seen:
                form.add_error("api_name", "This API name is used twice in this list.")
            seen[name] = index
        refused = []
        for form in self.deleted_forms:
            if form.instance.pk:
                users = services.users_of(form.instance)
                if users:
                    refused.append(
                        f"'{form.instance}' cannot be removed: still used by {', '.join(users)}."
                    )
        rejected = self.oms_rejected
        for target, errors in (rejected.routed() if rejected else {}).items():
            if target is None or target[0] != self.prefix:
                continue
            if target[1] < len(self.forms):
                attach_errors(self.forms[target[1]], ValidationError(errors))
            else:
                refused.extend(
                    m if path == NON_FIELD_ERRORS else f"{path}: {m}"
                    for path, texts in errors.items()
                    for m in texts
                )
        if refused:
            raise ValidationError(refused)


def _branch_formfield_queryset(db_field, request, kwargs: dict) -> None:
    related = db_field.related_model
    if "queryset" not in kwargs and any(f.name == "branch" for f in related._meta.fields):
        qs = related._default_manager.filter(branch=current_branch(request))
        if any(f.name == "object_type" for f in related._meta.fields):
            qs = qs.select_related("object_type")
        kwargs["queryset"] = qs


class BranchPermissionsMixin:
    """Read-only on protected or archived branches; choices limited to the branch."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name.endswith("api_name"):
            field.label = field.label.replace("Api name", "API name")
        return field

    def branch_editable(self, request) -> bool:
        """Not protected or archived, and the user may edit the branch."""
        branch = current_branch(request)
        return is_editable(branch) and user_may_edit(request, branch)

    # the model permission (super) and the branch: the rule of services.check_write

    def has_add_permission(self, request, *args) -> bool:
        return self.branch_editable(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.branch_editable(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.branch_editable(request) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _branch_formfield_queryset(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        _branch_formfield_queryset(db_field, request, kwargs)
        # ticks rather than Django's two-list filter widget: readable at a glance and
        # free of its ARIA defect (a labelled <span> without a role)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ChildInline(BranchPermissionsMixin, admin.TabularInline):
    """Children of a top-level entity (properties, fields, link constraints)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, RelatedFieldWidgetWrapper):
            # rows of a table: plain dropdowns, the related rows are edited on their own pages
            field.widget = field.widget.widget
        if field is not None:
            # a table cell has no <label>: the column's name labels each input
            field.widget.attrs.setdefault("aria-label", str(field.label))
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs.update(rows=1, cols=20)
        return field

    formset_mixin = BranchFormSetMixin
    show_change_link = True
    extra = 0

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 1 if obj is None else 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type(
            self.form.__name__,
            (BranchFormMixin, self.form),
            {"oms_branch": current_branch(request)},
        )
        formset = super().get_formset(request, obj, **kwargs)
        return type(
            formset.__name__,
            (self.formset_mixin, formset),
            {"oms_rejected": getattr(request, "_oms_rejected", None)},
        )


VERSION_FIELD = "_oms_version"


class BranchScopedAdmin(BranchMarksMixin, BranchPermissionsMixin, admin.ModelAdmin):
    """Base admin of every ontology model."""

    change_form_template = "admin/oms/change_form.html"

    list_per_page = 50
    actions = ["delete_selected"]
    save_on_top = True
    readonly_fields = ("rid",)
    #: fields whose names a service uses for errors, mapped to this admin's form fields
    error_aliases: dict[str, str] = {}
    #: a child's page (a property, a struct field, ...) names its parent's field: saving it
    #: returns to the parent's page, where the steward came from
    parent_field: str | None = None

    def __init__(self, model, admin_site) -> None:
        super().__init__(model, admin_site)
        # deprecate / set visibility, where the model has those fields (ontology/admin/bulk.py)
        self.actions = [*self.actions, *bulk.actions_for(model)]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(branch=current_branch(request))

    def response_post_save_change(self, request, obj):
        parent = getattr(obj, self.parent_field, None) if self.parent_field else None
        if parent is None:
            return super().response_post_save_change(request, obj)
        meta = parent._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[parent.pk])
        return HttpResponseRedirect(url)

    response_post_save_add = response_post_save_change

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(
            form.__name__,
            (BranchFormMixin, form),
            {
                "oms_branch": current_branch(request),
                "oms_rejected": getattr(request, "_oms_rejected", None),
                "oms_submitted_version": request.POST.get(VERSION_FIELD) or None,
                "error_aliases": self.error_aliases,
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A row of another branch (an old link, a bookmark) opens the same entity on the
        selected branch, or its list when the entity does not exist there."""
        if (
            object_id
            and object_id.isdigit()
            and not self.get_queryset(request).filter(pk=object_id).exists()
        ):
            other = self.model._default_manager.filter(pk=object_id).first()
            if other is not None:
                branch = current_branch(request)
                same = twin(self.model, object_id, branch)
                info = self.opts.app_label, self.opts.model_name
                if same is not None:
                    return HttpResponseRedirect(
                        reverse("admin:{}_{}_change".format(*info), args=[same.pk])
                    )
                self.message_user(
                    request,
                    f"'{other}' does not exist on branch '{branch.name}'.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))
        row = self.get_queryset(request).filter(pk=object_id).first() if object_id else None
        # the entity's versioning history (a child's is its parent's document's)
        top = getattr(row, self.parent_field, None) if row and self.parent_field else row
        if top is not None:
            query = urlencode({"ref": current_branch(request).name, "rid": str(top.rid)})
            history = f"{reverse('admin:versioning_history')}?{query}"
            extra_context = {**(extra_context or {}), "oms_history_url": history}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- writes through the services -----------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "oms_version": self.entity_version(object_id)}
        request._oms_rows = {}  # rid -> its form, of each row the save writes
        try:
            # one steward save = one event per entity, however many inline rows it wrote;
            # the rule set runs over them all when the change set closes
            with rejected_as_form_errors(), services.change_set():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            # the save was rolled back; show the form again with the refusal on it, each
            # message on the form of the row it is about
            rejected.rows = request._oms_rows
            request._oms_rejected = rejected
            return super().changeform_view(request, object_id, form_url, extra_context)

    def entity_version(self, object_id) -> str | None:
        """The version the change form carries (hidden) so a stale save is noticed."""
        row = self.model._default_manager.filter(pk=object_id).first() if object_id else None
        return document_version(services.top_level(row)) if row is not None else None

    def save_model(self, request, obj, form, change) -> None:
        obj.branch = current_branch(request)
        rows = getattr(request, "_oms_rows", {})
        # the page's own row, and the entity it belongs to (a child's page: its parent)
        rows[str(obj.rid)] = rows[str(services.top_level(obj).rid)] = None
        self.service_save(request, obj)

    def service_save(self, request, row, inline: tuple[str, int] | None = None) -> None:
        try:
            warnings = services.save(row, user=request.user)
        except (ValidationError, DomainError) as exc:
            raise ServiceRejected(as_validation_error(exc), inline) from exc
        for warning in warnings or []:
            self.message_user(request, warning, messages.WARNING)

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change)
        self.save_relations(request, form, change)

    def save_relations(self, request, form, change) -> None:
        """Many-to-many fields and keys that need the saved children (see subclasses)."""

    def save_formset(self, request, form, formset, change) -> None:
        parent = form.instance
        deleted = [f.instance for f in formset.deleted_forms if f.instance.pk]
        changed, added, updated = [], [], []
        rows = getattr(request, "_oms_rows", {})
        for index, child_form in enumerate(formset.forms):
            if child_form in formset.deleted_forms:
                continue
            # the rid a new row got here is not the one its form gets when the page is
            # shown again: a refusal finds the row's form by its place in the formset
            rows[str(child_form.instance.rid)] = (formset.prefix, index)
            if not child_form.has_changed():
                continue
            child = child_form.save(commit=False)
            setattr(child, formset.fk.name, parent)
            child.branch = parent.branch
            changed.append((index, child))
            if child.pk is None:
                added.append(child)
            else:
                updated.append((child, child_form.changed_data))
        self.write_children(request, parent, formset.prefix, changed, deleted)
        # what the admin's change message (LogEntry) reads
        formset.new_objects, formset.changed_objects = added, updated
        formset.deleted_objects = deleted

    def write_children(self, request, parent, prefix, changed, deleted) -> None:
        for row in deleted:
            self.service_delete(request, row)
        for index, row in changed:
            self.service_save(request, row, (prefix, index))

    def service_delete(self, request, row) -> None:
        try:
            services.delete(row, user=request.user)
        except (ValidationError, DomainError) as exc:
            raise ServiceRejected(as_validation_error(exc)) from exc

    # --- deletion: refused with the names of the users -------------------------------

    def users_message(self, row) -> str:
        users = services.users_of(row)
        if not users:
            return ""
        return f"'{row}' cannot be deleted: it is still used by {', '.join(users)}."

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        refusal = self.users_message(obj) if obj is not None else ""
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            if request.method == "POST":
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                        args=[obj.pk],
                    )
                )
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRejected as rejected:
            self.message_user(request, " ".join(rejected.error.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def delete_model(self, request, obj) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset) -> tuple[list[str], list[str]]:
        """Delete each row through the services (its own event), each in a savepoint: a
        row the services refuse (still in use, last struct field, ...) is kept and the
        others are deleted. Returns (names deleted, refusal messages)."""
        deleted, refused = [], []
        with transaction.atomic():
            for row in queryset:
                name = str(row)
                try:
                    with transaction.atomic():
                        self.log_deletions(request, [row])
                        services.delete(row, user=request.user)
                except (ValidationError, DomainError) as exc:
                    refused.append(
                        f"'{name}' was not deleted: {' '.join(as_validation_error(exc).messages)}"
                    )
                else:
                    deleted.append(name)
        return deleted, refused

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, queryset):
        """Delete what can be deleted; each entity still in use is kept and reported with
        its users. The confirmation page lists only the deletable ones."""
        if request.POST.get("post"):
            deleted, refused = self.delete_queryset(request, queryset)
            if deleted:
                self.message_user(
                    request,
                    f"Deleted {len(deleted)} {model_ngettext(self.opts, len(deleted))}: "
                    f"{', '.join(deleted)}.",
                    messages.SUCCESS,
                )
            for refusal in refused:
                self.message_user(request, refusal, messages.ERROR)
            return None
        rows = list(queryset)
        refusals = {row.pk: self.users_message(row) for row in rows}
        refusals = {pk: text for pk, text in refusals.items() if text}
        for text in refusals.values():
            self.message_user(
                request, text, messages.ERROR if len(refusals) == len(rows) else messages.WARNING
            )
        if len(refusals) == len(rows):
            return None
        return django_delete_selected(self, request, queryset.exclude(pk__in=list(refusals)))


def count_column(field: str, description: str):
    """A sortable list column showing an annotated count."""

    @admin.display(description=description, ordering=field)
    def column(self, obj) -> int:
        return getattr(obj, field, 0)

    return column


def annotate_count(queryset: models.QuerySet, name: str, relation: str) -> models.QuerySet:
    return queryset.annotate(**{name: models.Count(relation, distinct=True)})


__all__ = [
    "BranchScopedAdmin",
    "ChildInline",
    "ServiceRejected",
    "as_validation_error",
    "model_field",
    "badge",
    "status_badge",
]
