"""OMS's own JWT bodies: simplejwt's serializers, strict like every other request body
(:mod:`oms_site.strict`): an unknown key is a 400 naming it, and the OpenAPI document says
``additionalProperties: false``. Wired in through ``SIMPLE_JWT`` in the settings."""

from __future__ import annotations

from rest_framework_simplejwt import serializers as jwt

from oms_site.strict import StrictSerializer


class TokenObtainPairSerializer(StrictSerializer, jwt.TokenObtainPairSerializer):
    pass


class TokenRefreshSerializer(StrictSerializer, jwt.TokenRefreshSerializer):
    pass


class TokenVerifySerializer(StrictSerializer, jwt.TokenVerifySerializer):
    pass


class TokenBlacklistSerializer(StrictSerializer, jwt.TokenBlacklistSerializer):
    pass
