"""Webhook signing secrets: write-only, encrypted at rest, rotatable (issue 12, defect 1)."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.management import call_command
from django.db import connection

from events import webhooks
from events.models import WebhookSubscription
from events.sinks import enabled_sinks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SECRET = "a-receivers-secret-of-some-length"


def _stored(pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM events_webhooksubscription WHERE id = %s", [pk])
        return cur.fetchone()[0]


def _staff(client, *perms: str):
    user = UserFactory(username="staff", is_staff=True, permissions=[f"events.{p}" for p in perms])
    client.force_login(user)
    return client


def test_a_viewer_never_sees_the_secret(client):
    hook, _ = webhooks.create_webhook("crm", "http://127.0.0.1:9/x", secret=SECRET)
    viewer = _staff(client, "view_webhooksubscription")
    for path in (
        f"/admin/events/webhooksubscription/{hook.pk}/change/",
        "/admin/events/webhooksubscription/",
    ):
        page = viewer.get(path)
        assert page.status_code == 200
        assert SECRET not in page.content.decode()


def test_the_secret_is_encrypted_at_rest_and_signs_in_clear():
    hook, _ = webhooks.create_webhook("crm", "http://127.0.0.1:9/x", secret=SECRET)
    stored = _stored(hook.pk)
    assert SECRET not in stored and stored.startswith("fernet:")
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == SECRET
    assert enabled_sinks()["webhook:crm"].secret == SECRET


def test_adding_shows_a_generated_secret_once_then_masks_it(admin_client):
    answer = admin_client.post(
        "/admin/events/webhooksubscription/add/",
        {
            "name": "erp",
            "url": "http://127.0.0.1:9/y",
            "secret": "",
            "event_types": "[]",
            "enabled": "on",
        },
        follow=True,
    )
    assert answer.status_code == 200
    shown = re.search(r"Signing secret of erp: <code>([^<]+)</code>", answer.content.decode())
    assert shown, answer.content.decode()[:2000]
    hook = WebhookSubscription.objects.get(name="erp")
    assert hook.secret == shown.group(1) and len(hook.secret) >= 32
    page = admin_client.get(f"/admin/events/webhooksubscription/{hook.pk}/change/")
    assert hook.secret not in page.content.decode()
    # a change leaves the secret alone
    admin_client.post(
        f"/admin/events/webhooksubscription/{hook.pk}/change/",
        {"name": "erp", "url": "http://127.0.0.1:9/z", "event_types": "[]", "enabled": "on"},
    )
    changed = WebhookSubscription.objects.get(pk=hook.pk)
    assert changed.url.endswith("/z") and changed.secret == hook.secret


def test_the_rotate_action_makes_a_new_secret_shown_once(admin_client):
    hook, _ = webhooks.create_webhook("crm", "http://127.0.0.1:9/x", secret=SECRET)
    answer = admin_client.post(
        "/admin/events/webhooksubscription/",
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
        follow=True,
    )
    shown = re.search(r"Signing secret of crm: <code>([^<]+)</code>", answer.content.decode())
    assert shown
    hook.refresh_from_db()
    assert hook.secret == shown.group(1) != SECRET
    assert enabled_sinks()["webhook:crm"].secret == hook.secret


def test_a_viewer_cannot_rotate(client):
    hook, _ = webhooks.create_webhook("crm", "http://127.0.0.1:9/x", secret=SECRET)
    viewer = _staff(client, "view_webhooksubscription")
    viewer.post(
        "/admin/events/webhooksubscription/",
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
    )
    hook.refresh_from_db()
    assert hook.secret == SECRET


def test_rotate_keys_reencrypts_with_the_first_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.OMS_ENCRYPTION_KEYS = [old]
    hook, _ = webhooks.create_webhook("crm", "http://127.0.0.1:9/x", secret=SECRET)
    settings.OMS_ENCRYPTION_KEYS = [new, old]  # the new key first; the old still decrypts
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == SECRET
    call_command("rotate_keys")
    settings.OMS_ENCRYPTION_KEYS = [new]  # the old key dropped
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == SECRET


def test_deploy_check_refuses_the_development_key(settings):
    settings.OMS_ENCRYPTION_KEYS = []
    found = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "events.E002"]
    assert found and found[0].level == checks.ERROR
    settings.OMS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert not [
        m for m in checks.run_checks(include_deployment_checks=True) if m.id == "events.E002"
    ]
