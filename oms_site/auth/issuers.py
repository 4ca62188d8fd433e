"""Tokens from an organisation's identity provider: an external issuer's JWTs, checked
against its JWKS (PyJWT's ``PyJWKClient``) for signature, issuer, audience and expiry, and
mapped to a user and to OMS's role groups.

Settings (from the environment, see README): ``OMS_OIDC_ISSUER`` (the ``iss`` to accept;
unset: off), ``OMS_OIDC_JWKS_URL``, ``OMS_OIDC_AUDIENCE``, ``OMS_OIDC_USERNAME_CLAIM``
(``preferred_username``), ``OMS_OIDC_ROLES_CLAIM`` (``roles``: a list) and
``OMS_OIDC_ROLE_MAP`` (the issuer's role -> an OMS role group; by default the role
groups' own names). A token of another issuer is left to OMS's own JWTs (simplejwt).
"""

from __future__ import annotations

import functools
import logging

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

logger = logging.getLogger(__name__)

ROLE_GROUPS = ("viewer", "editor", "steward", "admin")
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)


def _bearer(request) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return None
    return parts[1].decode("latin-1")


def verify(token: str) -> dict:
    """The claims of a token of the configured issuer; AuthenticationFailed otherwise."""
    conf = settings.OMS_OIDC
    try:
        key = _jwks_client(conf["JWKS_URL"]).get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            audience=conf["AUDIENCE"],
            issuer=conf["ISSUER"],
            leeway=conf["LEEWAY_SECONDS"],
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWKClientError as exc:
        logger.warning("external issuer: no signing key", extra={"error": str(exc)})
        raise exceptions.AuthenticationFailed("The token's signing key is not known.") from exc
    except jwt.InvalidTokenError as exc:
        raise exceptions.AuthenticationFailed(f"Invalid token: {exc}") from exc


@transaction.atomic
def user_for(claims: dict):
    """The user the claims name (made on first sight), in the role groups they carry."""
    conf = settings.OMS_OIDC
    username = claims.get(conf["USERNAME_CLAIM"]) or claims.get("sub")
    if not isinstance(username, str) or not username or len(username) > 150:
        raise exceptions.AuthenticationFailed("The token names no usable user.")
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.is_active:
        raise exceptions.AuthenticationFailed("User inactive or deleted.")
    roles = claims.get(conf["ROLES_CLAIM"]) or []
    if isinstance(roles, str):
        roles = roles.split()
    mapping = conf["ROLE_MAP"] or {name: name for name in ROLE_GROUPS}
    wanted = {mapping[r] for r in roles if isinstance(r, str) and r in mapping}
    managed = set(Group.objects.filter(name__in=ROLE_GROUPS))
    keep = [g for g in user.groups.all() if g not in managed]
    user.groups.set(keep + [g for g in managed if g.name in wanted])
    return user


class ExternalIssuerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <JWT of the configured issuer>``."""

    def authenticate(self, request):
        conf = settings.OMS_OIDC
        token = _bearer(request)
        if not conf["ISSUER"] or token is None:
            return None
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None  # not a JWT at all: another authentication may know it
        if unverified.get("iss") != conf["ISSUER"]:
            return None  # OMS's own JWTs (simplejwt) or another issuer's
        claims = verify(token)
        return user_for(claims), claims

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ExternalIssuerScheme(OpenApiAuthenticationExtension):
    """OpenAPI: a bearer JWT of the organisation's identity provider."""

    target_class = ExternalIssuerAuthentication
    name = "externalIssuerJwt"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
