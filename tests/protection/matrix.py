"""The permission matrix's machinery (issue 12): which operations exist, the state they act
on, the principals who call them, and what each call's answer means.

The operations are read from the project itself, never listed by hand:

- every API operation of the OpenAPI document (``METHOD /api/v1/...``);
- for every model registered in the admin, its list, add and change pages;
- every other named admin route (the project's own admin views), and every route outside
  ``/admin/`` that is not a DRF view (health, metrics, the schema and its docs page).

``tests/protection/permission_table.py`` holds what each principal may do with each of
them; ``test_permission_matrix.py`` asks.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ("viewer", "editor", "steward", "admin")
#: the per-branch (django-guardian) grants a steward gives on a branch: the "grant" half
#: of the matrix holds them on both branches of the fixture (``dev`` and ``main``)
BRANCH_GRANTS = ("edit_branch", "merge_branch", "release_branch", "change_branch", "delete_branch")
#: roles that hold every branch permission model-wide, so that a grant on a branch adds
#: nothing (``test_permission_matrix`` checks that it is so rather than calling them twice)
GRANT_MOOT = ("steward", "admin")
PRINCIPALS = ("anonymous",) + tuple(
    f"{role}{suffix}"
    for role in ROLES
    for suffix in (("",) if role in GRANT_MOOT else ("", "+grant"))
)

# Django's own admin routes, which every admin site has
ADMIN_SITE_ROUTES = frozenset(
    {
        "index",
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "autocomplete",
        "jsi18n",
        "view_on_site",
        "app_list",
    }
)
MODEL_VIEWS = ("changelist", "add", "change")
MODEL_ROUTE_SUFFIXES = (*MODEL_VIEWS, "delete", "history")


# --- the operations ---------------------------------------------------------------------------


def api_operations(urlconf: str | None = None) -> list[str]:
    """``"GET /api/v1/branches/{branch}/"``: every operation of the OpenAPI document."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return [
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        for method in methods
        if method != "parameters"
    ]


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _is_drf(pattern: URLPattern) -> bool:
    from rest_framework.views import APIView

    view = getattr(pattern.callback, "cls", None)
    return isinstance(view, type) and issubclass(view, APIView)


def admin_model_views() -> list[str]:
    """``"ontology.objecttype changelist"``: list, add and change pages of each admin model."""
    return [
        f"{model._meta.label_lower} {view}"
        for model in admin.site._registry
        for view in MODEL_VIEWS
    ]


def other_routes(urlconf: str | None = None) -> list[str]:
    """Named routes that are neither API operations (the DRF views under ``/api/v1/``: in
    the OpenAPI document) nor the admin's standard pages: ``"versioning_diff"``,
    ``"health-ready"``, ``"/"``."""
    standard = {
        f"{model._meta.app_label}_{model._meta.model_name}_{suffix}"
        for model in admin.site._registry
        for suffix in MODEL_ROUTE_SUFFIXES
    } | ADMIN_SITE_ROUTES
    found = []
    for route, pattern in _walk(get_resolver(urlconf).url_patterns):
        if _is_drf(pattern) and route.startswith("api/v1/"):
            continue  # an API operation: in the OpenAPI document
        if route.startswith("admin/") and (pattern.name is None or pattern.name in standard):
            continue  # the admin's catch-all, or a standard page of a model or of the site
        found.append(pattern.name or f"/{route}")
    return found


# --- answers ----------------------------------------------------------------------------------


def api_outcome(answer) -> str:
    """``ok`` (past every permission check: 2xx/3xx, or a 4xx about the request itself),
    or the refusal: ``401``, ``403``, ``404``. A 5xx is never an outcome."""
    assert answer.status_code < 500, (answer.status_code, answer.content[:500])
    if answer.status_code in (401, 403, 404):
        return str(answer.status_code)
    return "ok"


def admin_outcome(answer, view: str) -> str:
    """``login`` (sent to the login page), ``index`` (sent away to the admin's index, as
    django-guardian's pages do), ``403``, ``404``; a change or add page shown is ``edit``
    when it may be saved, ``view`` when it is read-only; any other answer ``ok`` (a page, or
    the redirect after a form was taken)."""
    assert answer.status_code < 500, (answer.status_code, answer.content[:500])
    if answer.status_code == 302 and "/admin/login/" in answer["Location"]:
        return "login"
    if answer.status_code == 302 and answer["Location"] == "/admin/":
        return "index"
    if answer.status_code in (401, 403, 404):
        return str(answer.status_code)
    if view in ("change", "add") and answer.status_code == 200:
        context = answer.context_data
        # Django's pages say whether they may be saved (a page of the project's own that
        # does not say is read-only); the release page says whether it may cut a release
        if view == "change":
            may_save = context.get("has_change_permission")
        else:
            may_save = context.get("has_add_permission", context.get("can_release", True))
        return "edit" if may_save else "view"
    return "ok"


def rolled_back(call):
    """Run ``call()`` and undo whatever it wrote (a savepoint, not ``atomic``: the write
    services that must be outermost — ``durable`` — refuse to run inside ``atomic``)."""
    savepoint = transaction.savepoint()
    try:
        return call()
    finally:
        transaction.savepoint_rollback(savepoint)


#: values of the query parameters an operation requires
QUERY_VALUES = {"from": "main", "to": "dev"}


def required_query(operation: str) -> dict[str, str]:
    """The required query parameters of ``operation`` with values of the fixture (a new
    required parameter without a value in :data:`QUERY_VALUES` fails, naming it)."""
    from drf_spectacular.generators import SchemaGenerator

    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    method, path = operation.split(" ", 1)
    parameters = _SCHEMA["paths"][path][method.lower()].get("parameters", [])
    names = [p["name"] for p in parameters if p["in"] == "query" and p.get("required")]
    missing = [n for n in names if n not in QUERY_VALUES]
    assert not missing, f"{operation}: give the required {missing} a value in QUERY_VALUES"
    return {n: QUERY_VALUES[n] for n in names}


_SCHEMA = None


def admin_objects() -> dict[str, object]:
    """A row's pk for each admin model (on ``dev`` for the branch-scoped ones)."""
    found = {}
    for model in admin.site._registry:
        rows = model._default_manager.all()
        if any(f.name == "branch" and f.is_relation for f in model._meta.fields):
            rows = rows.filter(branch__name="dev")
        row = rows.order_by("pk").first()
        assert row is not None, f"the matrix's world has no {model._meta.label} row"
        found[model._meta.label_lower] = row.pk
    return found
