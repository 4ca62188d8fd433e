"""Shared fixtures. Tests that need a real service skip on a laptop without it and fail
in CI (``CI=true``), where every service must be up."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def need_service(name: str, url: str | None, default_port: int) -> str:
    """The service URL, or skip (fail in CI) when it is not configured or not reachable."""
    if not url or not _reachable(url, default_port):
        message = f"{name} is not available (url={url!r})"
        if IN_CI:
            pytest.fail(f"{message}: CI must run this test against the real service.")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_db(settings):
    """Skip (fail in CI) unless the test database is PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI must run on PostgreSQL (DATABASE_URL).")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url():
    return need_service("Redis", os.environ.get("REDIS_URL"), 6379)


@pytest.fixture
def nats_url():
    return need_service("NATS", os.environ.get("NATS_URL"), 4222)


OPS_TOKEN = "test-operations-token"


@pytest.fixture
def ops_client(client, settings):
    """A test client that holds the operations token (``/metrics``, ``/health/ready``)."""
    settings.OMS_OPS_TOKEN = OPS_TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {OPS_TOKEN}"
    return client


@pytest.fixture(autouse=True)
def no_throttling(settings):
    """Rate limits off: tests not about throttling make requests as fast as they like.
    ``tests/protection/test_throttling.py`` turns them on with its own rates."""
    settings.OMS_THROTTLE_ENABLED = False
