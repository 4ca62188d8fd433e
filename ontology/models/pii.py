"""A steward's dismissal of a suspected-PII finding, remembered for every branch."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ..pii_detection import CATEGORIES


class PiiDismissal(models.Model):
    """ "Not PII" for one reason of one property or shared property: keyed by the entity's
    rid (shared by the entity on every branch and kept by bundle imports), so the finding
    does not come back on any branch."""

    rid = models.UUIDField(help_text="The property's or shared property's rid.")
    reason = models.CharField(max_length=40, choices=[(c, c) for c in CATEGORIES])
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "PII finding dismissal"
        default_permissions = ()  # dismissing needs versioning.view_pii (ontology.pii)
        constraints = [models.UniqueConstraint(fields=["rid", "reason"], name="uniq_pii_dismissal")]

    def __str__(self) -> str:
        return f"{self.rid}: not {self.reason}"
