"""Admin: outbox events, deliveries, dead letters (requeue/discard), webhooks, breakers."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html

from . import breakers, services, webhooks
from . import sinks as sink_registry
from .choices import DeliveryStatus
from .models import DeadLetter, Delivery, OutboxEvent, WebhookSubscription


def _breaker_states() -> list[dict]:
    try:
        names = list(sink_registry.enabled_sinks())
    except Exception:
        names = []
    return [
        {"sink": n, "state": breakers.state(n), "until": breakers.blocked_until(n)} for n in names
    ]


def _report(modeladmin, request, verb: str, count: int) -> None:
    modeladmin.message_user(
        request,
        f"{count} deliver{'y' if count == 1 else 'ies'} {verb}.",
        messages.SUCCESS if count else messages.WARNING,
    )


class EventStateFilter(admin.SimpleListFilter):
    title = "delivery state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", "Pending"),
            ("failed", "Failing (retrying)"),
            ("dead", "Dead-lettered"),
            ("delivered", "Delivered everywhere"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "pending":
            return queryset.filter(
                Q(position__isnull=True)
                | Q(deliveries__status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED))
            ).distinct()
        if value == "failed":
            return queryset.filter(
                deliveries__status=DeliveryStatus.PENDING, deliveries__attempts__gt=0
            ).distinct()
        if value == "dead":
            return queryset.filter(deliveries__status=DeliveryStatus.DEAD).distinct()
        if value == "delivered":
            return queryset.filter(position__isnull=False).exclude(
                deliveries__status__in=(
                    DeliveryStatus.PENDING,
                    DeliveryStatus.CLAIMED,
                    DeliveryStatus.DEAD,
                )
            )
        return queryset


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("sink", "status", "attempts", "next_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("position", "type", "subject", "time", "pending", "dead", "delivered")
    list_filter = (EventStateFilter, "type")
    search_fields = ("=id", "subject", "type")
    readonly_fields = [f.name for f in OutboxEvent._meta.fields if f.name != "data"] + ["data_json"]
    exclude = ("data",)
    inlines = [DeliveryInline]
    actions = ["requeue", "discard"]
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_pending=Count(
                    "deliveries",
                    filter=Q(
                        deliveries__status__in=(DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)
                    ),
                ),
                n_dead=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DEAD)),
                n_delivered=Count(
                    "deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)
                ),
            )
        )

    @admin.display(ordering="n_pending")
    def pending(self, obj) -> int:
        return obj.n_pending

    @admin.display(ordering="n_dead")
    def dead(self, obj) -> int:
        return obj.n_dead

    @admin.display(ordering="n_delivered")
    def delivered(self, obj) -> int:
        return obj.n_delivered

    @admin.display(description="data")
    def data_json(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(
        description="Requeue undelivered deliveries of the selected events", permissions=["requeue"]
    )
    def requeue(self, request, queryset):
        ids = services.deliveries_of_events(queryset.values_list("pk", flat=True))
        _report(self, request, "requeued", services.requeue_deliveries(ids, user=request.user))

    @admin.action(
        description="Discard undelivered deliveries of the selected events", permissions=["requeue"]
    )
    def discard(self, request, queryset):
        ids = services.deliveries_of_events(queryset.values_list("pk", flat=True))
        _report(self, request, "discarded", services.discard_deliveries(ids, user=request.user))

    def has_requeue_permission(self, request) -> bool:
        return request.user.has_perm("events.change_delivery")


class _DeliveryActions:
    def has_requeue_permission(self, request) -> bool:
        return request.user.has_perm("events.change_delivery")

    def _delivery_ids(self, queryset):
        return list(queryset.values_list("pk", flat=True))

    @admin.action(description="Requeue selected", permissions=["requeue"])
    def requeue(self, request, queryset):
        _report(
            self,
            request,
            "requeued",
            services.requeue_deliveries(self._delivery_ids(queryset), user=request.user),
        )

    @admin.action(description="Discard selected", permissions=["requeue"])
    def discard(self, request, queryset):
        _report(
            self,
            request,
            "discarded",
            services.discard_deliveries(self._delivery_ids(queryset), user=request.user),
        )


@admin.register(Delivery)
class DeliveryAdmin(_DeliveryActions, admin.ModelAdmin):
    list_display = (
        "id",
        "event_link",
        "event_type",
        "sink",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
    )
    list_filter = ("status", "sink")
    search_fields = ("=event__id", "event__subject", "last_error")
    list_select_related = ("event",)
    readonly_fields = (
        "event",
        "sink",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "claimed_by",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    )
    actions = ["requeue", "discard"]
    change_list_template = "admin/events/delivery/change_list.html"

    @admin.display(description="event", ordering="event__position")
    def event_link(self, obj):
        return format_html('<a href="../outboxevent/{}/change/">{}</a>', obj.event_id, obj.event_id)

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj) -> str:
        return obj.event.type

    @admin.display(description="last error")
    def short_error(self, obj) -> str:
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error

    def has_add_permission(self, request) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "breakers": _breaker_states()}
        return super().changelist_view(request, extra_context)


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(_DeliveryActions, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "sink",
        "reason",
        "attempts",
        "error_excerpt",
        "resolution",
        "resolved_by",
    )
    list_filter = (OpenFilter, "reason", "sink", "resolution")
    search_fields = ("=event__id", "error")
    list_select_related = ("event", "resolved_by")
    readonly_fields = (
        "delivery",
        "event",
        "sink",
        "reason",
        "error",
        "attempts",
        "created_at",
        "resolved_at",
        "resolution",
        "resolved_by",
    )
    actions = ["requeue", "discard"]

    def _delivery_ids(self, queryset):
        return list(queryset.values_list("delivery_id", flat=True))

    @admin.display(description="error")
    def error_excerpt(self, obj) -> str:
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error

    def has_add_permission(self, request) -> bool:
        return False


class WebhookAddForm(forms.ModelForm):
    """Adding a webhook: the secret may be given (e.g. the receiver's), else one is made."""

    secret = forms.CharField(
        required=False,
        min_length=16,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to have a strong one made. Shown once, after saving.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "secret", "event_types", "enabled")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """The signing secret is write-only: shown once when the webhook is made or its secret
    rotated (the action), masked everywhere else, encrypted in the database."""

    list_display = ("name", "url", "enabled", "types", "breaker")
    list_filter = ("enabled",)
    search_fields = ("name", "url")
    actions = ["rotate_secret"]
    readonly_fields = ("signing_secret",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = WebhookAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(WebhookAddForm.Meta.fields)
        return ["name", "url", "signing_secret", "event_types", "enabled"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        secret = form.cleaned_data.get("secret") or webhooks.new_secret()
        obj.secret = secret
        super().save_model(request, obj, form, change)
        self._show_once(request, obj, secret)

    @admin.display(description="signing secret")
    def signing_secret(self, obj) -> str:
        return "•••••••• (set; shown only when made or rotated: use the rotate action)"

    @admin.action(description="Rotate the signing secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            self._show_once(request, subscription, webhooks.rotate_webhook_secret(subscription))

    def _show_once(self, request, obj, secret: str) -> None:
        self.message_user(
            request,
            format_html(
                "Signing secret of {}: <code>{}</code> — copy it to the receiver now; "
                "it is not shown again.",
                obj.name,
                secret,
            ),
            messages.WARNING,
        )

    @admin.display(description="event types")
    def types(self, obj) -> str:
        return ", ".join(obj.event_types or []) or "all"

    @admin.display(description="circuit breaker")
    def breaker(self, obj) -> str:
        return breakers.state(obj.sink_name)
