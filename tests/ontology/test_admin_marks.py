"""Branch awareness in the ontology lists: on a branch, rows it changed against main are
marked (uncommitted, or committed but not on main yet); a list with no changed row, and
main's lists, have no such column."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.versioning.support import edit, seed_main
from versioning import services

from .test_admin import select

pytestmark = pytest.mark.django_db


def marks(response) -> dict[str, str]:
    """The rows of a list page by their first column, with their mark."""
    cl = response.context["cl"]
    admin = cl.model_admin
    return {str(row): admin.branch_mark(row) for row in cl.result_list}


def test_rows_the_branch_changed_are_marked_in_the_lists(admin_client):
    main = seed_main(3)
    dev = services.create_branch("dev", "main", None)
    edit(dev, "Type1", display_name="Committed on dev")
    services.commit_changes(dev, None, "dev's commit", system=True)
    edit(dev, "Type0", display_name="Not committed yet")
    edit(main, "Type2", display_name="Changed on main")  # main moves on meanwhile
    services.commit_changes(main, None, "main's change", system=True)

    select(admin_client, dev)
    response = admin_client.get(reverse("admin:ontology_objecttype_changelist"))
    html = response.content.decode()
    assert 'class="column-branch_mark"' in html
    shown = marks(response)
    assert ">uncommitted<" in shown["Type0"] and "oms-badge-warn" in shown["Type0"]
    assert ">changed<" in shown["Type1"] and "oms-badge-info" in shown["Type1"]
    assert shown["Type2"] == ""  # changed on main, not on the branch
    assert html.count(">uncommitted<") == 1 and html.count(">changed<") == 1

    untouched = admin_client.get(reverse("admin:ontology_linktype_changelist"))
    assert 'class="column-branch_mark"' not in untouched.content.decode()

    select(admin_client, main)
    response = admin_client.get(reverse("admin:ontology_objecttype_changelist"))
    assert 'class="column-branch_mark"' not in response.content.decode()
