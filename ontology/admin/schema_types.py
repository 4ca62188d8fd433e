"""Value types, struct types (with their fields), shared properties and interfaces."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError

from .. import services
from ..exceptions import DomainError
from ..models import (
    Interface,
    InterfaceLinkConstraint,
    SharedProperty,
    StructField,
    StructType,
    ValueType,
)
from ..rules import MAX_STRUCT_FIELDS
from .base import (
    BranchScopedAdmin,
    ChildInline,
    ServiceRejected,
    annotate_count,
    as_validation_error,
    count_column,
    status_badge,
)
from .object_types import STATUS_FIELDSET, type_label
from .pii import PiiAdminMixin

IDENTITY_FIELDSET = ("Identity", {"fields": ("rid",), "classes": ("collapse",)})


class StatusColumn:
    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj)


@admin.register(ValueType)
class ValueTypeAdmin(StatusColumn, BranchScopedAdmin):
    list_display = ("api_name", "display_name", "type_column", "constraint_kinds", "status_column")
    list_filter = ("base_type", "status")
    search_fields = ("api_name", "display_name", "description")
    fieldsets = (
        (None, {"fields": ("api_name", "display_name", "description")}),
        ("Type", {"fields": ("base_type", "item_type", "constraints")}),
        STATUS_FIELDSET,
        IDENTITY_FIELDSET,
    )

    @admin.display(description="type", ordering="base_type")
    def type_column(self, obj):
        return obj.type_label

    @admin.display(description="constraints")
    def constraint_kinds(self, obj):
        return ", ".join(sorted(obj.constraints or {})) or "-"


class StructFieldInline(ChildInline):
    model = StructField
    fields = (
        "api_name",
        "display_name",
        "base_type",
        "item_type",
        "value_type",
        "required",
        "position",
        "description",
    )
    ordering = ("position", "api_name")
    min_num = 1
    max_num = MAX_STRUCT_FIELDS

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("validate_min", True)
        kwargs.setdefault("validate_max", True)
        return super().get_formset(request, obj, **kwargs)


@admin.register(StructType)
class StructTypeAdmin(StatusColumn, BranchScopedAdmin):
    inlines = [StructFieldInline]
    list_display = ("api_name", "display_name", "field_count", "status_column")
    list_filter = ("status",)
    search_fields = ("api_name", "display_name", "description", "fields__api_name")
    fieldsets = (
        (None, {"fields": ("api_name", "display_name", "description")}),
        STATUS_FIELDSET,
        IDENTITY_FIELDSET,
    )

    def get_queryset(self, request):
        return annotate_count(super().get_queryset(request), "field_total", "fields")

    field_count = count_column("field_total", "# fields")

    def write_children(self, request, parent, prefix, changed, deleted) -> None:
        """Keep 1 to 10 fields at every step: delete while more than one field is left,
        add one first when a deletion would leave none."""
        additions = [(i, row) for i, row in changed if row.pk is None]
        for index, row in changed:
            if row.pk is not None:
                self.service_save(request, row, (prefix, index))
        count = parent.fields.count()
        deleted = list(deleted)
        while deleted or additions:
            if deleted and (count > 1 or not additions):
                self.service_delete(request, deleted.pop(0))
                count -= 1
            else:
                index, row = additions.pop(0)
                self.service_save(request, row, (prefix, index))
                count += 1


@admin.register(StructField)
class StructFieldAdmin(BranchScopedAdmin):
    parent_field = "struct_type"
    list_display = (
        "api_name",
        "struct_type",
        "display_name",
        "type_column",
        "value_type",
        "required",
        "position",
    )
    list_filter = ("base_type", "required", ("struct_type", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("struct_type", "value_type")
    search_fields = ("api_name", "display_name", "struct_type__api_name")
    ordering = ("struct_type__api_name", "position", "api_name")

    @admin.display(description="type", ordering="base_type")
    def type_column(self, obj):
        return obj.type_label

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "struct_type",
                    "api_name",
                    "display_name",
                    "description",
                    "base_type",
                    "item_type",
                    "value_type",
                    "required",
                    "position",
                )
            },
        ),
        IDENTITY_FIELDSET,
    )


@admin.register(SharedProperty)
class SharedPropertyAdmin(PiiAdminMixin, StatusColumn, BranchScopedAdmin):
    actions = [*BranchScopedAdmin.actions, "confirm_pii", "dismiss_pii"]
    list_display = (
        "api_name",
        "display_name",
        "type_column",
        "value_type",
        "pii",
        "usage_count",
        "status_column",
    )
    list_filter = ("base_type", "status", "pii")
    list_select_related = ("value_type", "struct_type")
    search_fields = ("api_name", "display_name", "description")
    fieldsets = (
        (None, {"fields": ("api_name", "display_name", "description", "examples")}),
        ("Type", {"fields": ("base_type", "item_type", "value_type", "struct_type", "pii")}),
        STATUS_FIELDSET,
        IDENTITY_FIELDSET,
    )

    def get_queryset(self, request):
        return annotate_count(super().get_queryset(request), "usage_total", "usages")

    usage_count = count_column("usage_total", "# used by")

    @admin.display(description="type", ordering="base_type")
    def type_column(self, obj):
        return type_label(obj)


class LinkConstraintInline(ChildInline):
    model = InterfaceLinkConstraint
    fk_name = "interface"
    fields = (
        "api_name",
        "display_name",
        "target_object_type",
        "target_interface",
        "cardinality",
        "required",
    )


@admin.register(Interface)
class InterfaceAdmin(StatusColumn, BranchScopedAdmin):
    inlines = [LinkConstraintInline]
    list_display = (
        "api_name",
        "display_name",
        "property_count",
        "implementation_count",
        "status_column",
    )
    list_filter = ("status", ("extends", admin.RelatedOnlyFieldListFilter))
    search_fields = ("api_name", "display_name", "description")
    fieldsets = (
        (None, {"fields": ("api_name", "display_name", "description", "icon")}),
        ("Shape", {"fields": ("extends", "properties")}),
        STATUS_FIELDSET,
        IDENTITY_FIELDSET,
    )

    def get_queryset(self, request):
        qs = annotate_count(super().get_queryset(request), "property_total", "properties")
        return annotate_count(qs, "implementation_total", "implemented_by")

    property_count = count_column("property_total", "# properties")
    implementation_count = count_column("implementation_total", "# implemented by")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        object_id = (
            request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        )
        if db_field.name == "extends" and object_id:
            field.queryset = field.queryset.exclude(pk=object_id)
        return field

    def save_relations(self, request, form, change) -> None:
        options = {
            name: list(form.cleaned_data[name])
            for name in ("extends", "properties")
            if name in form.cleaned_data
        }
        if not options:
            return
        try:
            services.save_interface(
                form.instance.branch, {}, instance=form.instance, user=request.user, **options
            )
        except (ValidationError, DomainError) as exc:
            raise ServiceRejected(as_validation_error(exc)) from exc


@admin.register(InterfaceLinkConstraint)
class InterfaceLinkConstraintAdmin(BranchScopedAdmin):
    parent_field = "interface"
    list_display = ("api_name", "interface", "target_column", "cardinality", "required")
    list_filter = ("cardinality", "required", ("interface", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("interface", "target_object_type", "target_interface")
    search_fields = ("api_name", "display_name", "interface__api_name")
    fieldsets = (
        (None, {"fields": ("interface", "api_name", "display_name", "description")}),
        ("Target", {"fields": ("target_object_type", "target_interface")}),
        ("Cardinality", {"fields": ("cardinality", "required")}),
        IDENTITY_FIELDSET,
    )

    @admin.display(description="target")
    def target_column(self, obj):
        return obj.target_object_type or obj.target_interface
