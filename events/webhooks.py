"""Webhook subscriptions: their signing secrets are write-only (shown once, when made or
rotated), stored encrypted (``events.encryption``)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from .models import WebhookSubscription


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def create_webhook(
    name: str, url: str, *, event_types: list[str] | None = None, secret: str = "", **fields: Any
) -> tuple[WebhookSubscription, str]:
    """Make a subscription; returns it and its secret (generated unless given), which is
    never shown again."""
    secret = secret or new_secret()
    subscription = WebhookSubscription(
        name=name, url=url, event_types=event_types or [], secret=secret, **fields
    )
    subscription.full_clean()
    subscription.save()
    return subscription, secret


@transaction.atomic
def rotate_webhook_secret(subscription: WebhookSubscription) -> str:
    """Give the subscription a new secret, returned once; the old one stops signing now."""
    secret = new_secret()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret)
    subscription.secret = secret
    return secret
