"""Which branch a person is working on in the admin: kept in their session.

Versioning owns the notion of a selected branch; the ontology admin (and the versioning
pages) read it from here, so nothing in versioning needs to import the ontology.
"""

from __future__ import annotations

from django.http import HttpRequest

from .models import MAIN_BRANCH, Branch

SESSION_KEY = "oms_admin_branch"


def current_branch(request: HttpRequest) -> Branch:
    """The branch the admin shows and edits for this request (``main`` by default)."""
    cached = getattr(request, "_oms_branch", None)
    if cached is not None:
        return cached
    name = request.session.get(SESSION_KEY, MAIN_BRANCH) if hasattr(request, "session") else None
    branch = Branch.objects.filter(name=name or MAIN_BRANCH).first()
    if branch is None:
        branch = Branch.objects.get(name=MAIN_BRANCH)
    request._oms_branch = branch
    return branch


def select_branch(request: HttpRequest, branch: Branch) -> None:
    request.session[SESSION_KEY] = branch.name
    request._oms_branch = branch
