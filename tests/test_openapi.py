"""The OpenAPI document of the whole project validates without a warning, and is served."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/branches/{branch}/object-types/{api_name}/" in schema


@pytest.mark.django_db
def test_schema_and_swagger_ui_are_served_without_a_cdn(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/branches/{branch}/link-types/" in response.json()["paths"]
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    # every script and stylesheet comes from this server (the sidecar's static files), none
    # from a CDN; the page also carries a random CSRF token, so no search for "cdn" in it
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in src for src in sources), sources
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
