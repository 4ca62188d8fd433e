"""Who may do what: the expectation table of the permission matrix (issue 12).

Every API operation, admin page and other route that ``tests/protection/matrix.py`` finds
in the URL conf has one entry here, naming a policy; a policy is one outcome per principal
(``matrix.PRINCIPALS``). A new endpoint fails ``test_permission_matrix`` until it is
entered here, with the policy its permission rule means — write the row from the rule
(``versioning/permissions.py``, the role groups of ``ensure_admin``), not from a run.

Outcomes: ``ok`` (past every permission check), ``401``, ``403``, ``404``; on admin pages
``login`` (sent to log in), ``index`` (sent back to the admin's index), ``edit`` (a form
that may be saved), ``view`` (the same page, read-only).

The grant is django-guardian's per-branch ``edit_branch``, ``merge_branch``,
``release_branch``, ``change_branch`` and ``delete_branch`` on ``dev`` and ``main``.
"""

from __future__ import annotations

from tests.protection.matrix import PRINCIPALS


def _row(anonymous, viewer, viewer_grant, editor, editor_grant, steward, admin):
    return dict(
        zip(
            PRINCIPALS,
            (anonymous, viewer, viewer_grant, editor, editor_grant, steward, admin),
            strict=True,
        )
    )


POLICIES = {
    # --- API ---
    # no account needed: logging in, the event catalogue, the API's own schema and docs
    "public": _row("ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    # any account: every read, and one's own API token
    "signed_in": _row("401", "ok", "ok", "ok", "ok", "ok", "ok"),
    # a model permission the editor role has (add_branch, add_proposal)
    "editor": _row("401", "403", "403", "ok", "ok", "ok", "ok"),
    # the grant alone is enough: change/delete a branch, discard its changes (edit_branch),
    # merge into it, resolve a proposal's conflicts (merge_branch), release (release_branch)
    "branch_grant": _row("401", "403", "ok", "403", "ok", "ok", "ok"),
    # an editor's model permission AND the right to edit the branch: ontology writes,
    # commits, revert, bundle import, update from target
    "edit_branch": _row("401", "403", "403", "403", "ok", "ok", "ok"),
    # stewards: consumers, approving, closing others' proposals
    "steward": _row("401", "403", "403", "403", "403", "ok", "ok"),
    # the operations token or network, never a role
    "ops": _row("401", "401", "401", "401", "401", "401", "401"),
    # --- admin pages ---
    "admin_list": _row("login", "ok", "ok", "ok", "ok", "ok", "ok"),
    "admin_list_steward": _row("login", "403", "403", "403", "403", "ok", "ok"),
    "admin_list_admin": _row("login", "403", "403", "403", "403", "403", "ok"),
    "admin_form_admin": _row("login", "403", "403", "403", "403", "403", "edit"),
    "admin_form_steward": _row("login", "403", "403", "403", "403", "edit", "edit"),
    "admin_view_steward_edit": _row("login", "view", "view", "view", "view", "edit", "edit"),
    "admin_read_only": _row("login", "view", "view", "view", "view", "view", "view"),
    "admin_nobody": _row("login", "403", "403", "403", "403", "403", "403"),
    "admin_add_editor": _row("login", "403", "403", "edit", "edit", "edit", "edit"),
    "admin_branch_grant": _row("login", "view", "edit", "view", "edit", "edit", "edit"),
    "admin_add_edit_branch": _row("login", "403", "403", "403", "edit", "edit", "edit"),
    "admin_change_edit_branch": _row("login", "view", "view", "view", "edit", "edit", "edit"),
    "admin_post_branch_grant": _row("login", "403", "ok", "403", "ok", "ok", "ok"),
    "admin_post_edit_branch": _row("login", "403", "403", "403", "ok", "ok", "ok"),
    # a proposal's discussion: the author, add_proposal (editors) or approve_proposal
    "admin_post_editor": _row("login", "403", "403", "ok", "ok", "ok", "ok"),
    # django-guardian's grant pages: stewards (change_branch model-wide)
    "admin_grants": _row("login", "index", "index", "index", "index", "ok", "ok"),
    "to_admin_index": _row("index", "index", "index", "index", "index", "index", "index"),
}


def outcomes(policy: str) -> dict[str, str]:
    return POLICIES[policy]


_KINDS = (
    "interfaces",
    "link-types",
    "object-types",
    "shared-properties",
    "struct-types",
    "value-types",
)

API = {
    "GET /api/v1/auth/api-token/": "signed_in",
    "POST /api/v1/auth/api-token/": "signed_in",
    "DELETE /api/v1/auth/api-token/": "signed_in",
    "POST /api/v1/auth/logout/": "public",
    "POST /api/v1/auth/token/": "public",
    "POST /api/v1/auth/token/refresh/": "public",
    "POST /api/v1/auth/token/verify/": "public",
    "GET /api/v1/branches/": "signed_in",
    "POST /api/v1/branches/": "editor",
    "GET /api/v1/branches/{branch}/": "signed_in",
    "PATCH /api/v1/branches/{branch}/": "branch_grant",
    "DELETE /api/v1/branches/{branch}/": "branch_grant",
    "POST /api/v1/branches/{branch}/bundle/": "edit_branch",
    "GET /api/v1/branches/{branch}/changes/": "signed_in",
    "POST /api/v1/branches/{branch}/changes/discard/": "branch_grant",
    "GET /api/v1/branches/{branch}/commits/": "signed_in",
    "POST /api/v1/branches/{branch}/commits/": "edit_branch",
    "GET /api/v1/branches/{branch}/entities/{rid}/history/": "signed_in",
    "POST /api/v1/branches/{branch}/revert/": "edit_branch",
    # PII findings (issue 12): anyone signed in reads them; confirming flags the property
    # PII (an ontology write); dismissing, remembered on every branch, needs view_pii
    "GET /api/v1/branches/{branch}/pii-findings/": "signed_in",
    "POST /api/v1/branches/{branch}/pii-findings/{entity}/confirm/": "edit_branch",
    "POST /api/v1/branches/{branch}/pii-findings/{entity}/dismiss/": "steward",
    **{
        operation: policy
        for kind in _KINDS
        for operation, policy in {
            f"GET /api/v1/branches/{{branch}}/{kind}/": "signed_in",
            f"POST /api/v1/branches/{{branch}}/{kind}/": "edit_branch",
            f"GET /api/v1/branches/{{branch}}/{kind}/{{api_name}}/": "signed_in",
            f"PUT /api/v1/branches/{{branch}}/{kind}/{{api_name}}/": "edit_branch",
            f"PATCH /api/v1/branches/{{branch}}/{kind}/{{api_name}}/": "edit_branch",
            f"DELETE /api/v1/branches/{{branch}}/{kind}/{{api_name}}/": "edit_branch",
        }.items()
    },
    "GET /api/v1/commits/{commit}/": "signed_in",
    "GET /api/v1/compatibility/": "signed_in",
    "GET /api/v1/consumers/": "signed_in",
    "POST /api/v1/consumers/": "steward",
    "GET /api/v1/consumers/{name}/": "signed_in",
    "PATCH /api/v1/consumers/{name}/": "steward",
    "DELETE /api/v1/consumers/{name}/": "steward",
    "GET /api/v1/diff/": "signed_in",
    "GET /api/v1/events/": "signed_in",
    "GET /api/v1/events/schemas/": "public",
    "GET /api/v1/events/schemas/{type}": "public",
    "GET /api/v1/proposals/": "signed_in",
    "POST /api/v1/proposals/": "editor",
    "GET /api/v1/proposals/{id}/": "signed_in",
    "POST /api/v1/proposals/{id}/": "steward",  # close: its author, or change_proposal
    "POST /api/v1/proposals/{id}/approve/": "steward",
    "GET /api/v1/proposals/{id}/dry-run/": "signed_in",
    "POST /api/v1/proposals/{id}/merge/": "branch_grant",
    "POST /api/v1/proposals/{id}/resolve/": "branch_grant",
    "POST /api/v1/proposals/{id}/update-from-target/": "edit_branch",
    "GET /api/v1/refs/{ref}/bundle/": "signed_in",
    "GET /api/v1/refs/{ref}/documents/": "signed_in",
    "GET /api/v1/refs/{ref}/documents/{rid}/": "signed_in",
    "GET /api/v1/refs/{ref}/openapi.json": "signed_in",
    "GET /api/v1/refs/{ref}/schema.graphql": "signed_in",
    "GET /api/v1/refs/{ref}/schema.json": "signed_in",
    "GET /api/v1/releases/": "signed_in",
    "POST /api/v1/releases/": "branch_grant",
    "GET /api/v1/releases/{version}/": "signed_in",
}


def _model(label: str, changelist: str, add: str, change: str) -> dict[str, str]:
    return {f"{label} changelist": changelist, f"{label} add": add, f"{label} change": change}


_ONTOLOGY = (
    "objecttype",
    "property",
    "linktype",
    "valuetype",
    "structtype",
    "structfield",
    "sharedproperty",
    "interface",
    "interfacelinkconstraint",
)
_SCHEDULES = (
    "periodictask",
    "clockedschedule",
    "crontabschedule",
    "solarschedule",
    "intervalschedule",
)

ADMIN_MODELS = {
    # users, groups, schedules and login records: the admin role only
    **_model("auth.group", "admin_list_admin", "admin_form_admin", "admin_form_admin"),
    **_model("auth.user", "admin_list_admin", "admin_form_admin", "admin_form_admin"),
    **{
        entry: policy
        for name in _SCHEDULES
        for entry, policy in _model(
            f"django_celery_beat.{name}", "admin_list_admin", "admin_form_admin", "admin_form_admin"
        ).items()
    },
    # axes records attempts; nobody adds one by hand
    **{
        entry: policy
        for name in ("accessattempt", "accesslog", "accessfailurelog")
        for entry, policy in _model(
            f"axes.{name}", "admin_list_admin", "admin_nobody", "admin_form_admin"
        ).items()
    },
    **_model(
        "token_blacklist.outstandingtoken", "admin_list_admin", "admin_nobody", "admin_form_admin"
    ),
    **_model(
        "token_blacklist.blacklistedtoken",
        "admin_list_admin",
        "admin_form_admin",
        "admin_form_admin",
    ),
    # other users' API tokens: stewards (the README says so)
    **_model(
        "authtoken.tokenproxy", "admin_list_steward", "admin_form_steward", "admin_form_steward"
    ),
    # events: read by every role; deliveries, dead letters and webhooks managed by stewards;
    # outbox rows, deliveries and dead letters are never added by hand
    **_model("events.outboxevent", "admin_list", "admin_nobody", "admin_read_only"),
    **_model("events.delivery", "admin_list", "admin_nobody", "admin_view_steward_edit"),
    **_model("events.deadletter", "admin_list", "admin_nobody", "admin_view_steward_edit"),
    **_model(
        "events.webhooksubscription",
        "admin_list",
        "admin_form_steward",
        "admin_view_steward_edit",
    ),
    # versioning: branches by editors (a grant to change one), commits and releases are
    # immutable, the release page cuts with the grant, proposals act through their buttons
    **_model("versioning.branch", "admin_list", "admin_add_editor", "admin_branch_grant"),
    **_model("versioning.commit", "admin_list", "admin_nobody", "admin_read_only"),
    **_model("versioning.consumer", "admin_list", "admin_form_steward", "admin_view_steward_edit"),
    **_model("versioning.proposal", "admin_list", "admin_add_editor", "admin_read_only"),
    **_model("versioning.release", "admin_list", "admin_branch_grant", "admin_read_only"),
    # the ontology on the selected branch (dev): editors with the right to edit it
    **{
        entry: policy
        for name in _ONTOLOGY
        for entry, policy in _model(
            f"ontology.{name}",
            "admin_list",
            "admin_add_edit_branch",
            "admin_change_edit_branch",
        ).items()
    },
}

OTHER_ROUTES = {
    "/": "to_admin_index",
    "oms-select-branch": "admin_list",
    "oms-overdue-deprecations": "admin_list",
    "oms-search": "admin_list",
    "auth_user_password_change": "admin_list_admin",
    "versioning_branch_permissions": "admin_grants",
    "versioning_branch_permissions_manage_user": "admin_grants",
    "versioning_branch_permissions_manage_group": "admin_grants",
    "versioning_changes": "admin_list",
    "versioning_discard": "admin_post_branch_grant",
    "versioning_history": "admin_list",
    "versioning_diff": "admin_list",
    "versioning_revert": "admin_post_edit_branch",
    "versioning_proposal_resolve": "admin_post_branch_grant",
    "versioning_proposal_act": "admin_post_branch_grant",  # merge: merge_branch on main
    "versioning_proposal_comment": "admin_post_editor",
    "ontology_graph": "admin_list",
    "schema": "public",
    "swagger-ui": "public",
    "health-live": "public",
    "health-ready": "ops",
    "prometheus-django-metrics": "ops",
}
