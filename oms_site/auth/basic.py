"""HTTP Basic authentication that django-axes can lock out."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication


class LockoutBasicAuthentication(BasicAuthentication):
    """DRF's Basic authentication, handing Django's own request to ``authenticate`` so that
    django-axes' middleware sees a lockout (it marks the request it is given; DRF's
    ``Request`` wrapper would keep the mark to itself)."""

    def authenticate_credentials(self, userid, password, request=None):
        django_request = getattr(request, "_request", request)
        return super().authenticate_credentials(userid, password, django_request)


class LockoutBasicScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the same ``basicAuth`` scheme as DRF's Basic authentication."""

    target_class = LockoutBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
