"""``manage.py ensure_admin``: the role groups and an ``admin`` login for ``make run``.

Idempotent. The password comes from ``OMS_ADMIN_PASSWORD``; without it, one is generated
once and kept in ``var/admin-password.txt`` (mode 600) so that every ``make run`` prints
the same login. A password changed since (in the admin) is left alone unless
``OMS_ADMIN_PASSWORD`` or ``--reset-password`` asks for it.

Roles (DESIGN.md, Access) are groups with model permissions:

- viewer: view every ontology, versioning and events model (not ``view_pii``);
- editor: viewer, plus add/change/delete on the ontology, and creating branches, commits
  and proposals. An editor edits the branches they created (``create_branch`` grants the
  creator ``edit_branch`` on the new branch) and those a steward grants them;
- steward: editor, plus every versioning permission — among them ``edit_branch`` and
  ``merge_branch`` model-wide, so every branch, and ``view_pii`` (PII example values and
  owner contacts in clear) — the events permissions (requeue dead
  letters, webhooks) and the API token permissions (other users' tokens);
- admin: every permission (the ``admin`` login is a superuser anyway).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from rest_framework.authtoken.models import Token

USERNAME = "admin"
PASSWORD_ENV = "OMS_ADMIN_PASSWORD"


def role_permissions() -> dict[str, Q]:
    """Each role's permissions as a filter on ``Permission`` (cumulative)."""
    # view_pii (PII example values and owner contacts in clear) is a steward's: not "view_*"
    viewer = (
        Q(content_type__app_label__in=["ontology", "versioning", "events"])
        & Q(codename__startswith="view_")
        & ~Q(codename="view_pii")
    )
    editor = (
        viewer
        | (
            Q(content_type__app_label="ontology")
            & (
                Q(codename__startswith="add_")
                | Q(codename__startswith="change_")
                | Q(codename__startswith="delete_")
            )
        )
        | (
            Q(content_type__app_label="versioning")
            & Q(codename__in=["add_branch", "add_commit", "add_proposal"])
        )
    )
    # stewards also manage other users' API tokens (authtoken: the admin's Tokens page)
    steward = editor | Q(content_type__app_label__in=["versioning", "events", "authtoken"])
    return {"viewer": viewer, "editor": editor, "steward": steward, "admin": Q()}


def password_file() -> Path:
    return Path(settings.VAR_DIR) / "admin-password.txt"


def stored_or_new_password() -> str:
    """The generated password kept under ``var/``, created (mode 600) on first use."""
    path = password_file()
    if path.exists():
        stored = path.read_text().strip()
        if stored:
            return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(15)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the role groups and the 'admin' superuser (idempotent); print the login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Set the admin password back to the configured or stored one.",
        )

    def handle(self, *args, **options):
        from_env = os.environ.get(PASSWORD_ENV, "")
        password = from_env or stored_or_new_password()
        with transaction.atomic():
            admin_group = self.ensure_groups()
            user, created = self.ensure_user(password, bool(from_env) or options["reset_password"])
            user.groups.add(admin_group)
        source = f"from ${PASSWORD_ENV}" if from_env else f"stored in {password_file()}"
        self.stdout.write(f"Admin login: {settings.OMS_PUBLIC_URL}/admin/")
        self.stdout.write(f"  username: {USERNAME}")
        if created is None:
            self.stdout.write(
                "  password: changed since it was set here; left as it is "
                "(use --reset-password to restore it)"
            )
        else:
            self.stdout.write(f"  password: {password}  ({source})")
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(f"  API token: {token.key}  (header 'Authorization: Token <key>')")

    def ensure_groups(self) -> Group:
        groups = {}
        for name, perms in role_permissions().items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set(Permission.objects.filter(perms))
            groups[name] = group
        return groups["admin"]

    def ensure_user(self, password: str, enforce: bool):
        """(user, created): created is None when the password was changed and kept."""
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        if user is None:
            user = User.objects.create_superuser(USERNAME, email="", password=password)
            return user, True
        changed = False
        if not (user.is_superuser and user.is_staff and user.is_active):
            user.is_superuser = user.is_staff = user.is_active = True
            changed = True
        keep = False
        if not user.check_password(password):
            if enforce:
                user.set_password(password)
                changed = True
            else:
                keep = True
        if changed:
            user.save()
        return user, None if keep else False
