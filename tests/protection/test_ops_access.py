"""/metrics and /health/ready answer only the operations token or network (issue 12, 6)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PROTECTED = ["/metrics", "/health/ready"]


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_callers_get_401_and_learn_nothing(client, settings, path):
    settings.OMS_OPS_TOKEN = "the-token"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Token x"}):
        answer = client.get(path, **headers)
        assert answer.status_code == 401, (path, headers)
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["error"]["code"] == "not_authenticated"
        assert b"broker" not in answer.content and b"django_http" not in answer.content


@pytest.mark.parametrize("path", PROTECTED)
def test_no_token_configured_means_no_bearer_gets_in(client, settings, path):
    settings.OMS_OPS_TOKEN = ""
    assert client.get(path, HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.parametrize("path", PROTECTED)
def test_the_token_or_an_allowed_network_gets_in(client, settings, path):
    settings.OMS_OPS_TOKEN = "the-token"
    assert client.get(path, HTTP_AUTHORIZATION="Bearer the-token").status_code == 200
    settings.OMS_OPS_NETWORKS = ["10.1.0.0/16"]
    assert client.get(path, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(path, REMOTE_ADDR="10.2.0.1").status_code == 401
    # a forwarded address is not trusted
    forwarded = client.get(path, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert forwarded.status_code == 401


def test_liveness_stays_open(client):
    assert client.get("/health/live").status_code == 200
