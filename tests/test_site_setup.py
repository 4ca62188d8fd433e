"""What the site gives a steward and an operator before any page: the favicon, the URL
that follows ``OMS_BIND``, the login ``ensure_admin`` prints, and the worker's JSON logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("OMS_BIND", "OMS_PUBLIC_URL")}
    environ.update(DJANGO_SETTINGS_MODULE="oms_site.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_favicon_is_a_real_icon_on_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)


@pytest.mark.django_db
def test_admin_pages_link_the_favicon_and_the_stylesheet(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'rel="icon" href="/favicon.ico"' in page
    assert "oms/admin.css" in page
    assert admin_client.get("/static/oms/admin.css").status_code == 200


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:9123", "http://127.0.0.1:9123"),
        ("oms.internal:8080", "http://oms.internal:8080"),
    ],
)
def test_the_public_url_follows_oms_bind(bind, url):
    code = "from django.conf import settings; print(settings.OMS_PUBLIC_URL)"
    assert _python(code, OMS_BIND=bind).stdout.strip() == url


def test_an_explicit_public_url_wins_over_oms_bind():
    code = "from django.conf import settings; print(settings.OMS_PUBLIC_URL)"
    out = _python(code, OMS_BIND="0.0.0.0:9123", OMS_PUBLIC_URL="https://oms.example.org/")
    assert out.stdout.strip() == "https://oms.example.org"


@pytest.mark.django_db
def test_ensure_admin_prints_the_login_at_the_public_url(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("OMS_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    settings.OMS_PUBLIC_URL = "http://127.0.0.1:9123"
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "Admin login: http://127.0.0.1:9123/admin/" in out.getvalue()


WORKER_LOG = """
import django
django.setup()
from oms_site.celery import app
# what `celery worker` does at start-up, before any task runs
app.log.setup(loglevel="INFO", redirect_stdouts=False)
from events.sinks.base import Message
from events.sinks.log import LogSink
body = b'{"type": "ontology.object_type.updated.v1", "data": {"apiName": "Airport"}}'
message = Message("e-1", "ontology.object_type.updated.v1", "object-types/Airport", body)
LogSink().send_batch([message])
"""


def test_the_worker_logs_each_event_as_one_json_line_with_type_subject_and_body():
    err = _python(WORKER_LOG).stderr
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    events = [line for line in lines if line.get("logger") == "events.sink.log"]
    assert len(events) == 1, err
    event = events[0]
    assert event["event_type"] == "ontology.object_type.updated.v1"
    assert event["subject"] == "object-types/Airport"
    assert json.loads(event["cloudevent"])["data"] == {"apiName": "Airport"}
