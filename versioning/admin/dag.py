"""The commit DAG as a server-side SVG picture for the admin's history page.

Commits are drawn newest first, one row each. Lanes are assigned the way ``git log
--graph`` does: a commit takes the leftmost lane that was waiting for it, its first parent
continues in that lane (so a first-parent line stays in one lane), and a merge parent gets
the lane already waiting for it or a new one. An edge runs down the lane that waited for
its parent and bends into the parent's lane on the parent's row; an edge to a commit below
the window ends in a stub at the bottom. Every text is escaped (``format_html``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import services
from ..models import Branch, Commit, Release

ROW = 30
LANE = 20
TOP = 18
RADIUS = 6
CHAR = 7.0  # approximate width of one 12px character, for label pills
COLOURS = ("#417690", "#e0a800", "#2e8540", "#b3261e", "#7b4fa6", "#0b7f86", "#c0561c", "#5a6b7b")


@dataclass
class Placed:
    commit: Commit
    row: int
    lane: int
    #: (parent id, lane that carries the edge)
    edges: list[tuple[str, int]] = field(default_factory=list)


def recent_commits(tips: Iterable[str], limit: int) -> list[Commit]:
    """The ``limit`` newest commits reachable from ``tips``, newest first.

    Walks first-parent lines with :func:`versioning.services.history` (one query per
    line) and follows merge parents; a line older than the window is not read.
    """
    found: dict[str, Commit] = {}
    queue = [t for t in dict.fromkeys(tips) if t]
    while queue:
        start = queue.pop(0)
        if start in found:
            continue
        if len(found) >= limit:
            floor = sorted(c.generation for c in found.values())[-limit]
            generation = Commit.objects.filter(id=start).values_list("generation", flat=True)
            if all(g < floor for g in generation):
                continue
        for commit in services.history(start, limit=limit):
            if commit.id in found:
                break
            found[commit.id] = commit
            if commit.merge_parent_id and commit.merge_parent_id not in found:
                queue.append(commit.merge_parent_id)
    ordered = sorted(found.values(), key=lambda c: (-c.generation, -c.created_at.timestamp()))
    return ordered[:limit]


def layout(commits: Sequence[Commit]) -> tuple[list[Placed], int]:
    """Rows and lanes for ``commits`` (newest first); returns the placements and lane count."""
    lanes: list[str | None] = []
    placed: list[Placed] = []
    for row, commit in enumerate(commits):
        waiting = [i for i, want in enumerate(lanes) if want == commit.id]
        if waiting:
            lane = waiting[0]
            for other in waiting[1:]:
                lanes[other] = None
        else:
            lane = _free_lane(lanes)
        node = Placed(commit, row, lane)
        parents = commit.parent_ids
        lanes[lane] = parents[0] if parents else None
        if parents:
            node.edges.append((parents[0], lane))
        for parent in parents[1:]:
            carrier = next((i for i, want in enumerate(lanes) if want == parent), None)
            if carrier is None:
                carrier = _free_lane(lanes)
                lanes[carrier] = parent
            node.edges.append((parent, carrier))
        placed.append(node)
    width = max([p.lane for p in placed] + [i for i, w in enumerate(lanes) if w] + [0]) + 1
    return placed, width


def _free_lane(lanes: list[str | None]) -> int:
    for i, want in enumerate(lanes):
        if want is None:
            return i
    lanes.append(None)
    return len(lanes) - 1


def _x(lane: int) -> float:
    return 12 + lane * LANE


def _y(row: int) -> float:
    return TOP + row * ROW


def _edge_path(x1: float, y1: float, carrier: float, x2: float, y2: float) -> str:
    """Down from (x1, y1): bend into the carrier lane within one row, run down it, bend into
    the parent's lane within the last row."""
    parts = [f"M{x1:g},{y1:g}"]
    y = y1
    if carrier != x1:
        parts.append(f"C{x1:g},{y + ROW / 2:g} {carrier:g},{y + ROW / 2:g} {carrier:g},{y + ROW:g}")
        y += ROW
    if carrier != x2:
        if y2 - ROW > y:
            parts.append(f"L{carrier:g},{y2 - ROW:g}")
            y = y2 - ROW
        parts.append(f"C{carrier:g},{y + (y2 - y) / 2:g} {x2:g},{y + (y2 - y) / 2:g} {x2:g},{y2:g}")
    else:
        parts.append(f"L{x2:g},{y2:g}")
    return " ".join(parts)


