"""The ontology as a picture: object types as boxes, link types as arrows between them,
drawn as SVG on the server (no script, no CDN). Entities changed against ``main`` (committed
or not) are highlighted; every box and arrow label links to its admin page. Every text is
escaped (``format_html``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from versioning import services
from versioning.models import MAIN_BRANCH

from ..models import LinkType, ObjectType

BOX_W, BOX_H = 150, 34
GAP_X, GAP_Y = 70, 70
MARGIN = 20
MAX_COLUMNS = 6


@dataclass(frozen=True)
class Node:
    key: str  # rid
    label: str
    url: str
    changed: bool = False


@dataclass(frozen=True)
class Edge:
    source: str  # rid
    target: str
    label: str
    url: str
    changed: bool = False


def layout(nodes: list[Node]) -> dict[str, tuple[int, int]]:
    """Top-left corner of each box in a grid of at most MAX_COLUMNS columns, in the given
    order (the caller sorts)."""
    columns = max(1, min(MAX_COLUMNS, math.ceil(math.sqrt(len(nodes)))))
    return {
        node.key: (
            MARGIN + (i % columns) * (BOX_W + GAP_X),
            MARGIN + (i // columns) * (BOX_H + GAP_Y),
        )
        for i, node in enumerate(nodes)
    }


def _anchor(box: tuple[int, int], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre towards a point leaves the box."""
    cx, cy = box[0] + BOX_W / 2, box[1] + BOX_H / 2
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (BOX_W / 2) / abs(dx) if dx else math.inf,
        (BOX_H / 2) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def _edge(edge: Edge, at: dict[str, tuple[int, int]], index: int) -> SafeString:
    a, b = at[edge.source], at[edge.target]
    css = "oms-graph-edge" + (" oms-graph-changed" if edge.changed else "")
    if edge.source == edge.target:  # a link from a type to itself: a loop above the box
        x, y = a[0] + BOX_W - 20, a[1]
        path = f"M{x},{y} c 0,-30 30,-30 30,0"
        lx, ly = x + 15, y - 26
    else:
        ca = (a[0] + BOX_W / 2, a[1] + BOX_H / 2)
        cb = (b[0] + BOX_W / 2, b[1] + BOX_H / 2)
        (x1, y1), (x2, y2) = _anchor(a, cb), _anchor(b, ca)
        path = f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"
        # labels of parallel links would overlap: nudge each a little along the line
        t = 0.5 + 0.12 * ((index % 3) - 1)
        lx, ly = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t - 4
    return format_html(
        '<g class="{}"><path d="{}" marker-end="url(#oms-arrow)"/>'
        '<a href="{}"><text x="{}" y="{}" text-anchor="middle">{}</text></a></g>',
        css,
        path,
        edge.url,
        f"{lx:.1f}",
        f"{ly:.1f}",
        edge.label,
    )


def _node(node: Node, at: dict[str, tuple[int, int]]) -> SafeString:
    x, y = at[node.key]
    css = "oms-graph-node" + (" oms-graph-changed" if node.changed else "")
    label = node.label if len(node.label) <= 20 else node.label[:19] + "…"
    return format_html(
        '<a href="{}" class="{}"><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" '
        'rx="6"/><text x="{}" y="{}" text-anchor="middle">{}</text></a>',
        node.url,
        css,
        node.label,
        x,
        y,
        BOX_W,
        BOX_H,
        x + BOX_W / 2,
        y + BOX_H / 2 + 4,
        label,
    )


def render_svg(nodes: list[Node], edges: Iterable[Edge]) -> SafeString:
    at = layout(nodes)
    edges = [e for e in edges if e.source in at and e.target in at]
    columns = max(1, min(MAX_COLUMNS, math.ceil(math.sqrt(len(nodes) or 1))))
    rows = math.ceil(len(nodes) / columns) if nodes else 1
    width = 2 * MARGIN + columns * BOX_W + (columns - 1) * GAP_X
    height = 2 * MARGIN + rows * BOX_H + (rows - 1) * GAP_Y + 20
    marker = mark_safe(  # a constant
        '<defs><marker id="oms-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="oms-graph-arrow"/></marker></defs>'
    )
    return format_html(
        '<svg class="oms-graph" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="group" aria-label="Ontology graph">{}{}{}</svg>',
        width,
        height,
        width,
        height,
        marker,
        format_html_join("", "{}", ((_edge(e, at, i),) for i, e in enumerate(edges))),
        format_html_join("", "{}", ((_node(n, at),) for n in nodes)),
    )


def graph_of(
    object_types: Iterable, link_types: Iterable, changed: set[str], url: Callable[[object], str]
) -> SafeString:
    """The SVG of a branch's object types and link types (rows), ``changed`` rids marked."""
    nodes = [
        Node(str(ot.rid), ot.api_name, url(ot), str(ot.rid) in changed)
        for ot in sorted(object_types, key=lambda o: o.api_name.lower())
    ]
    edges = [
        Edge(
            str(lt.source.rid),
            str(lt.target.rid),
            lt.api_name,
            url(lt),
            str(lt.rid) in changed,
        )
        for lt in link_types
        if lt.source_id and lt.target_id  # a link to an interface has no single box to join
    ]
    return render_svg(nodes, edges)


def changed_against_main(branch) -> set[str]:
    """Rids of the entities ``branch`` changed against main: committed (main's head to the
    branch's head) and not yet committed."""
    changed = {c.rid for c in services.changes(branch).changes}
    if branch.name != MAIN_BRANCH and branch.head_id:
        changed |= {c.rid for c in services.diff(MAIN_BRANCH, branch.name).changes}
    return changed


def _admin_url(row) -> str:
    return reverse(f"admin:ontology_{row._meta.model_name}_change", args=[row.pk])


def branch_graph(branch) -> SafeString:
    return graph_of(
        ObjectType.objects.filter(branch=branch).only("pk", "rid", "api_name"),
        LinkType.objects.filter(branch=branch).select_related("source", "target"),
        changed_against_main(branch),
        _admin_url,
    )
