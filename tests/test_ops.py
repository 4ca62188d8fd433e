"""Operability: health probes, metrics, structured logs with request ids, body limits."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db


def test_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_database_cache_and_broker(ops_client):
    response = ops_client.get("/health/ready")
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert response.status_code == 200, body
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_ready_reports_a_broken_dependency_with_503(ops_client, monkeypatch):
    from oms_site import health

    def broken():
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(health, "_check_broker", broken)
    response = ops_client.get("/health/ready")
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["status"] == "error" and "broker unreachable" in broker["error"]


def test_metrics_exposes_django_and_process_metrics(client, ops_client):
    client.get("/health/live")
    response = ops_client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_http_responses_total_by_status_total" in text


def test_request_id_is_echoed_and_generated(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = client.get("/health/live")["X-Request-ID"]
    assert len(generated) == 32
    # a header that is not a safe token is replaced, not echoed
    assert client.get("/health/live", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


def test_logs_are_json_lines_carrying_the_request_id(client):
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    from oms_site.logging import RequestIdFilter

    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Capture()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no/such/page", HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    assert records, "a 404 is logged by django.request"
    fmt = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(fmt["fmt"], rename_fields=fmt["rename_fields"])
    line = json.loads(formatter.format(records[-1]))
    assert line["request_id"] == "req-42"
    assert line["level"] == "WARNING" and line["logger"] == "django.request"


def test_oversized_body_gets_413_in_the_error_format(client, settings):
    settings.OMS_MAX_BODY_BYTES = 1000
    response = client.post(
        "/api/v1/branches/main/object-types/",
        data="x" * 2000,
        content_type="application/json",
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["status"] == 413 and error["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/diff/?from=%00abc&to=main", "from"),
        ("/api/v1/branches/main/object-types/?search=a%00b", "search"),
        ("/admin/ontology/objecttype/?q=%00", "q"),
        ("/api/v1/branches/ma%00in/object-types/", "path"),
    ],
)
def test_a_nul_character_in_the_url_is_a_400_naming_the_field(admin_client, path, field):
    response = admin_client.get(path)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_an_api_url_matching_no_route_is_a_json_404(admin_client):
    response = admin_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
    html = admin_client.get("/no-such-page/")
    assert html.status_code == 404 and html["Content-Type"].startswith("text/html")


def test_every_api_operation_documents_the_error_shape(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    assert "Error" in schema["components"]["schemas"]
    detail = schema["paths"]["/api/v1/branches/{branch}/object-types/{api_name}/"]
    assert {"400", "401", "403", "404", "304"} <= set(detail["get"]["responses"])
    assert {"409", "412", "413", "415"} <= set(detail["patch"]["responses"])
    ref = detail["patch"]["responses"]["412"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Error"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert "404" in operation["responses"], (method, path)


def test_the_api_module_can_be_the_first_to_load_drf():
    """``oms_site.api`` is named by DRF's settings; importing it before anything else has
    loaded ``rest_framework.views`` must not be circular (``makemigrations --check`` and
    any module importing ``oms_site.api`` early depend on it)."""
    import subprocess
    import sys

    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'oms_site.settings'); "
        "import django; django.setup(); import oms_site.api; import versioning.api.releases"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
