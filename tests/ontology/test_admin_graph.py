"""The ontology graph page: the selected branch's object types as boxes and link types as
arrows, drawn as SVG on the server, changed entities highlighted, every box a link."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ontology.admin.graph import Edge, Node, layout, render_svg
from tests.versioning.support import edit, seed_main
from tests.versioning.test_admin_pages import login, select, staff_steward
from versioning import services

pytestmark = pytest.mark.django_db


def test_the_graph_draws_the_branch_and_marks_what_changed_against_main(client):
    seed_main(3)
    alice = staff_steward("alice")
    dev = services.create_branch("dev", "main", alice)
    edit(dev, "Type1", description="committed change")
    services.commit_changes(dev, alice, "x")
    edit(dev, "Type2", description="uncommitted change")
    login(client, alice)
    select(client, "dev")
    response = client.get(reverse("admin:ontology_graph"))
    assert response.status_code == 200
    svg = response.content.decode().split('<svg class="oms-graph"')[1].split("</svg>")[0]
    boxes = dict(re.findall(r'<a href="([^"]+)" class="oms-graph-node[^"]*"><title>(\w+)', svg))
    assert sorted(boxes.values()) == ["Type0", "Type1", "Type2"]
    changed = re.findall(r'class="oms-graph-node oms-graph-changed"><title>(\w+)', svg)
    assert sorted(changed) == ["Type1", "Type2"]
    assert "typeLink" in svg and 'marker-end="url(#oms-arrow)"' in svg
    assert all(url.startswith("/admin/ontology/objecttype/") for url in boxes)
    assert "<script" not in response.content.decode().split('id="oms-graph"')[1].split("</div>")[0]

    select(client, "main")
    svg = client.get(reverse("admin:ontology_graph")).content.decode()
    assert "oms-graph-changed" not in svg.split('<svg class="oms-graph"')[1]


def test_graph_texts_are_escaped_and_boxes_do_not_overlap():
    nodes = [Node(str(i), f"<T{i}>", f"/x/{i}") for i in range(10)]
    at = layout(nodes)
    assert len(set(at.values())) == 10
    svg = render_svg(nodes, [Edge("0", "1", "a&b", "/l"), Edge("2", "2", "self", "/s")])
    assert "&lt;T0&gt;" in svg and "a&amp;b" in svg and "<T0>" not in svg
