"""``/api/v1/auth/api-token/``: every user manages their own API token (``Authorization:
Token <key>``); stewards manage others' in the admin (Auth Token → Tokens, the steward
role holds the ``authtoken`` permissions)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

TokenAnswer = inline_serializer(
    "ApiToken", {"key": serializers.CharField(), "created": serializers.DateTimeField()}
)
TokenState = inline_serializer(
    "ApiTokenState",
    {"exists": serializers.BooleanField(), "created": serializers.DateTimeField(allow_null=True)},
)


class OwnTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_api_token_read",
        summary="Whether you have an API token (the key itself is shown only when made)",
        responses={200: TokenState},
        tags=["auth"],
    )
    def get(self, request):
        token = Token.objects.filter(user=request.user).first()
        return Response({"exists": token is not None, "created": token and token.created})

    @extend_schema(
        operation_id="auth_api_token_rotate",
        summary="Make your API token, replacing the old one; the key is shown this once",
        request=None,
        responses={201: TokenAnswer},
        tags=["auth"],
    )
    def post(self, request):
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            token = Token.objects.create(user=request.user)
        return Response(
            {"key": token.key, "created": token.created}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="auth_api_token_delete",
        summary="Delete your API token",
        request=None,
        responses={204: None},
        tags=["auth"],
    )
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
