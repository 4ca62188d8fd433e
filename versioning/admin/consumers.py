"""Registered consumers in the steward admin: name, owner and contact, pinned release and
what they read. Writes go through :func:`versioning.consumers.save_consumer` and
:func:`~versioning.consumers.delete_consumer`, which check the consumer permissions and
validate the reads (entity api names or property paths); a refusal shows on its field."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from .. import consumers, protection
from ..exceptions import VersioningError
from ..models import Consumer, Release


class ReadsField(forms.CharField):
    """One api name or property path per line."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


class ConsumerForm(forms.ModelForm):
    reads = ReadsField(
        required=False,
        help_text="One per line: an entity api name (Flight) or a property path "
        "(Flight.flightNumber).",
    )
    pinned_release = forms.ModelChoiceField(
        Release.objects.order_by("-created_at"), required=False, to_field_name="version"
    )

    class Meta:
        model = Consumer
        fields = ("name", "owner", "contact", "pinned_release", "reads", "description")

    def clean_reads(self):
        try:
            return consumers.clean_reads(self.cleaned_data["reads"])
        except VersioningError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    form = ConsumerForm
    list_display = ("name", "owner", "contact_masked", "pinned_release", "reads_column")
    search_fields = ("name", "owner__username")  # the contact is encrypted: not searchable
    list_select_related = ("owner", "pinned_release")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not protection.may_view(request.user):  # masked: shown read-only, kept on save
            fields = ["contact_masked" if f == "contact" else f for f in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        masked = () if protection.may_view(request.user) else ("contact_masked",)
        return (*super().get_readonly_fields(request, obj), *masked)

    @admin.display(description="contact")
    def contact_masked(self, obj: Consumer) -> str:
        """Masked in the list for everyone; in clear on the change page with ``view_pii``."""
        return protection.MASK if obj and obj.contact else ""

    @admin.display(description="reads")
    def reads_column(self, obj: Consumer) -> str:
        shown = ", ".join(obj.reads[:5])
        return shown + (f" (+{len(obj.reads) - 5})" if len(obj.reads) > 5 else "")

    def save_model(self, request, obj: Consumer, form, change: bool) -> None:
        data = form.cleaned_data
        saved = consumers.save_consumer(
            Consumer.objects.get(pk=obj.pk) if change else None,
            request.user,
            name=data["name"],
            owner=data.get("owner"),
            **({"contact": data.get("contact", "")} if "contact" in data else {}),
            pinnedRelease=data["pinned_release"].version if data.get("pinned_release") else None,
            reads=data.get("reads", []),
            description=data.get("description", ""),
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj: Consumer) -> None:
        consumers.delete_consumer(obj, request.user)

    def delete_queryset(self, request, queryset) -> None:
        for consumer in queryset:
            consumers.delete_consumer(consumer, request.user)
