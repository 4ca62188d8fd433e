"""Production settings (issue 12): ``check --deploy`` with the documented production
environment gives no warning; the role groups come with the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = ROOT / "docs" / "production.env"


def documented_environment() -> dict[str, str]:
    """The variables docs/production.env sets (the README points to it); a ``<placeholder>``
    gets a fresh secret of its kind."""
    import secrets

    from cryptography.fernet import Fernet

    values = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            if value.startswith("<"):
                fernet = name == "OMS_ENCRYPTION_KEYS"
                value = Fernet.generate_key().decode() if fernet else secrets.token_urlsafe(50)
            values[name] = value
    return values


def _deploy_check(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "OMS_", "SECRET"))}
    base["OMS_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "oms_site.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    done = _deploy_check(documented_environment(), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_warns_without_it(tmp_path):
    done = _deploy_check({}, tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr + done.stdout


def test_the_readme_lists_every_https_setting():
    readme = (ROOT / "README.md").read_text()
    for name in documented_environment():
        assert name in readme, name


@pytest.mark.django_db
def test_the_role_groups_come_with_the_database():
    from django.contrib.auth.models import Group

    roles = {
        g.name: g for g in Group.objects.filter(name__in=["viewer", "editor", "steward", "admin"])
    }
    assert set(roles) == {"viewer", "editor", "steward", "admin"}
    viewer = set(roles["viewer"].permissions.values_list("codename", flat=True))
    assert "view_objecttype" in viewer and "add_objecttype" not in viewer
    steward = set(roles["steward"].permissions.values_list("codename", flat=True))
    assert {"merge_branch", "change_webhooksubscription"} <= steward
