"""Object types (with their properties), properties and link types."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from versioning.selection import current_branch

from .. import services
from ..exceptions import DomainError
from ..models import Interface, LinkType, ObjectType, Property
from .base import (
    BranchScopedAdmin,
    ChildInline,
    ServiceRejected,
    annotate_count,
    as_validation_error,
    badge,
    count_column,
    status_badge,
)
from .graph import branch_graph
from .pii import PiiAdminMixin

STATUS_FIELDSET = (
    "Status",
    {"fields": ("status", "deprecation_message", "deprecation_deadline")},
)
PROPERTY_TYPE_FIELDS = (
    "base_type",
    "item_type",
    "value_type",
    "struct_type",
    "shared_property",
    "required",
    "pii",
)


def type_label(row) -> str:
    label = row.type_label
    if row.struct_type_id:
        label = f"{label} ({row.struct_type.api_name})"
    return label


class PropertyInline(ChildInline):
    """The object type's table of properties, description editable in place. It fits a
    laptop screen: the shared property a property may stand for is set on its own page
    (the row's *View* link), like its deprecation."""

    model = Property
    fk_name = "object_type"
    fields = (
        "api_name",
        "display_name",
        "description",
        *(f for f in PROPERTY_TYPE_FIELDS if f != "shared_property"),
        "status",
        "position",
    )
    ordering = ("position", "api_name")


class ObjectTypeForm(forms.ModelForm):
    """Change form: the keys are chosen among the object type's own properties."""

    class Meta:
        model = ObjectType
        fields = (
            "api_name",
            "display_name",
            "plural_display_name",
            "description",
            "icon",
            "visibility",
            "primary_key",
            "title_property",
            "status",
            "deprecation_message",
            "deprecation_deadline",
            "replaced_by",
            "interfaces",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = Property.objects.filter(object_type_id=self.instance.pk).select_related("object_type")
        for name in ("primary_key", "title_property"):
            field = self.fields.get(name)
            if field is not None:
                field.queryset = own if self.instance.pk else Property.objects.none()
                field.widget.can_add_related = False
                field.widget.can_change_related = False
                field.widget.can_delete_related = False
                field.widget.can_view_related = False
        replaced_by = self.fields.get("replaced_by")
        if replaced_by is not None and self.instance.pk:
            replaced_by.queryset = replaced_by.queryset.exclude(pk=self.instance.pk)


class ObjectTypeAddForm(ObjectTypeForm):
    """Add form: the properties do not exist yet, so the keys are named by API name and
    set once the properties below are saved."""

    primary_key_name = forms.CharField(
        label="Primary key",
        required=False,
        help_text="API name of one of the properties below (string, integer or short).",
    )
    title_property_name = forms.CharField(
        label="Title property",
        required=False,
        help_text="API name of one of the properties below (a primitive type).",
    )


@admin.register(ObjectType)
class ObjectTypeAdmin(BranchScopedAdmin):
    form = ObjectTypeForm
    add_form = ObjectTypeAddForm
    inlines = [PropertyInline]
    list_display = (
        "api_name",
        "display_name",
        "status_column",
        "visibility",
        "property_count",
        "primary_key_column",
    )
    list_filter = (
        "status",
        "visibility",
        ("interfaces", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("api_name", "display_name", "description")
    list_select_related = ("primary_key",)

    def get_urls(self):
        view = self.admin_site.admin_view(self.graph_view)
        return [path("graph/", view, name="ontology_graph"), *super().get_urls()]

    def graph_view(self, request):
        """The selected branch's object types and link types as a graph (see graph.py)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        branch = current_branch(request)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Ontology of '{branch.name}'",
            "opts": self.model._meta,
            "branch": branch,
            "svg": branch_graph(branch),
        }
        return TemplateResponse(request, "admin/oms/graph.html", context)

    error_aliases = {"primary_key": "primary_key_name", "title_property": "title_property_name"}
    readonly_fields = ("rid",)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            keys = ("primary_key_name", "title_property_name")
        else:
            keys = ("primary_key", "title_property")
        return (
            (
                None,
                {
                    "fields": (
                        "api_name",
                        "display_name",
                        "plural_display_name",
                        "description",
                        "icon",
                        "visibility",
                    )
                },
            ),
            ("Keys", {"fields": keys}),
            (
                "Status",
                {
                    "fields": (
                        "status",
                        "deprecation_message",
                        "deprecation_deadline",
                        "replaced_by",
                    )
                },
            ),
            ("Interfaces", {"fields": ("interfaces",)}),
            ("Identity", {"fields": ("rid",), "classes": ("collapse",)}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_queryset(self, request):
        return annotate_count(super().get_queryset(request), "property_total", "properties")

    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj)

    property_count = count_column("property_total", "# properties")

    @admin.display(description="primary key", ordering="primary_key__api_name")
    def primary_key_column(self, obj):
        if obj.primary_key is None:
            return badge("none", "oms-badge-warn")
        return f"{obj.primary_key.api_name} ({obj.primary_key.type_label})"

    def save_relations(self, request, form, change) -> None:
        options = {}
        if "interfaces" in form.cleaned_data:
            options["interfaces"] = list(form.cleaned_data["interfaces"])
        if not change:
            for field in ("primary_key", "title_property"):
                name = form.cleaned_data.get(f"{field}_name")
                if name:
                    options[field] = name
        if not options:
            return
        try:
            _, warnings = services.save_object_type(
                form.instance.branch, {}, instance=form.instance, user=request.user, **options
            )
        except (ValidationError, DomainError) as exc:
            raise ServiceRejected(as_validation_error(exc)) from exc
        for warning in warnings:
            self.message_user(request, warning, messages.WARNING)

    def response_add(self, request, obj, post_url_continue=None):
        obj.refresh_from_db()
        if obj.primary_key_id is None and "_popup" not in request.POST:
            self.message_user(
                request,
                f"'{obj}' has no primary key yet: choose one among its properties.",
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)


@admin.register(Property)
class PropertyAdmin(PiiAdminMixin, BranchScopedAdmin):
    parent_field = "object_type"
    actions = [*BranchScopedAdmin.actions, "confirm_pii", "dismiss_pii"]
    list_display = (
        "api_name",
        "object_type",
        "display_name",
        "type_column",
        "value_type",
        "required",
        "pii",
        "status_column",
    )
    list_display_links = ("api_name",)
    list_filter = (
        "base_type",
        "status",
        "required",
        "pii",
        ("object_type", admin.RelatedOnlyFieldListFilter),
        ("value_type", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("object_type", "value_type", "struct_type")
    search_fields = ("api_name", "display_name", "description", "object_type__api_name")
    ordering = ("object_type__api_name", "position", "api_name")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "object_type",
                    "api_name",
                    "display_name",
                    "description",
                    "examples",
                    "position",
                )
            },
        ),
        ("Type", {"fields": PROPERTY_TYPE_FIELDS}),
        STATUS_FIELDSET,
        ("Identity", {"fields": ("rid",), "classes": ("collapse",)}),
    )

    @admin.display(description="type", ordering="base_type")
    def type_column(self, obj):
        return type_label(obj)

    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj)


@admin.register(LinkType)
class LinkTypeAdmin(BranchScopedAdmin):
    list_display = (
        "api_name",
        "source_link",
        "cardinality_column",
        "target_link",
        "sides",
        "foreign_key_property",
        "status_column",
    )
    list_filter = (
        "cardinality",
        "status",
        ("source", admin.RelatedOnlyFieldListFilter),
        ("target", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = (
        "source",
        "target",
        "source_interface",
        "target_interface",
        "foreign_key_property__object_type",
    )
    search_fields = (
        "api_name",
        "description",
        "source_api_name",
        "target_api_name",
        "source__api_name",
        "target__api_name",
    )
    fieldsets = (
        (None, {"fields": ("api_name", "description", "cardinality")}),
        (
            "Source side",
            {
                "description": "The source is an object type or, on a many-to-many link "
                "only, an interface (then every object type implementing it can be the "
                "source). Choose exactly one of the two.",
                "fields": (
                    "source",
                    "source_interface",
                    "source_api_name",
                    "source_display_name",
                    "source_visibility",
                    "foreign_key_property",
                ),
            },
        ),
        (
            "Target side",
            {
                "description": "The target is an object type or, on a many-to-many link "
                "only, an interface. Choose exactly one of the two.",
                "fields": (
                    "target",
                    "target_interface",
                    "target_api_name",
                    "target_display_name",
                    "target_visibility",
                ),
            },
        ),
        STATUS_FIELDSET,
        ("Identity", {"fields": ("rid",), "classes": ("collapse",)}),
    )

    @admin.display(description="cardinality", ordering="cardinality")
    def cardinality_column(self, obj):
        return {"ONE_TO_ONE": "1 : 1", "ONE_TO_MANY": "1 : N", "MANY_TO_MANY": "M : N"}.get(
            obj.cardinality, obj.cardinality
        )

    @admin.display(description="source", ordering="source__api_name")
    def source_link(self, obj):
        return _end_link(obj.end("source"))

    @admin.display(description="target", ordering="target__api_name")
    def target_link(self, obj):
        return _end_link(obj.end("target"))

    @admin.display(description="sides")
    def sides(self, obj):
        return format_html("{} &harr; {}", obj.source_api_name, obj.target_api_name)

    @admin.display(description="status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj)


def _end_link(row: ObjectType | Interface | None) -> str:
    """A link's end: an object type, or an interface (marked as such)."""
    if isinstance(row, Interface):
        url = reverse("admin:ontology_interface_change", args=[row.pk])
        return format_html('<a href="{}">{}</a> <small>(interface)</small>', url, row.api_name)
    return _object_type_link(row) if row is not None else "-"


def _object_type_link(row: ObjectType) -> str:
    url = reverse("admin:ontology_objecttype_change", args=[row.pk])
    return format_html('<a href="{}">{}</a>', url, row.api_name)
