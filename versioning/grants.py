"""What a user holds: model permissions and per-branch grants, read in one query.

Django's ``ModelBackend`` reads a user's model permissions in two queries (the user's own,
then their groups'), and django-guardian reads one object's grants in two more (the
user's, then their groups'). A write through the API asks both questions (the ontology
model permission of the change, and ``edit_branch`` model-wide or on the branch), so it
paid four queries and their ORM compilation before doing anything.

:func:`holds` answers the same question from one hand-written ``UNION`` over the same
tables, with the same meaning: an inactive or anonymous user holds nothing (OMS lets no
anonymous request act), an active superuser holds everything, and a user holds a
permission given to them or to one of their groups, model-wide (``auth``) or on the
branch (guardian's generic object-permission tables). ``tests/versioning/test_grants.py``
holds it to Django's and guardian's own answers over random grants.

The answer is remembered on the user object (one request's user), as Django and guardian
remember theirs: see :func:`holds`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from guardian.models import GroupObjectPermission, UserObjectPermission

from .models import Branch

_CACHE = "_oms_grants"  # {branch pk or None: (model-wide perms, perms on the branch)}


@cache
def _sql() -> str:
    """The query, its table and column names from the models' metadata."""
    q = connection.ops.quote_name
    user_model = get_user_model()
    user_fk = user_model._meta.model_name  # the through tables' column to the user

    def name(model, field: str | None = None) -> str:
        return q(model._meta.get_field(field).column if field else model._meta.db_table)

    ct, perm = ContentType, Permission
    up, ug = user_model.user_permissions.through, user_model.groups.through
    gp, uop, gop = Group.permissions.through, UserObjectPermission, GroupObjectPermission
    # ug.group = <grant>.group, for a group's grant to reach its members
    member = f"JOIN {name(ug)} ug ON ug.{name(ug, 'group')} = g.{{group}}"
    model_wide = (
        f"SELECT {name(up, 'permission')} FROM {name(up)} WHERE {name(up, user_fk)} = %s "
        f"UNION SELECT g.{name(gp, 'permission')} FROM {name(gp)} g "
        + member.format(group=name(gp, "group"))
        + f" WHERE ug.{name(ug, user_fk)} = %s"
    )
    on_branch = (
        f"SELECT {name(uop, 'permission')} FROM {name(uop)} WHERE {name(uop, 'user')} = %s "
        f"AND {name(uop, 'content_type')} = %s AND {name(uop, 'object_pk')} = %s "
        f"UNION SELECT g.{name(gop, 'permission')} FROM {name(gop)} g "
        + member.format(group=name(gop, "group"))
        + f" WHERE ug.{name(ug, user_fk)} = %s AND g.{name(gop, 'content_type')} = %s "
        f"AND g.{name(gop, 'object_pk')} = %s"
    )
    select = (
        f"SELECT c.{name(ct, 'app_label')}, p.{name(perm, 'codename')}, {{on}} "
        f"FROM {name(perm)} p JOIN {name(ct)} c "
        f"ON c.{name(ct, 'id')} = p.{name(perm, 'content_type')} "
        f"WHERE p.{name(perm, 'id')} IN ({{ids}})"
    )
    return f"{select.format(on=0, ids=model_wide)} UNION ALL {select.format(on=1, ids=on_branch)}"


def _read(user: Any, branch_pk: int | None) -> tuple[frozenset[str], frozenset[str]]:
    """``(model-wide, on the branch)`` as ``app_label.codename`` sets, in one query."""
    branch_type = ContentType.objects.get_for_model(Branch).pk  # cached after the first
    pk = branch_pk if branch_pk is not None else 0  # no branch: no object grant matches
    params = [user.pk, user.pk, user.pk, branch_type, str(pk), user.pk, branch_type, str(pk)]
    model_wide: set[str] = set()
    on_branch: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(_sql(), params)
        for app_label, codename, on in cursor.fetchall():
            (on_branch if on else model_wide).add(f"{app_label}.{codename}")
    if branch_pk is None:
        on_branch.clear()
    return frozenset(model_wide), frozenset(on_branch)


def holds(user: Any, perm: str, branch: Branch | None = None) -> bool:
    """Whether ``user`` holds ``perm`` (``"app_label.codename"``) model-wide or, given a
    saved ``branch``, granted on it: ``user.has_perm(perm) or user.has_perm(perm, branch)``
    with Django's and guardian's backends, in one query where they take four.

    Remembered on the user object for the request: model-wide permissions as Django
    remembers them (read once); a branch's grants as guardian read them (a permission
    not found is read again, so a grant given earlier in the request counts)."""
    if user is None or not getattr(user, "is_active", False) or user.pk is None:
        return False
    if user.is_superuser:
        return True
    branch_pk = branch.pk if branch is not None else None
    remembered = getattr(user, _CACHE, None)
    if remembered is None:
        remembered = {}
        setattr(user, _CACHE, remembered)
    known = remembered.get(branch_pk)
    if known is not None:
        held = perm in known[0] or perm in known[1]
        if held or branch_pk is None:  # a branch grant not held is read again
            return held
    known = _read(user, branch_pk)
    remembered[branch_pk] = known
    remembered[None] = (known[0], frozenset())
    return perm in known[0] or perm in known[1]
