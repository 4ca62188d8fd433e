"""Encryption at rest (``cryptography``'s MultiFernet), for every app: the events app is
the bottom layer, so ontology and versioning may use it too.

Keys come from ``OMS_ENCRYPTION_KEYS`` (comma separated Fernet keys: the first encrypts,
every one decrypts, so a new key goes first and an old one stays until ``manage.py
rotate_keys`` has re-encrypted everything). Without it a development key is derived from
``SECRET_KEY``; ``manage.py check --deploy`` refuses that (``events.E002``).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"  # marks a stored value as encrypted (a clear value never starts so)


def development_key() -> bytes:
    """The key used when ``OMS_ENCRYPTION_KEYS`` is unset: derived from ``SECRET_KEY``."""
    digest = hashlib.sha256(b"oms-encryption-at-rest:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def configured_keys() -> list[str]:
    return [k for k in getattr(settings, "OMS_ENCRYPTION_KEYS", []) if k]


def _fernet() -> MultiFernet:
    keys = configured_keys() or [development_key().decode()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"OMS_ENCRYPTION_KEYS: {exc}") from exc


def encrypt(text: str) -> str:
    return PREFIX + _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The clear text of a stored value (a value stored before encryption is returned
    as it is)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A value encrypted at rest cannot be decrypted with OMS_ENCRYPTION_KEYS: keep the "
            "old key in the list until manage.py rotate_keys has run."
        ) from exc


class EncryptedTextField(models.TextField):
    """Clear text in Python, MultiFernet ciphertext in the database."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored with :class:`EncryptedTextField`."""
    from django.apps import apps

    return [
        (model, f.name)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]
