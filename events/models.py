"""Outbox rows (CloudEvents envelopes), their deliveries, dead letters and webhooks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q

from .choices import DeadLetterReason, DeadLetterResolution, DeliveryStatus
from .encryption import EncryptedTextField


class OutboxEvent(models.Model):
    """One CloudEvents 1.0 event, written in the transaction of the change it describes.

    ``position`` is the change-feed order. It is assigned after commit, by the sequencer
    that holds the ``OutboxCursor`` row lock, so positions become visible strictly in
    increasing order (see docs/events.md, "Commit order").
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    specversion = models.CharField(max_length=8, default="1.0")
    source = models.CharField(max_length=512)
    type = models.CharField(max_length=200)
    subject = models.CharField(max_length=512)
    time = models.DateTimeField()
    datacontenttype = models.CharField(max_length=100, default="application/json")
    dataschema = models.CharField(max_length=1024, blank=True)
    data = models.JSONField()
    branch = models.CharField(max_length=200, null=True, blank=True)
    commit = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sequenced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "created_at"]
        indexes = [
            # the sequencer's scan: next unsequenced events in (created_at, id) order,
            # read in index order so a LIMIT stops early whatever the backlog
            models.Index(
                fields=["created_at", "id"],
                name="events_outbox_to_sequence",
                condition=Q(position__isnull=True),
            ),
            # One index per filter of the feed (type IN ...; subject = or LIKE 'prefix%'):
            # the sequencer rewrites every row once, so every index costs per event.
            models.Index(fields=["type"], name="events_outbox_type"),
            models.Index(
                fields=["subject"], name="events_outbox_subject", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject} ({self.id})"


class OutboxCursor(models.Model):
    """A single row: the last assigned feed position. Its row lock serialises sequencing."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"outbox cursor at {self.last_position}"


class Delivery(models.Model):
    """One event to one sink: status, attempts, next attempt time, last error."""

    # indexed by the (event, sink) unique constraint, whose first column it is
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    sink = models.CharField(max_length=200)
    # the event's subject, copied so that per-(sink, subject) order is checked on this
    # table alone (see docs/events.md, "Ordering")
    subject = models.CharField(max_length=512, editable=False)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "sink"], name="events_delivery_event_sink"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="events_delivery_due",
                condition=Q(status="pending"),
            ),
            # the per-subject order check: undelivered earlier deliveries of a (sink,
            # subject); only rows not yet done, so it stays small. The reaper's scan of
            # claimed rows uses it too (no index of its own: one less per delivery)
            models.Index(
                fields=["sink", "subject", "id"],
                name="events_delivery_undelivered",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            # the admin's filters on deliveries a steward acts on; rows that never fail
            # never enter it (an index of every row's status cost two entries per delivery:
            # on insert and when it is marked delivered)
            models.Index(
                fields=["status", "sink"],
                name="events_delivery_given_up",
                condition=Q(status__in=["dead", "discarded"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.sink} ({self.status})"


class DeadLetter(models.Model):
    """A delivery that will not be retried on its own; a steward requeues or discards it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="dead_letters")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="dead_letters")
    sink = models.CharField(max_length=200)
    reason = models.CharField(max_length=16, choices=DeadLetterReason.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=DeadLetterResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="events_deadletter_open",
                condition=Q(resolved_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.sink}: {self.reason}"


sink_name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", "Lower case letters, digits, - and _."
)


class WebhookSubscription(models.Model):
    """An HTTP endpoint that receives signed, structured-mode CloudEvents."""

    name = models.CharField(
        max_length=100, unique=True, validators=[sink_name_validator, MinLengthValidator(1)]
    )
    url = models.URLField(max_length=1024)
    # write-only: shown once when made or rotated (events.webhooks), encrypted at rest
    secret = EncryptedTextField(
        validators=[MinLengthValidator(16), MaxLengthValidator(256)],
        help_text="HMAC-SHA256 key for the X-OMS-Signature header (16 to 256 characters).",
    )
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Type patterns to deliver (globs, e.g. ["com.oms.ontology.*"]); empty = all.',
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def sink_name(self) -> str:
        return f"webhook:{self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not isinstance(self.event_types, list) or not all(
            isinstance(p, str) and p for p in self.event_types
        ):
            raise ValidationError({"event_types": "A list of non-empty type patterns."})
