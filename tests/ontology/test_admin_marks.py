"""Branch awareness in the ontology lists: on a branch, rows it changed against main are
marked (uncommitted, or committed but not on main yet), children through their parent;
main's lists have no such column."""

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

    select(admin_client, dev)
    response = admin_client.get(reverse("admin:ontology_objecttype_changelist"))
    html = response.content.decode()
    assert "On this branch" in html
    shown = marks(response)
    assert "uncommitted" in shown["Type0"] and "oms-badge-warn" in shown["Type0"]
    assert ">changed<" in shown["Type1"] and "oms-badge-info" in shown["Type1"]
    assert shown["Type2"] == ""
    assert html.count(">uncommitted<") == 1 and html.count(">changed<") == 1

    properties = marks(admin_client.get(reverse("admin:ontology_property_changelist")))
    type0 = [mark for name, mark in properties.items() if name.startswith("Type0.")]
    assert type0 and all("in a changed object type: uncommitted" in m for m in type0)
    assert all(m == "" for n, m in properties.items() if n.startswith("Type2."))

    select(admin_client, main)
    response = admin_client.get(reverse("admin:ontology_objecttype_changelist"))
    assert "On this branch" not in response.content.decode()
