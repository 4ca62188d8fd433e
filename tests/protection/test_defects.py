"""The holes found under attack (issue 12): each test failed on the code before the fix."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.factories import BranchFactory, ObjectTypeFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- 4. OPTIONS on a branch resource -------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/branches/dev/object-types/",
        "/api/v1/branches/dev/object-types/Flight/",
        "/api/v1/branches/main/object-types/Flight/",
    ],
)
def test_options_answers_200_to_a_viewer_without_write_actions(path):
    main = BranchFactory(name="main", protected=True)
    dev = BranchFactory(name="dev")
    for branch in (main, dev):
        ObjectTypeFactory(branch=branch, api_name="Flight")
    answer = _client(UserFactory(username="viewer")).options(path)
    assert answer.status_code == 200, answer.content
    # a viewer may not write: the metadata offers no write action
    assert "actions" not in answer.json()


# --- 5. username enumeration ----------------------------------------------------------------
@pytest.mark.django_db
def test_reviewers_do_not_tell_unknown_users_from_users_who_cannot_review():
    from tests.versioning.support import seed_main, steward

    seed_main(1)
    author = steward("author")
    api = _client(author)
    assert api.post("/api/v1/branches/", {"name": "dev"}, format="json").status_code == 201
    UserFactory(username="plain")  # exists, may not review
    UserFactory(username="gone", is_active=False, permissions=["versioning.approve_proposal"])
    answers = {}
    for name in ("nosuchuser", "plain", "gone"):
        answer = api.post(
            "/api/v1/proposals/",
            {"source": "dev", "title": "t", "reviewers": [name]},
            format="json",
        )
        assert answer.status_code == 400, answer.content
        body = answer.json()["error"]
        assert "reviewers" in body["fields"]
        assert name not in answer.content.decode()
        answers[name] = body
    assert answers["nosuchuser"] == answers["plain"] == answers["gone"]
    steward("bob")
    ok = api.post(
        "/api/v1/proposals/", {"source": "dev", "title": "t", "reviewers": ["bob"]}, format="json"
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["reviewers"] == ["bob"]


# --- 7. the development SECRET_KEY -----------------------------------------------------------
def _django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "DEBUG"))}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**full, "DJANGO_SETTINGS_MODULE": "oms_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_development_secret_key_is_refused_without_debug():
    from oms_site.settings import DEVELOPMENT_SECRET_KEY

    refused = _django_setup({"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "DEBUG": "false"})
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr and "started" not in refused.stdout
    for env in (
        {"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "DEBUG": "true"},
        {"SECRET_KEY": "a-real-secret-" + "x" * 50, "DEBUG": "false"},
    ):
        started = _django_setup(env)
        assert started.returncode == 0, started.stderr
        assert "started" in started.stdout


def test_without_secret_key_a_random_one_is_kept_under_var(tmp_path):
    env = {"OMS_VAR_DIR": str(tmp_path), "DEBUG": "false"}
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(settings.SECRET_KEY)"
    keys = []
    for _ in range(2):
        full = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**full, **env, "DJANGO_SETTINGS_MODULE": "oms_site.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        keys.append(done.stdout.strip().splitlines()[-1])
    from oms_site.settings import DEVELOPMENT_SECRET_KEY

    assert keys[0] == keys[1] and len(keys[0]) >= 50 and keys[0] != DEVELOPMENT_SECRET_KEY


# --- 8. chunked bodies over the limit --------------------------------------------------------
def _wsgi(method: str, path: str, body: bytes, **headers: str) -> tuple[str, bytes]:
    """Call the WSGI application as gunicorn does for a chunked request: no CONTENT_LENGTH,
    the de-chunked body on ``wsgi.input``."""
    from oms_site.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **headers,
    }
    status: list[str] = []
    chunks = application(environ, lambda s, h, *a: status.append(s))
    return status[0], b"".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_answers_413(settings):
    settings.OMS_MAX_BODY_BYTES = 1000
    body = b'{"name": "' + b"x" * 2000 + b'"}'
    status, content = _wsgi("POST", "/api/v1/branches/", body)
    assert status.startswith("413"), (status, content)
    assert b"payload_too_large" in content


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_under_the_limit_is_read(settings):
    import base64

    user = UserFactory(username="b", permissions=["versioning.add_branch"])
    user.set_password("pw-for-basic")
    user.save()
    BranchFactory(name="main", protected=True)
    auth = "Basic " + base64.b64encode(b"b:pw-for-basic").decode()
    status, content = _wsgi(
        "POST", "/api/v1/branches/", b'{"name": "chunked"}', HTTP_AUTHORIZATION=auth
    )
    assert status.startswith("201"), (status, content)