def render_svg(
    commits: Sequence[Commit],
    link: Callable[[Commit], str],
    labels: dict[str, list[tuple[str, str]]] | None = None,
    *,
    width: int = 980,
) -> SafeString:
    """The picture: one row per commit (a node linking to ``link(commit)``, its branch
    labels, short id, first line of the message, author and date)."""
    labels = labels or {}
    placed, lanes = layout(commits)
    rows = {p.commit.id: p for p in placed}
    height = TOP + max(len(placed), 1) * ROW
    text_x = _x(lanes) + 8
    edges: list[SafeString] = []
    nodes: list[SafeString] = []
    for node in placed:
        x1, y1 = _x(node.lane), _y(node.row)
        for parent, carrier in node.edges:
            target = rows.get(parent)
            colour = COLOURS[carrier % len(COLOURS)]
            if target is None:
                d = _edge_path(x1, y1, _x(carrier), _x(carrier), height)
            else:
                d = _edge_path(x1, y1, _x(carrier), _x(target.lane), _y(target.row))
            edges.append(format_html('<path d="{}" stroke="{}" class="oms-dag-edge"/>', d, colour))
        nodes.append(_node(node, x1, y1, text_x, link(node.commit), labels.get(node.commit.id)))
    return format_html(
        '<svg class="oms-dag" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="group" aria-label="Commit graph">{}{}</svg>',
        width,
        height,
        width,
        height,
        _join(edges),
        _join(nodes),
    )


def _node(
    node: Placed,
    x: float,
    y: float,
    text_x: float,
    href: str,
    names: list[tuple[str, str]] | None,
) -> SafeString:
    commit = node.commit
    colour = COLOURS[node.lane % len(COLOURS)]
    first_line = (commit.message.splitlines() or [""])[0]
    shown = first_line if len(first_line) <= 72 else first_line[:71] + "…"
    pills: list[SafeString] = []
    cursor = text_x
    for name, css in names or []:
        w = len(name) * CHAR + 12
        pills.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="16" rx="8" class="{}"/>'
                '<text x="{}" y="{}" class="oms-dag-ref-text">{}</text>',
                f"{cursor:g}",
                f"{y - 8:g}",
                f"{w:g}",
                css,
                f"{cursor + 6:g}",
                f"{y + 4:g}",
                name,
            )
        )
        cursor += w + 6
    merge = commit.merge_parent_id is not None
    return format_html(
        '<a href="{}" class="oms-dag-node"><title>{}</title>'
        '<rect x="0" y="{}" width="100%" height="{}" class="oms-dag-row"/>'
        '<circle cx="{}" cy="{}" r="{}" fill="{}" class="{}"/>{}'
        '<text x="{}" y="{}"><tspan class="oms-dag-id">{}</tspan>'
        '<tspan dx="10" class="oms-dag-msg">{}</tspan>'
        '<tspan dx="10" class="oms-dag-meta">{} · {}</tspan></text></a>',
        href,
        commit.message,
        f"{y - ROW / 2:g}",
        ROW,
        f"{x:g}",
        f"{y:g}",
        RADIUS,
        colour,
        "oms-dag-merge" if merge else "oms-dag-commit",
        _join(pills),
        f"{cursor:g}",
        f"{y + 4:g}",
        commit.id[:10],
        shown,
        commit.author_name or "system",
        commit.created_at.strftime("%Y-%m-%d %H:%M"),
    )


def _join(parts: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def ref_labels(ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Commit id -> (label, css class) of the branches whose head it is and of the
    releases that tag it."""
    ids = list(ids)
    out: dict[str, list[tuple[str, str]]] = {}
    for name, head in Branch.objects.filter(head_id__in=ids).values_list("name", "head_id"):
        out.setdefault(head, []).append((name, "oms-dag-ref"))
    for version, commit in Release.objects.filter(commit_id__in=ids).values_list(
        "version", "commit_id"
    ):
        out.setdefault(commit, []).append((f"v{version}", "oms-dag-tag"))
    return out
