"""``/api/v1/auth/``: OMS's own JWTs (djangorestframework-simplejwt), your API token."""

from django.urls import path
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from .tokens import OwnTokenView

urlpatterns = [
    path("token/", TokenObtainPairView.as_view(), name="jwt-obtain"),
    path("token/refresh/", TokenRefreshView.as_view(), name="jwt-refresh"),
    path("token/verify/", TokenVerifyView.as_view(), name="jwt-verify"),
    path("logout/", TokenBlacklistView.as_view(), name="jwt-logout"),
    path("api-token/", OwnTokenView.as_view(), name="own-api-token"),
]
